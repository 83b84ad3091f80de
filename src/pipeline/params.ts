/**
 * The parameters of a classification: ONE table ({@link PARAMS}) gives each parameter's zod
 * schema (type and static checks), default, unit, help text and RELION alias. The API type
 * ({@link ClassifyParams}), the defaults ({@link CLASSIFY_DEFAULTS}), the API's checks
 * ({@link resolveParams}), the CLI's options (src/cli/classify.ts generates them from the table)
 * and the server's request schema ({@link paramsSchema}) all derive from it.
 *
 * Checks that depend on the input (k ≤ particles, box ≤ input box, shift range ≤ box/4, a
 * particle of at least 4 working pixels) are in {@link resolveParams}.
 */
import { z } from 'zod';
import { METHODS } from '../cluster/types.js';
import { DEFAULT_DIAMETER_FRACTION, defaultWorkingBox } from './preprocess.js';
import {
  DEFAULT_SHORTLIST,
  DEFAULT_SHORTLIST_REFRESH,
  KEEP_DRIFT,
  KEEP_SIGMA,
  KEPT_CANDIDATES,
  NEIGHBOUR_CLASSES,
} from './scale.js';

/** Clustering methods (SPEC §1–2). */
export const CLASSIFY_METHODS = METHODS;
/** Pipelines (SPEC §3). */
export const PIPELINES = ['mra', 'msa', 'rfa'] as const;

/** One parameter: its schema and what a person needs to set it. */
export interface ParamSpec<S extends z.ZodType = z.ZodType> {
  /** Type and the checks that do not depend on the input. */
  schema: S;
  /** One line for `--help` and the docs (no default, no range: those are added from the table). */
  help: string;
  /** Default when it does not depend on the input. */
  default?: z.output<S>;
  /** How the default is chosen when it depends on the input (help text). */
  defaultText?: string;
  /** Unit, shown as the option's value name (`<Å>`, `<px>`, …). */
  unit?: string;
  /** A one-letter CLI flag. */
  short?: string;
  /** RELION's option for the same thing (accepted as an alias by the CLI). */
  relion?: string;
  /** Booleans whose default is (or may be) true: the CLI flag is `--no-<name>` with this help. */
  negated?: string;
  /** With `negated`: offer `--<name>` too (it then says the default explicitly). */
  alsoPositive?: true;
  /** The parameter is required (only k). */
  required?: true;
}

const spec = <S extends z.ZodType, const X extends Omit<ParamSpec<S>, 'schema'>>(
  s: { schema: S } & X,
): { schema: S } & X => s;
const UINT32_MAX = 2 ** 32 - 1;

/**
 * Particles from which MRA + ACK-means runs the scale engine unless `exhaustive` is given: from
 * 2·10⁴ it was measured within 0.2° of the exhaustive engine or better (run to σ0 or the cap,
 * SNR 1/10 and 1/30; BENCHMARKS.md, "Scale engine").
 */
export const SCALE_ENGINE_MIN_PARTICLES = 20_000;
const MIN_TEXT = SCALE_ENGINE_MIN_PARTICLES.toLocaleString('en-US');

/** Particle-visits per class the scale engine spends before it may settle (`settleSigma`). */
export const VISITS_PER_CLASS = 4000;

/**
 * The scale engine's visit allowance for n particles and k classes: max(2, 1 + 4,000·k/n)
 * particle-visits per particle, some 4,000 per class for the references to settle and then one
 * pass to assign every image (the pattern of cryoSPARC's online EM: mini-batches of about 100
 * particles per class, then a final full pass). With `settleSigma` > 0 the engine stops past it
 * once at most that fraction of the images changed class in a full pass. Measured
 * (BENCHMARKS.md, "Scale engine"): 9 on 5·10⁴ × 100 at SNR 1/10, where `settleSigma` 0.05 stops
 * at 8.6 visits, 6.1× faster than the exhaustive engine and within 0.6° of it; but on a 2·10⁴ ×
 * 40 set it stopped 1.8° short of running to σ0, so it is not the default.
 */
