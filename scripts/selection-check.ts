/**
 * `scripts/selection-check.ts`: does `select --auto` keep the real particles and drop the junk,
 * and are the CTF-corrected class averages closer to the truth than phase-flipped ones (issue 15)?
 *
 * Builds a set with known answers: two molecules (β-galactosidase and the 80S ribosome from
 * ../shared/data/maps, both projected at 3.54 Å/px into 100 px boxes, CTF 1–3 µm, SNR 0.1) plus
 * junk — pure-noise images, carbon-edge-like steps at random angles and offsets, and particles
 * pushed 28–36 px off centre — classifies it, runs `select --auto` and prints the fraction of real
 * particles kept and of junk dropped (per kind). Then the same on the clean set (molecules only),
 * and, on the clean set's classes, the correlation inside the particle disc of the Wiener and the
 * phase-flipped averages (same poses, same kernel) with the average of the noise-free, CTF-free
 * projections under the same poses.
 *
 *   npx tsx scripts/selection-check.ts [--n 500] [--junk 150] [--k 16] [--seed 1] [--out DIR]
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ctfCorrectedAverages, type AverageCorrection } from '../src/align/average.js';
import { parseIntOption } from '../src/cli/common.js';
import { openParticles, readStar, writeMrc, writeStar } from '../src/io/index.js';
import { keptCtf } from '../src/pipeline/averages.js';
import { stackTable } from '../src/pipeline/outputs.js';
import { preprocessImages } from '../src/pipeline/preprocess.js';
import { runClassification } from '../src/pipeline/run.js';
import { classDecisions, selectAuto } from '../src/pipeline/select.js';
import { simulate } from '../src/sim/simulate.js';
import { isMain, parseOptions } from './lib/cli.js';

const MAPS =
  ['../../shared/data/maps/', '../../../shared/data/maps/']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../../shared/data/maps/', import.meta.url));

const BOX = 100;
const PIXEL = 3.54;
const SNR = 0.1;

type Kind = 'betagal' | 'ribosome80s' | 'noise' | 'edge' | 'offcentre';

interface Options {
  n: number;
  junk: number;
  k: number;
  seed: number;
  out: string;
}

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

interface Simulated {
  images: Float32Array;
  ctf: Float64Array[];
  noiseSigma: number;
  signalSd: number;
}

async function simulated(
  dir: string,
  map: string,
  n: number,
  seed: number,
  extra: Parameters<typeof simulate>[0] = {},
): Promise<Simulated> {
  const r = await simulate(
    { map: join(MAPS, map), pixelSize: PIXEL, box: BOX, n, views: 6, snr: SNR, seed, ...extra },
    dir,
  );
  const set = await openParticles(r.star);
  try {
    const images = await set.readBatch(0, set.count);
    const c = set.ctf!;
    return {
      images,
      ctf: [c.defocusU, c.defocusV, c.defocusAngle, c.voltage, c.cs, c.amplitudeContrast, c.phaseShift],
      noiseSigma: r.noiseSigma,
      signalSd: Math.sqrt(r.signalVariance),
    };
  } finally {
    await set.close();
  }
}

/** Image i of `src` translated by (dx, dy) pixels, the uncovered pixels filled with noise of σ. */
function offCentre(src: Float32Array, dx: number, dy: number, sigma: number, r: () => number): Float32Array {
  const out = new Float32Array(BOX * BOX);
  for (let y = 0; y < BOX; y++)
    for (let x = 0; x < BOX; x++) {
      const sx = x - dx;
      const sy = y - dy;
      out[y * BOX + x] =
        sx >= 0 && sy >= 0 && sx < BOX && sy < BOX ? src[sy * BOX + sx] : sigma * gaussian(r);
    }
  return out;
}

/** A carbon-edge-like image: a smooth step of height `step` across a random line, plus noise. */
function edge(step: number, sigma: number, r: () => number): Float32Array {
  const out = new Float32Array(BOX * BOX);
  const a = 2 * Math.PI * r();
  const d = (r() - 0.5) * BOX * 0.6;
  const c = BOX / 2;
  for (let y = 0; y < BOX; y++)
    for (let x = 0; x < BOX; x++) {
      const t = (x - c) * Math.cos(a) + (y - c) * Math.sin(a) - d;
      out[y * BOX + x] = step * Math.tanh(t / 3) + sigma * gaussian(r);
    }
  return out;
}

interface Mixed {
  star: string;
  kinds: Kind[];
  /** Noise-free, CTF-free projection of each image (real particles; undefined for junk). */
  truth: (Float32Array | undefined)[];
}

