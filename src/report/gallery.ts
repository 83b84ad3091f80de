/**
 * The class gallery of report.html: one tile per class average (labelled with its class number,
 * size, resolution and score; rejected classes marked), sortable by score, size, resolution or
 * class number, and per class a panel with its score features, FRC curve and a few member
 * particles, shown when its tile is clicked.
 *
 * No script: the sort buttons are radio inputs that set each tile's CSS `order`, and a tile is a
 * link to its panel's `#class-N` anchor, shown by `:target` — so the page stays one
 * self-contained file, works with scripts off, and `report.html#class-7` opens on class 7.
 * Images are small PNG data URIs: tiles at most {@link TILE_MAX} px (block-averaged down), member
 * thumbnails {@link THUMB} px.
 */
import { PNG } from 'pngjs';
import { type Cell, escapeHtml, formatNumber, table } from './html.js';
import { tilePng } from './montage.js';

/** One feature of a class score, as src/pipeline/class-score.ts keeps it. */
export interface GalleryFeature {
  value: number;
  goodness: number;
  weight: number;
  contribution: number;
}

/** What the gallery knows of one class beyond its average and size. */
export interface ClassDetail {
  /** Score in [0, 1]. */
  score: number;
  accepted: boolean;
  /** Why the class scored low or was gated (empty for a clean pass). */
  reasons: readonly string[];
  /** The score's features by name. */
  features: Readonly<Record<string, GalleryFeature>>;
  /** FRC resolution in Å (non-finite: undetermined). */
  resolution: number;
  /** FRC of the even/odd halves per shell 0..box/2 (shell s: s/(box·pixelSize) Å⁻¹). */
  frc?: ArrayLike<number>;
  /** A few members, m·memberBox² values, aligned to the class. */
  members?: Float32Array;
  memberBox?: number;
}

/** Largest side of a tile image in the page, pixels. */
export const TILE_MAX = 128;
/** Side of a member thumbnail, pixels. */
export const THUMB = 64;

/** `image` (box²) block-averaged by the smallest integer factor that brings it to ≤ `max` px. */
export function shrink(image: Float32Array, box: number, max: number): { image: Float32Array; box: number } {
  const f = Math.ceil(box / max);
  if (f <= 1) return { image, box };
  const out = Math.floor(box / f);
  const res = new Float32Array(out * out);
  for (let y = 0; y < out; y++)
    for (let x = 0; x < out; x++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++)
        for (let dx = 0; dx < f; dx++) s += image[(y * f + dy) * box + x * f + dx];
      res[y * out + x] = s / (f * f);
    }
  return { image: res, box: out };
}

const dataUri = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;

/** A contrast-stretched PNG data URI of `image`, shrunk to ≤ `max` px. */
function imageUri(image: Float32Array, box: number, max: number): string {
  const s = shrink(image, box, max);
  return dataUri(tilePng(s.image, s.box));
}

/** A hatched placeholder PNG (an empty class). */
function emptyTile(): string {
  const side = 16;
  const png = new PNG({ width: side, height: side });
  for (let p = 0; p < side * side; p++) {
    const g = ((p % side) + Math.floor(p / side)) % 8 < 3 ? 200 : 240;
    png.data.set([g, g, g, 255], 4 * p);
  }
  return dataUri(PNG.sync.write(png));
}

/** Rank of each class (0 = first) under `key`, best first; ties by class number. */
function ranks(k: number, key: (j: number) => number): number[] {
  const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => key(a) - key(b) || a - b);
  const rank = new Array<number>(k);
  order.forEach((j, r) => (rank[j] = r));
  return rank;
}