export function visitAllowance(n: number, k: number): number {
  return Math.max(2, 1 + (VISITS_PER_CLASS * k) / n);
}

/** Every classification parameter, in `--help` order. */
export const PARAMS = {
  /** Number of classes. */
  k: spec({
    schema: z.int().min(2).max(100_000),
    help: 'number of classes',
    unit: 'K',
    short: 'k',
    relion: '--K',
    required: true,
  }),
  /** Clustering method (default `'ack'`). */
  method: spec({ schema: z.enum(METHODS), default: 'ack', help: 'clustering method', unit: 'name' }),
  /** Pipeline (default `'mra'`). */
  pipeline: spec({ schema: z.enum(PIPELINES), default: 'mra', help: 'pipeline', unit: 'name' }),
  /** ACK-means constraint weight β (default 0.5). */
  beta: spec({
    schema: z.number().min(0).max(1e6),
    default: 0.5,
    help: 'ACK-means constraint weight β',
    unit: 'b',
  }),
  /** Stop when at most this fraction of images changes class (default 0.01). */
  sigma0: spec({
    schema: z.number().min(0).max(1),
    default: 0.01,
    help: 'stop when at most this fraction of images changes class',
    unit: 's',
  }),
  /** Iteration cap (default 30). */
  maxIter: spec({
    schema: z.int().min(1).max(10_000),
    default: 30,
    help: 'iteration cap',
    unit: 'n',
    relion: '--iter',
  }),
  /** Seed of every random choice (default 0). */
  seed: spec({
    schema: z.int().min(0).max(UINT32_MAX),
    default: 0,
    help: 'seed of every random choice',
    unit: 'n',
    relion: '--random_seed',
  }),
  /** Worker threads (default: all cores; results do not depend on it). */
  threads: spec({
    schema: z.int().min(1).max(1024),
    defaultText: 'all cores; results do not depend on it',
    help: 'worker threads',
    unit: 'n',
    relion: '--j',
  }),
  /** Particle diameter in Å (default 0.8 · box · pixel size). */
  diameter: spec({
    schema: z.number().positive().max(1e5),
    defaultText: `${DEFAULT_DIAMETER_FRACTION} · box · pixel size`,
    help: 'particle diameter in Å',
    unit: 'Å',
    relion: '--particle_diameter',
  }),
  /** Working box in pixels (default: the input box up to 96 px, otherwise 64). */
  box: spec({
    schema: z.int().min(8).max(4096),
    defaultText: 'the input box up to 96, otherwise 64',
    help: 'working box in pixels, the images are Fourier-cropped to it',
    unit: 'px',
  }),
  /**
   * Largest shift searched, in pixels of the working box (default 2): after a 200 → 64 px crop,
   * 2 working pixels are 6.25 input pixels. `offsetRange` gives it in input pixels instead.
   */
  shiftRange: spec({
    schema: z.number().min(0).max(1024),
    default: 2,
    help: 'largest shift searched, in pixels of the working box (--box; --offset-range takes input pixels)',
    unit: 'working-px',
  }),
  /** Shift grid step in working-box pixels (default 1); `offsetStep` gives it in input pixels. */
  shiftStep: spec({
    schema: z.number().positive().max(1024),
    default: 1,
    help: 'shift grid step, in pixels of the working box (--offset-step takes input pixels)',
    unit: 'working-px',
  }),
  /**
   * Largest shift searched, in pixels of the input images (RELION's `--offset_range`); replaces
   * `shiftRange` (give one of the two).
   */
  offsetRange: spec({
    schema: z.number().min(0).max(4096),
    defaultText: 'shift range × input box / working box',
    help: "largest shift searched, in pixels of the input images, as RELION's --offset_range (instead of --shift-range)",
    unit: 'input-px',
    relion: '--offset_range',
  }),
  /** Shift grid step in pixels of the input images (RELION's `--offset_step`); replaces `shiftStep`. */
  offsetStep: spec({
    schema: z.number().positive().max(4096),
    defaultText: 'shift step × input box / working box',
    help: 'shift grid step, in pixels of the input images (instead of --shift-step)',
    unit: 'input-px',
    relion: '--offset_step',
  }),
  /**
   * Finest detail along the rings used to align, in Å (default 25): ring r of the polar
   * alignment keeps the angular harmonics m ≤ 2πr·pixel/alignResolution (at most Nyquist), so
   * noise finer than this around the centre does not steer it; detail along the radius is not
   * filtered.
   */
  alignResolution: spec({
    schema: z.number().positive().max(1e5),
    default: 25,
    help: 'finest detail along the polar rings used to align, in Å (finer angular harmonics are dropped)',
    unit: 'Å',
  }),
  /**
   * Box in pixels of the final CTF-corrected class averages (default: the input box; smaller
   * boxes are Fourier-cropped; at least the working box).
   */
  averageBox: spec({
    schema: z.int().min(8).max(8192),
    defaultText: 'the input box',
    help: 'box of the CTF-corrected class averages in pixels (Fourier-cropped; at least the working box)',
    unit: 'px',
  }),
  /**
   * Re-centre the final class averages on their centre of mass, each shift folded into the
   * members' origins in run_data.star (default false).
   */
  recentre: spec({
    schema: z.boolean(),
    default: false,
    help: "move each class average's centre of mass to the box centre, folding the shift into its particles' origins",
  }),
  /** Search mirrored images too (default true). */
  mirror: spec({
    schema: z.boolean(),
    default: true,
    help: 'search mirrored images too',
    negated: 'do not search mirrored images',
  }),
  /**
   * Search the shifts on the class averages' side (default true): each average is resampled at
   * every shift of the grid and each particle once, at its centre, instead of each particle at
   * every shift (SPEC §4; the particles' resampling was most of an alignment pass). The shift
   * found is the grid offset turned by the angle, still in the particle's pose convention.
   */
  shiftReferences: spec({
    schema: z.boolean(),
    default: true,
    help: 'search shifts by resampling each class average at every shift and each particle once',
    negated: 'search shifts by resampling each particle at every shift (slower)',
  }),
  /** Invert the contrast before normalising (default false). */
  invert: spec({ schema: z.boolean(), default: false, help: 'invert the contrast before normalising' }),
  /** Phase-flip each image with its CTF (default: true when the input has CTF parameters). */
  phaseFlip: spec({
    schema: z.boolean(),
    defaultText: 'true when the input has CTF parameters',
    help: 'phase-flip each image with its CTF',
    negated: 'do not phase-flip with the CTF (default: flip when the input has CTF parameters)',
  }),
  /**
   * MRA + ACK-means: the round-1 engine, every image aligned to every class in every iteration.
   * `false` selects the scale engine of src/pipeline/scale.ts (mini-batches, shortlists, sparse
   * passes; the only one the Slurm executor runs). Default: the scale engine from
   * {@link SCALE_ENGINE_MIN_PARTICLES} particles, the exhaustive one below (where it costs
   * little and its coarse start helps most at low SNR); see {@link resolveExhaustive}. Other methods
   * and pipelines always use the exhaustive engine. Measured (BENCHMARKS.md, "Scale engine"):
   * within 0.2° of the exhaustive engine or better at 2·10⁴ × 40 (SNR 1/10 and 1/30) and
   * 5·10⁴ × 100, at ~55 % of its time per pass.
   */
  exhaustive: spec({
    schema: z.boolean(),
    defaultText: `the scale engine from ${MIN_TEXT} particles, else exhaustive`,
    help: `MRA + ACK: align every image to every class in every iteration (the round-1 engine; default under ${MIN_TEXT} particles)`,
    negated: `MRA + ACK: use the scale engine (mini-batches, candidate shortlists, sparse passes; default from ${MIN_TEXT} particles; needed by --executor slurm)`,
    alsoPositive: true,
  }),
  /** Scale engine: candidate classes per image after the coarse stage (default {@link DEFAULT_SHORTLIST}). */
  shortlist: spec({
    schema: z.int().min(1).max(4096),
    default: DEFAULT_SHORTLIST,
    help: `scale engine: candidate classes per image after the coarse stage (after a ranking that moved more than ${KEEP_SIGMA} of the images, the next pass re-aligns each image to its m best of them instead of ranking again; not with --shortlist-refresh 1)`,
    unit: 'm',
  }),
  /**
   * Scale engine: rank all k classes (the coarse stage) at least every this many full passes;
   * between rankings, once a pass changed the class of at most {@link KEEP_SIGMA} of the images
   * and while the references moved by at most {@link KEEP_DRIFT} since the last ranking, each
   * image is aligned only to the {@link KEPT_CANDIDATES} classes that scored best for it there,
   * plus its own (default {@link DEFAULT_SHORTLIST_REFRESH}; 1: rank every pass). Both limits
   * double after each re-ranking in a row that found the kept classes had held back at most
   * 0.1·σ0 of the images per kept pass (up to 8×; `keptDoublings` in src/pipeline/scale.ts).
   * While σ > σ0 a re-ranking aligns each image to its kept classes and the
   * {@link NEIGHBOUR_CLASSES} classes nearest to its own instead of running the coarse stage; only a
   * coarse ranking ends the run. After a ranking with σ > {@link KEEP_SIGMA} the next pass
   * re-aligns each image to that ranking's m best classes instead (1 turns this off too).
   * Measured (BENCHMARKS.md, rounds 9–13).
   */
  shortlistRefresh: spec({
    schema: z.int().min(1).max(1000),
    default: DEFAULT_SHORTLIST_REFRESH,
    help: `scale engine: rank all classes at least every N full passes; between, once σ ≤ ${KEEP_SIGMA} and while the references moved ≤ ${KEEP_DRIFT}, align each image to its ${KEPT_CANDIDATES} best classes of the last ranking and its own (1: rank every pass); both limits double, up to 8×, while re-rankings find few images held back; while σ > σ0 a re-ranking tries the kept classes and the ${NEIGHBOUR_CLASSES} nearest to the own class instead of all`,
    unit: 'N',
  }),
  /**
   * Scale engine: a hard budget of particle-visits per particle (images aligned over n, a
   * mini-batch counting by its share of the set): no full pass starts that would pass it, except
   * the first, so every image gets a class (default 0: no budget).
   */
  maxVisits: spec({
    schema: z.number().min(0).max(1e6),
    default: 0,
    help: 'scale engine: hard budget of particle-visits per particle (0: none; the first full pass always runs)',
    unit: 'visits',
  }),
  /**
   * Scale engine, for speed: past its visit allowance max(2, 1 + 4,000·k/n) particle-visits per
   * particle ({@link visitAllowance}), stop once at most this fraction of the images changed
   * class in a full pass (default 0: off, σ0 and the cap decide; 0.05 measured 6.1× faster than
   * the exhaustive engine on 5·10⁴ × 100, and up to 1.8° less accurate than running to σ0).
   */
  settleSigma: spec({
    schema: z.number().min(0).max(1),
    default: 0,
    help: 'scale engine, for speed: past max(2, 1 + 4000·k/n) particle-visits per particle, stop once at most this fraction of images changes class (0: off)',
    unit: 's',
  }),
  /**
   * MRA: the first references (default `'images'`, k random images); `'subsets'` takes the plain
   * averages of k random subsets of the images (src/pipeline/mra-start.ts).
   */
  init: spec({
    schema: z.enum(['images', 'subsets']),
    default: 'images',
    help: "MRA: first references, 'images' (k random images) or 'subsets' (averages of k random subsets)",
  }),
  /**
   * MRA (exhaustive engine): iterations of each coarse start phase before the main phase
   * (default 8; 0: none); the start aligns with the band limit of `startResolution`. Measured
   * (issue 17, BENCHMARKS.md): 80S at SNR 1/30 41.5° → 34.2°.
   */
  startIterations: spec({
    schema: z.int().min(0).max(1000),
    default: 8,
    help: 'MRA (exhaustive engine): iterations of each coarse start before the main phase (0: none)',
    unit: 'count',
  }),
  /** MRA: independent coarse starts; the one with the lowest objective is kept (default 1). */
  starts: spec({
    schema: z.int().min(1).max(100),
    default: 1,
    help: 'MRA: independent coarse starts (the lowest objective is kept; with --start-iterations)',
    unit: 'count',
  }),
  /** MRA: finest detail the coarse starts align with, in Å (default 50). */
  startResolution: spec({
    schema: z.number().positive().max(1e5),
    default: 50,
    help: 'MRA: finest detail used by the coarse starts, in Å',
    unit: 'Å',
  }),
  /**
   * MRA (exhaustive engine): low-pass each new reference by its class's even/odd FRC (a Gaussian
   * whose transfer is ½ at the class's resolution) before the next alignment (default false).
   */
  filterReferences: spec({
    schema: z.boolean(),
    default: false,
    help: "MRA: low-pass each reference by its class's even/odd FRC before aligning to it",
  }),
  /**
   * MRA with coarse starts: the main phase aligns up to the start classes' median even/odd FRC
   * resolution instead of `alignResolution` (default false).
   */
  followFrc: spec({
    schema: z.boolean(),
    default: false,
    help: "MRA with coarse starts: align the main phase up to the start classes' FRC resolution",
  }),
};