/** Writes the set (stack + RELION 3.1 STAR) in `dir`, images in a seeded random order. */
async function writeSet(
  dir: string,
  parts: { kind: Kind; image: Float32Array; ctf: number[]; truth?: Float32Array }[],
  seed: number,
): Promise<Mixed> {
  const r = rng(seed);
  const order = parts.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const n = parts.length;
  const stack = new Float32Array(n * BOX * BOX);
  const cols = Array.from({ length: 7 }, () => new Float64Array(n));
  order.forEach((src, i) => {
    stack.set(parts[src].image, i * BOX * BOX);
    parts[src].ctf.forEach((v, c) => (cols[c][i] = v));
  });
  await writeMrc(join(dir, 'particles.mrcs'), stack, {
    nx: BOX,
    ny: BOX,
    nz: n,
    pixelSize: PIXEL,
    stack: true,
  });
  const names = order.map((_, i) => `${String(i + 1).padStart(6, '0')}@particles.mrcs`);
  const [defocusU, defocusV, defocusAngle, voltage, cs, amplitudeContrast, phaseShift] = cols;
  const table = stackTable(names, BOX, PIXEL, {
    defocusU,
    defocusV,
    defocusAngle,
    voltage,
    cs,
    amplitudeContrast,
    phaseShift,
  });
  const star = join(dir, 'particles.star');
  await writeStar(star, table.star);
  return { star, kinds: order.map((s) => parts[s].kind), truth: order.map((s) => parts[s].truth) };
}

/** Builds the mixed (junk > 0) or clean set. */
async function buildSet(dir: string, o: Options, junk: number): Promise<Mixed> {
  await mkdir(dir, { recursive: true });
  const parts: { kind: Kind; image: Float32Array; ctf: number[]; truth?: Float32Array }[] = [];
  const D = BOX * BOX;
  let sigma = 1;
  let signalSd = 1;
  for (const [kind, map, seed] of [
    ['betagal', 'betagal.mrc', o.seed],
    ['ribosome80s', 'ribosome80s_4ug0.mrc', o.seed + 100],
  ] as const) {
    const noisy = await simulated(join(dir, `sim-${kind}`), map, o.n, seed);
    // the same views, shifts and defocus draws without noise or CTF (Cs 0, defocus 0: CTF ≡ Q0)
    const clean = await simulated(join(dir, `truth-${kind}`), map, o.n, seed, {
      snr: Infinity,
      defocus: [0, 0],
      cs: 0,
    });
    sigma = noisy.noiseSigma;
    signalSd = noisy.signalSd;
    for (let i = 0; i < o.n; i++)
      parts.push({
        kind,
        image: noisy.images.slice(i * D, (i + 1) * D),
        ctf: noisy.ctf.map((c) => c[i]),
        truth: clean.images.slice(i * D, (i + 1) * D),
      });
  }
  if (junk > 0) {
    const r = rng(o.seed + 7);
    const ctfOf = (): number[] => {
      const d = 10000 + 20000 * r();
      return [d, d, 0, 300, 2.7, 0.1, 0];
    };
    for (let i = 0; i < junk; i++) {
      const image = new Float32Array(D);
      for (let p = 0; p < D; p++) image[p] = sigma * gaussian(r);
      parts.push({ kind: 'noise', image, ctf: ctfOf() });
    }
    for (let i = 0; i < junk; i++)
      parts.push({ kind: 'edge', image: edge(3 * signalSd, sigma, r), ctf: ctfOf() });
    const off = await simulated(join(dir, 'sim-offcentre'), 'betagal.mrc', junk, o.seed + 200);
    for (let i = 0; i < junk; i++) {
      const a = 2 * Math.PI * r();
      const d = 28 + 8 * r();
      parts.push({
        kind: 'offcentre',
        image: offCentre(
          off.images.subarray(i * D, (i + 1) * D),
          Math.round(d * Math.cos(a)),
          Math.round(d * Math.sin(a)),
          sigma,
          r,
        ),
        ctf: off.ctf.map((c) => c[i]),
      });
    }
  }
  return writeSet(dir, parts, o.seed + 3);
}

/** 0-based particle index of each row of a STAR written from the set (from _rlnImageName). */
async function selectedIndices(star: string): Promise<number[]> {
  const file = await readStar(star);
  const block = file.block('particles') ?? file.blocks.find((b) => b.loop && b.has('rlnImageName'))!;
  return block.strings('rlnImageName')!.map((s) => Number(s.slice(0, s.indexOf('@'))) - 1);
}

/** Real particles and junk kept at one smallest score (the confusion figures). */
interface Confusion {
  minScore: number;
  realKept: number;
  realDropped: number;
  junkKept: number;
  junkDropped: number;
}

