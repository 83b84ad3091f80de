/**
 * `simulate`: the paper's simulated benchmark (SPEC §7) — projections of a map at views spread
 * about centre directions on a half sphere, random in-plane rotations and shifts, a CTF per
 * image, Gaussian noise at a chosen SNR, optional phase flipping — written as a RELION 3.1
 * particle set (`particles.mrcs` + `particles.star` carrying the true poses, CTFs and view ids).
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { applyCtf, phaseFlip as flipPhases, type CtfBatch } from '../ctf.js';
import {
  AckmeansError,
  checkCallback,
  checkFloat32Array,
  checkInt,
  checkNumber,
  checkSignal,
  throwIfAborted,
} from '../errors.js';
import { createStackWriter, readMrc, StarBlock, StarFile, writeStar } from '../io/index.js';
import { outputStackPath } from '../io/stack-references.js';
import { type JobOptions, type Progress, resolveThreads } from '../job.js';
import { Rng } from '../random.js';
import { addGaussianNoise, meanImageVariance } from './noise.js';
import { phantom } from './phantom.js';
import { project } from './project.js';
import { sampleViews, type SimulatedViews } from './views.js';

/** A map given in memory. */
export interface SimulationMap {
  /** size³ values, [z][y][x]. */
  volume: Float32Array;
  size: number;
  /** Å per voxel. */
  pixelSize?: number;
}

/** Options of {@link simulate}. Defaults follow the paper's benchmark where it has one. */
export interface SimulateOptions extends JobOptions {
  /** An MRC map file, or a map in memory. Default: the built-in {@link phantom} (64³). */
  map?: string | SimulationMap;
  /** Å per pixel; overrides the map's. Required when the map has none. Default for the phantom: 3. */
  pixelSize?: number;
  /** Number of images (default 10,000). */
  n?: number;
  /** Number of centre directions on the half sphere (default 100). */
  views?: number;
  /** Angular σ of the Gaussian spread of directions about each centre, degrees (default 5). */
  spreadDeg?: number;
  /** Signal variance / noise variance (default 0.1; Infinity for no noise). */
  snr?: number;
  /** Defocus range [min, max] in Å, drawn uniformly per image (default [10000, 30000]). */
  defocus?: [number, number];
  /** Astigmatism |U − V| in Å (default 0); its angle is uniform in [0, 180). */
  astigmatism?: number;
  /** kV (default 300). */
  voltage?: number;
  /** Spherical aberration, mm (default 2.7). */
  cs?: number;
  /** Amplitude contrast (default 0.1). */
  amplitudeContrast?: number;
  /** Largest shift along x and y in pixels; shifts are uniform in [−max, max] (default 0). */
  maxShiftPx?: number;
  /** Phase-flip the noisy images with their true CTFs (default false). */
  phaseFlip?: boolean;
  /** Output box in pixels (default: the map's edge). */
  box?: number;
  /** Seed of every random choice (default 1). */
  seed?: number;
}

/** What {@link simulate} wrote and the figures it used. */
export interface SimulateResult {
  stack: string;
  star: string;
  n: number;
  box: number;
  pixelSize: number;
  /** Signal variance: the mean over images of the variance (whole box) of the CTF-modulated projections. */
  signalVariance: number;
  /** σ of the added noise: √(signalVariance / snr) (0 without noise). */
  noiseSigma: number;
}

/** A simulation input that cannot be used (code `ERR_SIM_MAP` or `ERR_SIM_PIXEL_SIZE`). */
export class SimulationError extends AckmeansError {
  constructor(code: string, message: string, file?: string) {
    super(code, message, file === undefined ? undefined : { file });
    this.name = 'SimulationError';
  }
}

/** Images projected, filtered and written at a time (bounds memory for any n). */
const CHUNK = 1024;
/** Images used to measure the signal variance (evenly spaced through the set). */
const PILOT = 256;

interface Resolved {
  volume: Float32Array;
  size: number;
  pixelSize: number;
}