/** The name of a classification parameter. */
export type ParamName = keyof typeof PARAMS;
/** Every parameter name, in table order. */
export const PARAM_NAMES = Object.keys(PARAMS) as ParamName[];

type Table = typeof PARAMS;
type Shape = {
  [K in ParamName]: Table[K] extends { required: true }
    ? Table[K]['schema']
    : z.ZodOptional<Table[K]['schema']>;
};

/**
 * The parameters as one zod object (unknown keys are rejected): the server's request schema.
 * Its parse does not fill defaults (a job records what was asked; {@link resolveParams} fills them).
 */
export const paramsSchema = z.strictObject(
  Object.fromEntries(
    PARAM_NAMES.map((name) => {
      const p: ParamSpec = PARAMS[name];
      return [name, p.required ? p.schema : p.schema.optional()];
    }),
  ) as Shape,
);

/** What the caller may set; everything but `k` has a default (see {@link resolveParams}). */
export type ClassifyParams = z.input<typeof paramsSchema>;

type Defaulted = {
  [K in ParamName as Table[K] extends { default: unknown } ? K : never]: z.output<Table[K]['schema']>;
};

/** Defaults that do not depend on the input. */
export const CLASSIFY_DEFAULTS = Object.freeze(
  Object.fromEntries(
    PARAM_NAMES.filter((n) => (PARAMS[n] as ParamSpec).default !== undefined).map((n) => [
      n,
      (PARAMS[n] as ParamSpec).default,
    ]),
  ) as Defaulted,
);