/** An inline SVG of an FRC curve (FRC against spatial frequency) with the 0.143 threshold. */
export function frcSvg(frc: ArrayLike<number>, box: number, pixelSize: number, resolution: number): string {
  const w = 320;
  const h = 170;
  const left = 36;
  const bottom = 28;
  const pw = w - left - 18;
  const ph = h - bottom - 8;
  const shells = Math.min(frc.length, Math.floor(box / 2) + 1);
  const x = (s: number) => left + (pw * s) / Math.max(1, shells - 1);
  const y = (v: number) => 8 + ph * (1 - Math.max(-0.1, Math.min(1, v)) / 1);
  const points: string[] = [];
  for (let s = 1; s < shells; s++)
    if (Number.isFinite(frc[s])) points.push(`${x(s).toFixed(1)},${y(frc[s]).toFixed(1)}`);
  const nyquist = 2 * pixelSize;
  const tick = (s: number) => {
    const res = (box * pixelSize) / s;
    return `<line x1="${x(s)}" y1="${8 + ph}" x2="${x(s)}" y2="${12 + ph}" stroke="#555"/><text x="${x(s)}" y="${24 + ph}" text-anchor="middle">${formatNumber(Number(res.toPrecision(3)))}</text>`;
  };
  const ticks = [Math.round((shells - 1) / 4), Math.round((shells - 1) / 2), shells - 1].filter((s) => s > 0);
  return [
    `<svg class="frc" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-size="10" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect x="${left}" y="8" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ccc"/>`,
    `<line x1="${left}" x2="${left + pw}" y1="${y(0.143)}" y2="${y(0.143)}" stroke="#c33" stroke-dasharray="4 3"/>`,
    `<text x="${left + pw - 2}" y="${y(0.143) - 3}" text-anchor="end" fill="#c33">0.143</text>`,
    `<text x="${left - 4}" y="${y(1) + 4}" text-anchor="end">1</text><text x="${left - 4}" y="${y(0) + 4}" text-anchor="end">0</text>`,
    ...ticks.map(tick),
    `<text x="${left + pw / 2}" y="${h - 1}" text-anchor="middle">resolution (Å; Nyquist ${formatNumber(Number(nyquist.toPrecision(3)))} Å)</text>`,
    `<polyline fill="none" stroke="#1565c0" stroke-width="1.8" points="${points.join(' ')}"/>`,
    Number.isFinite(resolution)
      ? `<text x="${left + 4}" y="20" fill="#1565c0">FRC = 0.143 at ${formatNumber(Number(resolution.toPrecision(3)))} Å</text>`
      : '',
    '</svg>',
  ].join('');
}

/** Options of {@link galleryHtml}. */
export interface GalleryOptions {
  /** Pixel size of the averages in Å (for the FRC axis). */
  pixelSize?: number;
}

/**
 * The gallery's HTML (see the module documentation).
 * @param averages k·box² values, class j's average at offset j·box².
 * @param sizes members of each class.
 * @param details per class (k entries), or undefined: then tiles show class and size only.
 */
export function galleryHtml(
  averages: Float32Array,
  box: number,
  sizes: ArrayLike<number>,
  details?: readonly ClassDetail[],
  options: GalleryOptions = {},
): string {
  const k = sizes.length;
  if (details !== undefined && details.length !== k)
    throw new RangeError(`details has ${details.length} classes, expected ${k}`);
  const D = box * box;
  const empty = emptyTile();
  const res = (j: number) => details?.[j].resolution ?? NaN;
  const byScore = ranks(k, (j) => -(details?.[j].score ?? 0) - (details?.[j].accepted ? 1 : 0));
  const bySize = ranks(k, (j) => -sizes[j]);
  const byRes = ranks(k, (j) => (Number.isFinite(res(j)) ? res(j) : Infinity));
  const sorts = details
    ? [
        ['score', 'score'],
        ['size', 'size'],
        ['res', 'resolution'],
        ['class', 'class number'],
      ]
    : [
        ['class', 'class number'],
        ['size', 'size'],
      ];
  const radios = sorts
    .map(
      ([id, label], i) =>
        `<input type="radio" name="sort" id="sort-${id}"${i === 0 ? ' checked' : ''}><label for="sort-${id}">${label}</label>`,
    )
    .join('');
  const tiles: string[] = [];
  const panels: string[] = [];
  for (let j = 0; j < k; j++) {
    const d = details?.[j];
    const n = j + 1;
    const src = sizes[j] > 0 ? imageUri(averages.subarray(j * D, (j + 1) * D), box, TILE_MAX) : empty;
    const rejected = d !== undefined && !d.accepted;
    const resText = Number.isFinite(res(j)) ? `${res(j).toFixed(1)} Å` : '';
    const title = d
      ? `class ${n}: ${sizes[j]} particles, ${resText || 'resolution undetermined'}, score ${d.score.toFixed(2)}${rejected ? ` — rejected: ${d.reasons.join('; ')}` : ''}`
      : `class ${n}: ${sizes[j]} particles`;
    tiles.push(
      `<a class="tile${rejected ? ' rejected' : ''}" id="tile-${n}" href="#class-${n}" title="${escapeHtml(title)}" ` +
        `style="--by-score:${byScore[j]};--by-size:${bySize[j]};--by-res:${byRes[j]};--by-class:${j}">` +
        `<img src="${src}" alt="class ${n}">` +
        `<span class="t-num">${n}</span>` +
        (d ? `<span class="t-score">${d.score.toFixed(2)}</span>` : '') +
        `<span class="t-n">n=${sizes[j]}</span>` +
        (resText ? `<span class="t-res">${resText}</span>` : '') +
        (rejected ? '<span class="t-rej">✕ rejected</span>' : '') +
        '</a>',
    );
    if (!d) continue;
    const features = Object.entries(d.features);
    const rows: Cell[][] = features.map(([name, f]) => [name, f.value, f.goodness, f.weight, f.contribution]);
    rows.push(['score (Σ contributions)', undefined, undefined, 1, d.score]);
    const members =
      d.members && d.memberBox
        ? Array.from({ length: d.members.length / (d.memberBox * d.memberBox) }, (_, m) => {
            const M = d.memberBox! * d.memberBox!;
            return `<img class="member" src="${imageUri(d.members!.subarray(m * M, (m + 1) * M), d.memberBox!, THUMB)}" alt="member ${m + 1} of class ${n}">`;
          }).join('')
        : '';
    panels.push(
      `<div class="detail" id="class-${n}">` +
        `<h3>Class ${n}: ${d.accepted ? 'accepted' : 'rejected'} · ${sizes[j]} particles · ${resText || 'resolution undetermined'} · score ${d.score.toFixed(3)} <a href="#classes">back to the classes</a></h3>` +
        (d.reasons.length ? `<p class="reasons">${escapeHtml(d.reasons.join('; '))}</p>` : '') +
        '<div class="panel">' +
        `<img class="big" src="${src}" alt="class ${n}">` +
        (d.frc && options.pixelSize ? frcSvg(d.frc, box, options.pixelSize, d.resolution) : '') +
        '</div>' +
        table(['feature', 'value', 'goodness', 'weight', 'contribution'], rows) +
        (members ? `<p>A few members, aligned to the class:</p><div class="members">${members}</div>` : '') +
        '</div>',
    );
  }
  return (
    `<div class="gallery" id="classes"><div class="sort">sort by ${radios}` +
    `<div class="tiles">${tiles.join('')}</div></div>` +
    (details
      ? '<p class="hint">Click a class for its score features, FRC curve and a few members. Rejected classes are marked ✕.</p>'
      : '') +
    `<div class="details">${panels.join('\n')}</div></div>`
  );
}

