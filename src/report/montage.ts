/**
 * A montage of class averages: one tile per class, each contrast-stretched on its own (0.5 and
 * 99.5 percentiles to black and white), labelled with its class number (1-based, as in files)
 * and its size, laid out in a grid and rendered to PNG.
 */
import { PNG } from 'pngjs';
import { checkFloat32Array, checkInt } from '../errors.js';
import { FONT_FAMILY, svgToPng } from './render.js';

/** Options of {@link montagePng}. */
export interface MontageOptions {
  /** Tiles per row (default: about √(1.5·k), at most 12). */
  columns?: number;
  /** Width of a tile on the PNG, pixels (default: the box, clamped to [96, 160]). */
  tile?: number;
}

/** An 8-bit greyscale PNG of one image, contrast-stretched; a constant image is mid-grey. */
export function tilePng(image: Float32Array, box: number): Buffer {
  const png = new PNG({ width: box, height: box });
  const [lo, hi] = stretchRange(image);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let p = 0; p < box * box; p++) {
    const g = scale === 0 ? 128 : Math.max(0, Math.min(255, Math.round((image[p] - lo) * scale)));
    png.data[4 * p] = g;
    png.data[4 * p + 1] = g;
    png.data[4 * p + 2] = g;
    png.data[4 * p + 3] = 255;
  }
  // 8-bit grey, no alpha: a quarter of the RGBA bytes (noisy tiles hardly compress)
  return PNG.sync.write(png, { colorType: 0 });
}

/** The 0.5 and 99.5 percentiles of the finite values of `image`. */
function stretchRange(image: Float32Array): [number, number] {
  const v = image.filter(Number.isFinite).sort();
  if (v.length === 0) return [0, 0];
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))];
  return [at(0.005), at(0.995)];
}

/**
 * The montage as an SVG document (the tiles embedded as PNG data URIs).
 *
 * @param averages k·box·box values, class j's average at offset j·box².
 * @param sizes the number of members of each class (k values); empty classes are drawn hatched.
 */
export function montageSvg(
  averages: Float32Array,
  box: number,
  sizes: ArrayLike<number>,
  options: MontageOptions = {},
): string {
  checkFloat32Array('classAverages', averages);
  checkInt('box', box, 1);
  const k = sizes.length;
  if (k === 0 || averages.length !== k * box * box)
    throw new RangeError(
      `classAverages has ${averages.length} values, expected ${k} classes × ${box}×${box} = ${k * box * box}`,
    );
  const columns = checkInt('columns', options.columns ?? Math.min(12, Math.ceil(Math.sqrt(1.5 * k))), 1);
  const tile = checkInt('tile', options.tile ?? Math.max(96, Math.min(160, box)), 16);
  const gap = 4;
  const rows = Math.ceil(k / columns);
  const width = columns * (tile + gap) + gap;
  const height = rows * (tile + gap) + gap;
  const font = Math.max(10, Math.round(tile / 9));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="8" stroke="#ccc" stroke-width="3"/></pattern></defs>`,
    `<rect width="${width}" height="${height}" fill="#222"/>`,
    `<g font-family="${FONT_FAMILY}" font-size="${font}" font-weight="bold" stroke="black" stroke-width="${font / 5}" paint-order="stroke" stroke-linejoin="round">`,
  ];
  for (let j = 0; j < k; j++) {
    const x = gap + (j % columns) * (tile + gap);
    const y = gap + Math.floor(j / columns) * (tile + gap);
    if (sizes[j] === 0) {
      parts.push(`<rect x="${x}" y="${y}" width="${tile}" height="${tile}" fill="url(#hatch)"/>`);
    } else {
      const png = tilePng(averages.subarray(j * box * box, (j + 1) * box * box), box);
      parts.push(
        `<image x="${x}" y="${y}" width="${tile}" height="${tile}" preserveAspectRatio="none" xlink:href="data:image/png;base64,${png.toString('base64')}"/>`,
      );
    }
    const pad = Math.round(font / 3);
    parts.push(`<text x="${x + pad}" y="${y + pad + font}" fill="#ffd54a">${j + 1}</text>`);
    parts.push(
      `<text x="${x + tile - pad}" y="${y + tile - pad}" text-anchor="end" fill="white">n=${sizes[j]}</text>`,
    );
  }
  parts.push('</g></svg>');
  return parts.join('\n');
}

/** The montage as PNG bytes (see {@link montageSvg}). */
export function montagePng(
  averages: Float32Array,
  box: number,
  sizes: ArrayLike<number>,
  options: MontageOptions = {},
): Buffer {
  return svgToPng(montageSvg(averages, box, sizes, options), 1);
}