/** Every parameter resolved for a given input. */
export interface ResolvedParams extends Required<
  Omit<ClassifyParams, 'threads' | 'offsetRange' | 'offsetStep'>
> {
  threads?: number;
  /** Pixel size of the working box in Å. */
  workingPixelSize: number;
  /** Particle radius in working-box pixels. */
  radius: number;
}

/** The average box, between the working box and the input box. */
function checkAverageBox(averageBox: number, box: number, inputBox: number): number {
  if (averageBox < box || averageBox > inputBox)
    throw new RangeError(
      `averageBox (${averageBox}) must be between the working box (${box}) and the input box (${inputBox} px)`,
    );
  return averageBox;
}

/** The finest shift step accepted, in working pixels: finer grids multiply the work by 1/step² for nothing. */
export const MIN_SHIFT_STEP = 0.25;

const SAFE = Number.MAX_SAFE_INTEGER;

/** What `schema` accepts, for a person: "an integer ≥ 2", "one of ack, kmeans", "true or false". */
export function describeSchema(schema: z.ZodType): string {
  const js = z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  if (Array.isArray(js.enum)) return `one of ${js.enum.join(', ')}`;
  if (js.type === 'boolean') return 'true or false';
  if (js.type === 'string') return 'a text';
  if (js.type !== 'number' && js.type !== 'integer') return 'valid';
  const what = js.type === 'integer' ? 'an integer' : 'a number';
  const num = (key: string) => {
    const v = js[key];
    return typeof v === 'number' && Math.abs(v) < SAFE ? v : undefined;
  };
  const lo = num('minimum');
  const gt = num('exclusiveMinimum');
  const hi = num('maximum');
  const lt = num('exclusiveMaximum');
  if (lo !== undefined && hi !== undefined) return `${what} in [${lo}, ${hi}]`;
  const parts = [
    lo !== undefined ? `≥ ${lo}` : gt !== undefined ? `> ${gt}` : undefined,
    hi !== undefined ? `≤ ${hi}` : lt !== undefined ? `< ${lt}` : undefined,
  ].filter((s) => s !== undefined);
  return parts.length ? `${what} ${parts.join(' and ')}` : what;
}