async function resolveMap(map: SimulateOptions['map'], pixelSize: number | undefined): Promise<Resolved> {
  if (map === undefined) return { volume: phantom(64), size: 64, pixelSize: pixelSize ?? 3 };
  if (typeof map === 'string') {
    const m = await readMrc(map);
    if (m.nx !== m.ny || m.ny !== m.nz)
      throw new SimulationError(
        'ERR_SIM_MAP',
        `${basename(map)}: the map is ${m.nx}×${m.ny}×${m.nz}, not a cube`,
        map,
      );
    const px = pixelSize ?? m.pixelSize;
    if (px === undefined || !(px > 0))
      throw new SimulationError(
        'ERR_SIM_PIXEL_SIZE',
        `${basename(map)}: the header has no pixel size; give one with --pixel-size (pixelSize in the API)`,
        map,
      );
    return { volume: m.data, size: m.nx, pixelSize: px };
  }
  if (typeof map !== 'object' || map === null)
    throw new TypeError('map must be a file path or { volume, size }');
  checkFloat32Array('map.volume', map.volume);
  const size = checkInt('map.size', map.size, 1, 2048);
  if (map.volume.length !== size ** 3)
    throw new RangeError(`map.volume has ${map.volume.length} values, expected size³ = ${size ** 3}`);
  const px = pixelSize ?? map.pixelSize;
  if (px === undefined) throw new RangeError('pixelSize is required for a map given in memory without one');
  return { volume: map.volume, size, pixelSize: px };
}

interface Plan {
  n: number;
  box: number;
  snr: number;
  defocus: [number, number];
  astigmatism: number;
  voltage: number;
  cs: number;
  amplitudeContrast: number;
  maxShiftPx: number;
  phaseFlip: boolean;
  views: number;
  spreadDeg: number;
  seed: number;
}

/** The options checked; `box` is 0 when it is to be the map's edge (known only after reading it). */
function checkOptions(o: SimulateOptions): Plan {
  const n = checkInt('n', o.n ?? 10000, 1, 1e8);
  const defocus = o.defocus ?? [10000, 30000];
  if (!Array.isArray(defocus) || defocus.length !== 2) throw new TypeError('defocus must be [min, max] in Å');
  checkNumber('defocus min', defocus[0], 0, 1e6);
  checkNumber('defocus max', defocus[1], defocus[0], 1e6);
  const snr = o.snr ?? 0.1;
  if (typeof snr !== 'number' || !(snr > 0))
    throw new RangeError(`snr must be > 0 (Infinity for no noise), got ${snr}`);
  const astigmatism = checkNumber('astigmatism', o.astigmatism ?? 0, 0, 1e5);
  if (astigmatism / 2 > defocus[0])
    throw new RangeError(
      `astigmatism/2 (${astigmatism / 2}) must not exceed the smallest defocus (${defocus[0]})`,
    );
  return {
    n,
    box: o.box === undefined ? 0 : checkInt('box', o.box, 2, 4096),
    snr,
    defocus: [defocus[0], defocus[1]],
    astigmatism,
    voltage: checkNumber('voltage', o.voltage ?? 300, 1, 3000),
    cs: checkNumber('cs', o.cs ?? 2.7, 0, 100),
    amplitudeContrast: checkNumber('amplitudeContrast', o.amplitudeContrast ?? 0.1, 0, 0.999),
    maxShiftPx: checkNumber('maxShiftPx', o.maxShiftPx ?? 0, 0, 1e4),
    phaseFlip: o.phaseFlip ?? false,
    views: checkInt('views', o.views ?? 100, 1, n),
    spreadDeg: checkNumber('spreadDeg', o.spreadDeg ?? 5, 0, 180),
    seed: checkInt('seed', o.seed ?? 1, 0, 2 ** 32 - 1),
  };
}

/** Per-image poses, shifts (Å) and CTFs, all drawn up front from independent streams of one seed. */
interface Particles extends SimulatedViews {
  originX: Float64Array;
  originY: Float64Array;
  ctf: CtfBatch & { defocusU: Float64Array; defocusV: Float64Array; defocusAngle: Float64Array };
}

