/**
 * The parameters of a classification, their defaults and their checks. Shared by the API
 * (`classify`), the writer (`runClassification`), the CLI and the server.
 */
import { checkInt, checkNumber } from '../errors.js';
import { DEFAULT_DIAMETER_FRACTION, defaultWorkingBox } from './preprocess.js';

/** Clustering methods (SPEC §1–2). */
export const CLASSIFY_METHODS = ['ack', 'kmeans', 'spider', 'eqk'] as const;
/** Pipelines (SPEC §3). */
export const PIPELINES = ['mra', 'msa', 'rfa'] as const;

/** What the caller may set; everything but `k` has a default (see {@link resolveParams}). */
export interface ClassifyParams {
  /** Number of classes. */
  k: number;
  /** Clustering method (default `'ack'`). */
  method?: 'ack' | 'kmeans' | 'spider' | 'eqk';
  /** Pipeline (default `'mra'`). */
  pipeline?: 'mra' | 'msa' | 'rfa';
  /** ACK-means constraint weight β (default 0.5). */
  beta?: number;
  /** Stop when at most this fraction of images changes class (default 0.01). */
  sigma0?: number;
  /** Iteration cap (default 30). */
  maxIter?: number;
  /** Seed of every random choice (default 0). */
  seed?: number;
  /** Worker threads (default: all cores; results do not depend on it). */
  threads?: number;
  /** Particle diameter in Å (default 0.8 · box · pixel size). */
  diameter?: number;
  /** Working box in pixels (default: the input box up to 96 px, otherwise 64). */
  box?: number;
  /** Largest shift searched, in working-box pixels (default 2). */
  shiftRange?: number;
  /** Shift grid step in working-box pixels (default 1). */
  shiftStep?: number;
  /** Search mirrored images too (default true). */
  mirror?: boolean;
  /** Invert the contrast before normalising (default false). */
  invert?: boolean;
  /** Phase-flip each image with its CTF (default: true when the input has CTF parameters). */
  phaseFlip?: boolean;
  /**
   * Finest detail used to align, in Å (default 25): alignment ignores frequencies above
   * 1/alignResolution (at most Nyquist), which keeps noise from steering it.
   */
  alignResolution?: number;
  /**
   * MRA with ACK-means: use the round-1 engine, every image aligned to every class in every
   * iteration (default false: the scale engine, src/pipeline/scale.ts). Other methods and
   * pipelines always use the exhaustive engine.
   */
  exhaustive?: boolean;
  /** Scale engine: candidate classes per image after the coarse stage (default 12). */
  shortlist?: number;
}

/** Every parameter resolved for a given input. */
export interface ResolvedParams extends Required<Omit<ClassifyParams, 'threads'>> {
  threads?: number;
  /** Pixel size of the working box in Å. */
  workingPixelSize: number;
  /** Particle radius in working-box pixels. */
  radius: number;
}

/** Defaults that do not depend on the input. */
export const CLASSIFY_DEFAULTS = {
  method: 'ack',
  pipeline: 'mra',
  beta: 0.5,
  sigma0: 0.01,
  maxIter: 30,
  seed: 0,
  shiftRange: 2,
  shiftStep: 1,
  mirror: true,
  invert: false,
  alignResolution: 25,
  exhaustive: false,
  shortlist: 12,
} as const;

function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !choices.includes(value as T))
    throw new RangeError(`${name} must be one of ${choices.join(', ')}, got ${String(value)}`);
  return value as T;
}

function checkBool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return value;
}

/** The finest shift step accepted, in working pixels: finer grids multiply the work by 1/step² for nothing. */
export const MIN_SHIFT_STEP = 0.25;

/**
 * Checks `params` against an input of `count` particles of `box` pixels at `pixelSize` Å and
 * fills the defaults. Throws a RangeError/TypeError naming the parameter.
 */
export function resolveParams(
  params: ClassifyParams,
  input: { count: number; box: number; pixelSize: number; hasCtf: boolean },
): ResolvedParams {
  if (typeof params !== 'object' || params === null) throw new TypeError('params must be an object');
  const k = checkInt('k', params.k, 1);
  if (k > input.count)
    throw new RangeError(`k (${k}) must not exceed the number of usable particles (${input.count})`);
  const d = { ...CLASSIFY_DEFAULTS };
  const box = checkInt('box', params.box ?? defaultWorkingBox(input.box), 8, input.box);
  const workingPixelSize = (input.pixelSize * input.box) / box;
  const diameter = checkNumber(
    'diameter',
    params.diameter ?? DEFAULT_DIAMETER_FRACTION * input.box * input.pixelSize,
    Number.MIN_VALUE,
  );
  const radius = diameter / 2 / workingPixelSize;
  if (radius < 2)
    throw new RangeError(`diameter (${diameter} Å) is under 4 working pixels (${workingPixelSize} Å each)`);
  const shiftRange = checkNumber('shiftRange', params.shiftRange ?? d.shiftRange, 0, box / 4);
  const shiftStep = checkNumber(
    'shiftStep',
    params.shiftStep ?? d.shiftStep,
    Number.MIN_VALUE,
    Math.max(1, shiftRange),
  );
  if (shiftStep < MIN_SHIFT_STEP)
    throw new RangeError(
      `shiftStep (${shiftStep} working pixels) must be at least ${MIN_SHIFT_STEP}: each alignment would try ${Math.round((d.shiftStep / shiftStep) ** 2)}× as many shifts as with step ${d.shiftStep}, for no better alignment`,
    );
  return {
    k,
    method: checkChoice('method', params.method ?? d.method, CLASSIFY_METHODS),
    pipeline: checkChoice('pipeline', params.pipeline ?? d.pipeline, PIPELINES),
    beta: checkNumber('beta', params.beta ?? d.beta, 0),
    sigma0: checkNumber('sigma0', params.sigma0 ?? d.sigma0, 0, 1),
    maxIter: checkInt('maxIter', params.maxIter ?? d.maxIter, 1, 10000),
    seed: checkInt('seed', params.seed ?? d.seed, -Number.MAX_SAFE_INTEGER),
    ...(params.threads === undefined ? {} : { threads: checkInt('threads', params.threads, 1, 1024) }),
    diameter,
    box,
    shiftRange,
    shiftStep,
    mirror: checkBool('mirror', params.mirror ?? d.mirror),
    invert: checkBool('invert', params.invert ?? d.invert),
    phaseFlip: checkBool('phaseFlip', params.phaseFlip ?? input.hasCtf),
    alignResolution: checkNumber(
      'alignResolution',
      params.alignResolution ?? d.alignResolution,
      Number.MIN_VALUE,
    ),
    exhaustive: checkBool('exhaustive', params.exhaustive ?? d.exhaustive),
    shortlist: checkInt('shortlist', params.shortlist ?? d.shortlist, 1, 4096),
    workingPixelSize,
    radius,
  };
}