const shown = (v: unknown): string =>
  v === undefined
    ? 'nothing'
    : typeof v === 'string'
      ? JSON.stringify(v)
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

/** "`name` must be <what the schema accepts>, got <value>". */
export function paramMessage(name: string, schema: z.ZodType, value: unknown): string {
  return `${name} must be ${describeSchema(schema)}, got ${shown(value)}`;
}

/**
 * One human line for the first problem of `value` as classification parameters, or undefined
 * when they pass the schema. `prefix` is put before parameter names (e.g. "params.").
 */
export function paramsProblem(value: unknown, prefix = ''): { message: string; type: boolean } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { message: `params must be an object, got ${shown(value)}`, type: true };
  const r = paramsSchema.safeParse(value);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys')
    return {
      message: `unknown parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${prefix}${k}"`).join(', ')} (known: ${PARAM_NAMES.join(', ')})`,
      type: false,
    };
  const name = String(issue.path[0]) as ParamName;
  const got = (value as Record<string, unknown>)[name];
  return {
    message: paramMessage(prefix + name, PARAMS[name].schema, got),
    type: issue.code === 'invalid_type',
  };
}

/**
 * Checks `params` against the schema and throws a TypeError (wrong type) or RangeError naming the
 * parameter, what it accepts and what it got ("k must be an integer in [2, 100000], got 1").
 */
export function checkParams(params: unknown): ClassifyParams {
  const problem = paramsProblem(params);
  if (problem) throw problem.type ? new TypeError(problem.message) : new RangeError(problem.message);
  return params as ClassifyParams;
}

/**
 * `exhaustive` as given, or its default for `count` particles: the engine depends on the
 * parameters and the input only (never on the executor), so results do not either.
 */
export function resolveExhaustive(exhaustive: boolean | undefined, count: number): boolean {
  return exhaustive ?? count < SCALE_ENGINE_MIN_PARTICLES;
}

/**
 * Checks `params` against an input of `count` particles of `box` pixels at `pixelSize` Å and
 * fills the defaults. Throws a RangeError/TypeError naming the parameter.
 */
export function resolveParams(
  params: ClassifyParams,
  input: { count: number; box: number; pixelSize: number; hasCtf: boolean },
): ResolvedParams {
  const p = checkParams(params);
  const d = CLASSIFY_DEFAULTS;
  const k = p.k;
  if (k > input.count)
    throw new RangeError(`k (${k}) must not exceed the number of usable particles (${input.count})`);
  const box = p.box ?? defaultWorkingBox(input.box);
  if (box > input.box) throw new RangeError(`box (${box}) must not exceed the input box (${input.box} px)`);
  const workingPixelSize = (input.pixelSize * input.box) / box;
  const diameter = p.diameter ?? DEFAULT_DIAMETER_FRACTION * input.box * input.pixelSize;
  const radius = diameter / 2 / workingPixelSize;
  if (radius < 2)
    throw new RangeError(`diameter (${diameter} Å) is under 4 working pixels (${workingPixelSize} Å each)`);
  const toWorking = box / input.box;
  const either = (ours: ParamName, relion: ParamName, a: number | undefined, b: number | undefined) => {
    if (a !== undefined && b !== undefined)
      throw new RangeError(`give ${ours} (working pixels) or ${relion} (input pixels), not both`);
    return b === undefined ? a : b * toWorking;
  };
  // what the user gave, for messages: "offsetRange (12 input pixels = 3.84 working pixels)"
  const said = (ours: ParamName, relion: ParamName, given: number | undefined, working: number) =>
    given === undefined
      ? `${ours} (${working} working pixels)`
      : `${relion} (${given} input pixels = ${+working.toFixed(4)} working pixels)`;
  const shiftRange = either('shiftRange', 'offsetRange', p.shiftRange, p.offsetRange) ?? d.shiftRange;
  const rangeSaid = said('shiftRange', 'offsetRange', p.offsetRange, shiftRange);
  if (shiftRange > box / 4)
    throw new RangeError(`${rangeSaid} must be at most box/4 = ${box / 4} working pixels`);
  const shiftStep = either('shiftStep', 'offsetStep', p.shiftStep, p.offsetStep) ?? d.shiftStep;
  const stepSaid = said('shiftStep', 'offsetStep', p.offsetStep, shiftStep);
  if (shiftStep < MIN_SHIFT_STEP)
    throw new RangeError(
      `${stepSaid} must be at least ${MIN_SHIFT_STEP} working pixels: each alignment would try ${Math.round((d.shiftStep / shiftStep) ** 2)}× as many shifts as with step ${d.shiftStep}, for no better alignment`,
    );
  if (shiftStep > Math.max(1, shiftRange))
    throw new RangeError(
      `${stepSaid} must be at most max(1, shift range) = ${Math.max(1, shiftRange)} working pixels`,
    );
  return {
    k,
    method: p.method ?? d.method,
    pipeline: p.pipeline ?? d.pipeline,
    beta: p.beta ?? d.beta,
    sigma0: p.sigma0 ?? d.sigma0,
    maxIter: p.maxIter ?? d.maxIter,
    seed: p.seed ?? d.seed,
    ...(p.threads === undefined ? {} : { threads: p.threads }),
    diameter,
    box,
    shiftRange,
    shiftStep,
    mirror: p.mirror ?? d.mirror,
    shiftReferences: p.shiftReferences ?? d.shiftReferences,
    invert: p.invert ?? d.invert,
    phaseFlip: p.phaseFlip ?? input.hasCtf,
    alignResolution: p.alignResolution ?? d.alignResolution,
    exhaustive: resolveExhaustive(p.exhaustive, input.count),
    shortlist: p.shortlist ?? d.shortlist,
    shortlistRefresh: p.shortlistRefresh ?? d.shortlistRefresh,
    maxVisits: p.maxVisits ?? d.maxVisits,
    settleSigma: p.settleSigma ?? d.settleSigma,
    init: p.init ?? d.init,
    startIterations: p.startIterations ?? d.startIterations,
    starts: p.starts ?? d.starts,
    startResolution: p.startResolution ?? d.startResolution,
    followFrc: p.followFrc ?? d.followFrc,
    filterReferences: p.filterReferences ?? d.filterReferences,
    averageBox: checkAverageBox(p.averageBox ?? input.box, box, input.box),
    recentre: p.recentre ?? d.recentre,
    workingPixelSize,
    radius,
  };
}