/** Independent random streams of one seed: poses, shifts, CTFs and noise. */
function streams(seed: number) {
  const root = new Rng(seed);
  return { views: root.fork(), shifts: root.fork(), ctf: root.fork(), noise: root.fork() };
}

function drawParticles(plan: Plan, pixelSize: number, rngs: ReturnType<typeof streams>): Particles {
  const { views: viewRng, shifts: shiftRng, ctf: ctfRng } = rngs;
  const { n } = plan;
  const views = sampleViews(n, plan.views, plan.spreadDeg, viewRng);
  const originX = new Float64Array(n);
  const originY = new Float64Array(n);
  const defocusU = new Float64Array(n);
  const defocusV = new Float64Array(n);
  const defocusAngle = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    originX[i] = shiftRng.uniform(-plan.maxShiftPx, plan.maxShiftPx) * pixelSize;
    originY[i] = shiftRng.uniform(-plan.maxShiftPx, plan.maxShiftPx) * pixelSize;
    const d = ctfRng.uniform(plan.defocus[0], plan.defocus[1]);
    defocusU[i] = d + plan.astigmatism / 2;
    defocusV[i] = d - plan.astigmatism / 2;
    defocusAngle[i] = plan.astigmatism > 0 ? ctfRng.uniform(0, 180) : 0;
  }
  const ctf = {
    defocusU,
    defocusV,
    defocusAngle,
    voltage: plan.voltage,
    cs: plan.cs,
    amplitudeContrast: plan.amplitudeContrast,
  };
  return { ...views, originX, originY, ctf };
}

/** Rows [from, to) of every per-image array of `p`. */
function slice(p: Particles, from: number, to: number) {
  return {
    angles: { rot: p.rot.subarray(from, to), tilt: p.tilt.subarray(from, to), psi: p.psi.subarray(from, to) },
    originXAngst: p.originX.subarray(from, to),
    originYAngst: p.originY.subarray(from, to),
    ctf: {
      ...p.ctf,
      defocusU: p.ctf.defocusU.subarray(from, to),
      defocusV: p.ctf.defocusV.subarray(from, to),
      defocusAngle: p.ctf.defocusAngle.subarray(from, to),
    },
  };
}

function starFile(p: Particles, plan: Plan, pixelSize: number, stackName: string): StarFile {
  const optics = StarBlock.fromColumns('optics', {
    rlnOpticsGroupName: ['opticsGroup1'],
    rlnOpticsGroup: [1],
    rlnImagePixelSize: [pixelSize],
    rlnImageSize: [plan.box],
    rlnImageDimensionality: [2],
    rlnVoltage: [plan.voltage],
    rlnSphericalAberration: [plan.cs],
    rlnAmplitudeContrast: [plan.amplitudeContrast],
  });
  const n = plan.n;
  const particles = StarBlock.fromColumns('particles', {
    rlnImageName: Array.from({ length: n }, (_, i) => `${String(i + 1).padStart(6, '0')}@${stackName}`),
    rlnAngleRot: p.rot,
    rlnAngleTilt: p.tilt,
    rlnAnglePsi: p.psi,
    rlnOriginXAngst: p.originX,
    rlnOriginYAngst: p.originY,
    rlnDefocusU: p.ctf.defocusU,
    rlnDefocusV: p.ctf.defocusV,
    rlnDefocusAngle: p.ctf.defocusAngle,
    rlnPhaseShift: new Float64Array(n),
    rlnOpticsGroup: new Float64Array(n).fill(1),
    // 1-based index of the centre direction. RELION 3.1 keeps unknown labels ("will ignore (but
    // maintain)"), whereas _rlnGroupNumber would change its refinement's noise/scale groups.
    ackmeansViewId: Float64Array.from(p.viewId, (v) => v + 1),
  });
  optics.version = '# version 30001';
  particles.version = '# version 30001';
  return new StarFile([optics, particles]);
}