interface Figures {
  kept: Record<Kind, { total: number; kept: number }>;
  /** Per class: its members of each kind, score, decision and reasons (at the default). */
  classes: {
    class: number;
    kinds: Partial<Record<Kind, number>>;
    score: number;
    accepted: boolean;
    reasons: string[];
  }[];
  /** The confusion figures at several smallest scores (the default's choice). */
  sweep: Confusion[];
  realKept: number;
  junkDropped: number;
  accepted: number;
}

const REAL: Kind[] = ['betagal', 'ribosome80s'];

async function classifyAndSelect(dir: string, set: Mixed, o: Options): Promise<Figures> {
  const out = join(dir, 'run');
  await runClassification(set.star, out, { k: o.k, seed: o.seed, maxIter: 20 });
  const selected = join(dir, 'selected.star');
  const r = await selectAuto(join(out, 'run_data.star'), selected);
  const kept = new Set(await selectedIndices(selected));
  const stats = {} as Figures['kept'];
  set.kinds.forEach((kind, i) => {
    stats[kind] ??= { total: 0, kept: 0 };
    stats[kind].total++;
    if (kept.has(i)) stats[kind].kept++;
  });
  const sum = (kinds: Kind[], f: 'total' | 'kept') => kinds.reduce((a, k) => a + (stats[k]?.[f] ?? 0), 0);
  const junk: Kind[] = ['noise', 'edge', 'offcentre'];
  const junkTotal = sum(junk, 'total');
  // the kinds in each class, from run_data.star's class numbers
  const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
  const rows = data.strings('rlnImageName')!.map((s) => Number(s.slice(0, s.indexOf('@'))) - 1);
  const cls = data.numeric('rlnClassNumber')!;
  const kinds = r.decisions.map(() => ({}) as Partial<Record<Kind, number>>);
  rows.forEach((i, row) => {
    const k = kinds[cls[row] - 1];
    k[set.kinds[i]] = (k[set.kinds[i]] ?? 0) + 1;
  });
  const sweep: Confusion[] = [];
  for (const minScore of [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9]) {
    const c: Confusion = { minScore, realKept: 0, realDropped: 0, junkKept: 0, junkDropped: 0 };
    (await classDecisions(join(out, 'run_model.star'), minScore)).forEach((d, j) => {
      for (const [kind, m] of Object.entries(kinds[j]) as [Kind, number][]) {
        const real = REAL.includes(kind);
        if (real && d.accepted) c.realKept += m;
        else if (real) c.realDropped += m;
        else if (d.accepted) c.junkKept += m;
        else c.junkDropped += m;
      }
    });
    sweep.push(c);
  }
  return {
    kept: stats,
    classes: r.decisions.map((d, j) => ({
      class: d.class,
      kinds: kinds[j],
      score: d.score,
      accepted: d.accepted,
      reasons: d.reasons,
    })),
    sweep,
    realKept: sum(REAL, 'kept') / sum(REAL, 'total'),
    junkDropped: junkTotal ? 1 - sum(junk, 'kept') / junkTotal : NaN,
    accepted: r.decisions.filter((d) => d.accepted).length,
  };
}