/** The gallery's CSS (added to the report's style sheet). */
export const GALLERY_CSS = `
.gallery .sort input { position: absolute; opacity: 0; }
.gallery .sort label { display: inline-block; margin: 0 0.2em 0.6em; padding: 0.15em 0.7em; border: 1px solid #bbb;
  border-radius: 1em; cursor: pointer; font-size: 0.9em; }
.gallery .sort input:checked + label { background: #333; color: #fff; border-color: #333; }
.gallery .tiles { display: flex; flex-wrap: wrap; gap: 6px; background: #222; padding: 6px; }
.gallery .tile { position: relative; display: block; width: 128px; height: 128px; order: var(--by-class);
  color: #fff; text-decoration: none; font-size: 12px; font-weight: bold; text-shadow: 0 0 3px #000, 0 0 2px #000; }
.gallery .tile img { width: 100%; height: 100%; image-rendering: auto; display: block; }
.gallery .tile:hover { outline: 3px solid #4fc3f7; }
.gallery .tile span { position: absolute; }
.gallery .t-num { top: 3px; left: 5px; color: #ffd54a; font-size: 14px; }
.gallery .t-score { top: 3px; right: 5px; }
.gallery .t-n { bottom: 3px; left: 5px; }
.gallery .t-res { bottom: 3px; right: 5px; }
.gallery .tile.rejected img { opacity: 0.45; }
.gallery .tile.rejected { outline: 3px solid #e53935; outline-offset: -3px; }
.gallery .t-rej { top: 50%; left: 0; right: 0; text-align: center; color: #ff8a80; transform: translateY(-50%); }
#sort-score:checked ~ .tiles .tile { order: var(--by-score); }
#sort-size:checked ~ .tiles .tile { order: var(--by-size); }
#sort-res:checked ~ .tiles .tile { order: var(--by-res); }
#sort-class:checked ~ .tiles .tile { order: var(--by-class); }
.gallery .hint { color: #666; font-size: 0.9em; }
.gallery .detail { display: none; border: 1px solid #ddd; padding: 0.5em 1em; margin: 0.8em 0; }
.gallery .detail:target { display: block; }
.gallery .detail h3 { font-size: 1.05em; margin: 0.3em 0; }
.gallery .detail h3 a { font-weight: normal; font-size: 0.85em; margin-left: 1em; }
.gallery .reasons { color: #c62828; }
.gallery .panel { display: flex; gap: 1em; align-items: flex-start; flex-wrap: wrap; }
.gallery .panel .big { width: 170px; height: 170px; }
.gallery .members { display: flex; gap: 4px; flex-wrap: wrap; }
.gallery .member { width: ${THUMB}px; height: ${THUMB}px; }
`;