/**
 * Simulates a particle set and writes `particles.mrcs` and `particles.star` (RELION 3.1) in
 * `outDir` (created if needed; both files appear atomically).
 *
 * Per image: project the map at the drawn pose and origin ({@link project}); multiply by its CTF
 * ({@link applyCtf}); add white Gaussian noise of variance S/snr, where S is the mean over images
 * of the whole-box variance of the CTF-modulated projections, measured once on 256 evenly spaced
 * images of the set (so every image gets the same noise level, as on a detector); optionally
 * phase-flip with the true CTF. Image i belongs to centre ⌊i·views/n⌋. Same seed, same files,
 * for any thread count.
 */
export async function simulate(options: SimulateOptions, outDir: string): Promise<SimulateResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof outDir !== 'string' || outDir === '') throw new TypeError('outDir must be a directory path');
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  if (options.pixelSize !== undefined) checkNumber('pixelSize', options.pixelSize, 1e-3, 1e4);
  const plan = checkOptions(options); // before reading the map: argument errors come first
  const map = await resolveMap(options.map, options.pixelSize);
  if (plan.box === 0) plan.box = map.size;
  const { pixelSize } = map;
  const rngs = streams(plan.seed);
  const particles = drawParticles(plan, pixelSize, rngs);
  const job = { threads, signal, pixelSize, box: plan.box };
  const pixels = plan.box * plan.box;

  const clean = async (from: number, to: number, indices?: Int32Array): Promise<Float32Array> => {
    const s = slice(indices ? pick(particles, indices) : particles, from, to);
    const proj = await project(map.volume, map.size, s.angles, {
      ...job,
      originXAngst: s.originXAngst,
      originYAngst: s.originYAngst,
    });
    return applyCtf(proj, plan.box, pixelSize, s.ctf, job);
  };

  const pilotIdx = Int32Array.from({ length: Math.min(PILOT, plan.n) }, (_, j) =>
    Math.floor((j * plan.n) / Math.min(PILOT, plan.n)),
  );
  const signalVariance = meanImageVariance(await clean(0, pilotIdx.length, pilotIdx), pixels);
  const noiseSigma = Number.isFinite(plan.snr) ? Math.sqrt(signalVariance / plan.snr) : 0;

  await mkdir(outDir, { recursive: true });
  const stackPath = join(outDir, 'particles.mrcs');
  const starPath = join(outDir, 'particles.star');
  const writer = await createStackWriter(stackPath, {
    nx: plan.box,
    ny: plan.box,
    pixelSize,
    labels: ['ackmeans simulate'],
  });
  try {
    for (let from = 0; from < plan.n; from += CHUNK) {
      throwIfAborted(signal);
      const to = Math.min(plan.n, from + CHUNK);
      let images = await clean(from, to);
      addGaussianNoise(images, noiseSigma, rngs.noise);
      if (plan.phaseFlip)
        images = await flipPhases(images, plan.box, pixelSize, slice(particles, from, to).ctf, job);
      await writer.append(images);
      onProgress?.({ done: to, total: plan.n, fraction: to / plan.n });
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  // named as RELION does: resolvable from the current folder (src/io/stack-references.ts)
  await writeStar(starPath, starFile(particles, plan, pixelSize, outputStackPath(stackPath)));
  return {
    stack: stackPath,
    star: starPath,
    n: plan.n,
    box: plan.box,
    pixelSize,
    signalVariance,
    noiseSigma,
  };
}

/** The particles at `indices`, as a new set. */
function pick(p: Particles, idx: Int32Array): Particles {
  const take = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]);
  return {
    rot: take(p.rot),
    tilt: take(p.tilt),
    psi: take(p.psi),
    viewId: Int32Array.from(idx, (i) => p.viewId[i]),
    originX: take(p.originX),
    originY: take(p.originY),
    ctf: {
      ...p.ctf,
      defocusU: take(p.ctf.defocusU),
      defocusV: take(p.ctf.defocusV),
      defocusAngle: take(p.ctf.defocusAngle),
    },
  };
}