/** Pearson correlation inside the disc of radius r. */
function discCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, r: number): number {
  const c = Math.floor(BOX / 2);
  const idx: number[] = [];
  for (let y = 0; y < BOX; y++)
    for (let x = 0; x < BOX; x++) if (Math.hypot(x - c, y - c) <= r) idx.push(y * BOX + x);
  const m = (v: ArrayLike<number>) => idx.reduce((s, i) => s + v[i], 0) / idx.length;
  const ma = m(a);
  const mb = m(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (const i of idx) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * On the clean run: the Wiener and phase-flipped averages (same poses) against the average of the
 * true projections under the same poses; the size-weighted mean correlation inside the disc.
 */
async function correctionCheck(
  dir: string,
  set: Mixed,
  o: Options,
): Promise<Record<AverageCorrection, number>> {
  const file = await readStar(join(dir, 'run', 'run_data.star'));
  const block = file.block('particles')!;
  const idx = block.strings('rlnImageName')!.map((s) => Number(s.slice(0, s.indexOf('@'))) - 1);
  const cls = block.numeric('rlnClassNumber')!;
  const n = idx.length;
  const poses = {
    psi: Float32Array.from(block.numeric('rlnAnglePsi')!),
    shiftX: Float32Array.from(block.numeric('rlnOriginXAngst')!, (v) => v / PIXEL),
    shiftY: Float32Array.from(block.numeric('rlnOriginYAngst')!, (v) => v / PIXEL),
    mirror: Uint8Array.from(block.numeric('ackMirror')!),
  };
  const assignment = Int32Array.from(cls, (c) => c - 1);
  const set2 = await openParticles(set.star);
  const D = BOX * BOX;
  const raw = await set2.readBatch(0, set2.count);
  const kept = Int32Array.from(idx);
  const ctf = keptCtf(
    { count: set2.count, box: BOX, pixelSize: PIXEL, ctf: set2.ctf!, readBatch: async () => raw },
    kept,
  )!;
  await set2.close();
  const radius = 0.4 * BOX;
  const images = new Float32Array(n * D);
  const truth = new Float32Array(n * D);
  idx.forEach((i, r) => {
    images.set(raw.subarray(i * D, (i + 1) * D), r * D);
    truth.set(set.truth[i]!, r * D);
  });
  const normalised = await preprocessImages(images, { box: BOX, outBox: BOX, radius, mask: false });
  const truthAvg = await ctfCorrectedAverages(truth, BOX, assignment, o.k, poses, {
    pixelSize: PIXEL,
    correction: 'none',
  });
  const out = {} as Record<AverageCorrection, number>;
  for (const correction of ['wiener', 'phase-flip'] as const) {
    const avg = await ctfCorrectedAverages(normalised, BOX, assignment, o.k, poses, {
      pixelSize: PIXEL,
      ctf,
      correction,
    });
    let s = 0;
    let w = 0;
    for (let j = 0; j < o.k; j++) {
      const m = avg.sizes[j];
      if (m < 2) continue;
      s +=
        m *
        discCorrelation(
          avg.averages.subarray(j * D, (j + 1) * D),
          truthAvg.averages.subarray(j * D, (j + 1) * D),
          radius,
        );
      w += m;
    }
    out[correction] = s / w;
  }
  return out;
}

const pct = (f: number) => `${(100 * f).toFixed(1)} %`;

/** The per-class composition and the confusion figures at each smallest score. */
function details(f: Figures): string[] {
  const lines = f.classes.map(
    (c) =>
      `  class ${String(c.class).padStart(2)}: ${Object.entries(c.kinds)
        .map(([k, m]) => `${k} ${m}`)
        .join(
          ', ',
        )}; score ${c.score.toFixed(3)} ${c.accepted ? 'accepted' : 'rejected'}${c.reasons.length ? ` (${c.reasons.join('; ')})` : ''}`,
  );
  lines.push('  min-score  real kept  real dropped  junk kept  junk dropped');
  for (const c of f.sweep)
    lines.push(
      `  ${c.minScore.toFixed(2).padStart(9)}  ${String(c.realKept).padStart(9)}  ${String(c.realDropped).padStart(12)}  ${String(c.junkKept).padStart(9)}  ${String(c.junkDropped).padStart(12)}`,
    );
  return lines;
}

export async function main(argv: readonly string[]): Promise<void> {
  const command = new Command('selection-check')
    .option('--n <count>', 'images per molecule', parseIntOption('--n'), 500)
    .option(
      '--junk <count>',
      'images of each junk kind (noise, edge, off-centre)',
      parseIntOption('--junk'),
      150,
    )
    .option('--k <count>', 'classes', parseIntOption('--k'), 16)
    .option('--seed <int>', 'seed', parseIntOption('--seed'), 1)
    .option('--out <dir>', 'work folder', 'selection-check');
  const o = parseOptions<Options>(command, argv);
  const root = resolve(o.out);
  const t0 = performance.now();
  const mixed = await buildSet(join(root, 'mixed'), o, o.junk);
  const m = await classifyAndSelect(join(root, 'mixed'), mixed, o);
  const clean = await buildSet(join(root, 'clean'), o, 0);
  const c = await classifyAndSelect(join(root, 'clean'), clean, o);
  const corr = await correctionCheck(join(root, 'clean'), clean, o);
  const lines = [
    `selection-check: ${o.n} images per molecule, ${o.junk} per junk kind, k = ${o.k}, seed ${o.seed}`,
    `mixed set: ${m.accepted}/${m.classes.length} classes accepted; real particles kept ${pct(m.realKept)} (target ≥ 97 %), junk dropped ${pct(m.junkDropped)} (target ≥ 95 %)`,
    ...Object.entries(m.kept).map(([k, v]) => `  ${k}: ${v.kept}/${v.total} kept`),
    ...details(m),
    `clean set: ${c.accepted}/${c.classes.length} classes accepted; particles kept ${pct(c.realKept)} (target ≥ 97 %)`,
    ...details(c),
    `class averages vs the true projections (clean set, correlation in the disc, size-weighted): Wiener ${corr.wiener.toFixed(3)}, phase-flipped ${corr['phase-flip'].toFixed(3)}`,
    `time ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
