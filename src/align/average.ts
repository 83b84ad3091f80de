/**
 * Class averages from each member's own alignment parameters for its class, with even/odd half
 * averages (members alternate between the halves in image order) and their Fourier ring
 * correlation, a per-class resolution estimate.
 */
import { checkCallback, checkInt, checkNumber, checkSignal } from '../errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';
import { checkPoseArrays } from './apply.js';
import { type Images, blockProgress, imageBlocks, imageCount } from './provider.js';

/** Per-image alignment parameters (each image's parameters for its own class), n values each. */
export interface ImageParameters {
  psi: Float32Array;
  shiftX: Float32Array;
  shiftY: Float32Array;
  mirror: Uint8Array;
}

/** Class averages and their resolution estimates. */
export interface ClassAverages {
  /** k·box² values: the mean of each class's aligned members (zeros for an empty class). */
  averages: Float32Array;
  /** k·box²: mean of members 0, 2, 4, … of each class (in image order). */
  even: Float32Array;
  /** k·box²: mean of members 1, 3, 5, …. */
  odd: Float32Array;
  /** Members per class. */
  sizes: Int32Array;
  /** Shells per class in `frc` (box/2 + 1; shell s is spatial frequency s/box cycles/pixel). */
  shells: number;
  /**
   * k × shells: Fourier ring correlation between the even and odd averages (shell s holds the
   * coefficients whose |frequency|·box rounds to s); NaN for a class with fewer than 2 members.
   */
  frc: Float32Array;
  /**
   * Per class, the resolution in pixels (multiply by the pixel size for Å) where the FRC first
   * falls below 0.143, interpolated between shells; 2 (Nyquist) if it never does; NaN for a
   * class with fewer than 2 members.
   */
  resolution: Float32Array;
}

/** `assignment` must be an Int32Array of n classes in [0, k) (−1: left out). */
export function checkAssignment(assignment: Int32Array, n: number, k: number): void {
  if (!(assignment instanceof Int32Array) || assignment.length !== n)
    throw new TypeError(`assignment must be an Int32Array of n (${n}) values`);
  for (let i = 0; i < n; i++)
    if (assignment[i] < -1 || assignment[i] >= k)
      throw new RangeError(`assignment[${i}] = ${assignment[i]} is not a class in [0, ${k}) or -1`);
}

/** Per-class sums of aligned images, in double precision, and member counts. */
export interface ClassSumArrays {
  /** k·box² sums of the members in each class's even half. */
  evenSum: Float64Array;
  /** k·box² sums of the members in the odd half. */
  oddSum: Float64Array;
  /** k counts. */
  members: Int32Array;
  /** k counts of the members in the even half (each image's half: see {@link accumulateClassSums}). */
  evenMembers: Int32Array;
}

/**
 * Adds every image of `images` with a class (aligned with its own parameters, see
 * {@link applyAlignment}) into `sums`, block by block (inputs are checked by the callers).
 * An image's half is `half[i]` (0: even, 1: odd) when given, else it follows its class's member
 * count so far (even-numbered members in image order to the even half). `quantum`: round each
 * aligned pixel to a multiple of it first, which makes the sums exact (src/pipeline/class-sums.ts);
 * then `sign` −1 (with `half`) takes the images out of the sums again, exactly.
 */
export async function accumulateClassSums(
  images: Images,
  box: number,
  assignment: Int32Array,
  k: number,
  params: ImageParameters,
  sums: ClassSumArrays,
  options: JobOptions & { quantum?: number; half?: Uint8Array; sign?: 1 | -1 },
): Promise<void> {
  const n = imageCount('images', images, box);
  const threads = resolveThreads(options.threads);
  for await (const block of imageBlocks(images, box)) {
    const part = <T extends Float32Array | Int32Array | Uint8Array>(a: T): T =>
      a.subarray(block.start, block.start + block.count) as T;
    await runNativeJob(
      (control) =>
        native().classAccumulate({
          images: block.images,
          count: block.count,
          box,
          assignment: part(assignment),
          psi: part(params.psi),
          shiftX: part(params.shiftX),
          shiftY: part(params.shiftY),
          mirror: part(params.mirror),
          k,
          ...sums,
          threads,
          control,
          quantum: options.quantum,
          ...(options.half && { half: part(options.half) }),
          ...(options.sign !== undefined && { sign: options.sign }),
        }),
      { signal: options.signal, onProgress: blockProgress(options.onProgress, block.start, n) },
    );
  }
}

/**
 * Averages of the k classes, each member aligned with its own parameters (see
 * {@link applyAlignment}), summed in double precision.
 *
 * @param images n images of box² values (array or provider, read in blocks).
 * @param assignment n class indices in [0, k), or −1 for an image in no class.
 * @param params each image's alignment parameters for its own class (n values each).
 * @returns averages, even/odd halves, sizes, FRC and resolution; identical for any thread count.
 */
export async function classAverages(
  images: Images,
  box: number,
  assignment: Int32Array,
  k: number,
  params: ImageParameters,
  options: JobOptions = {},
): Promise<ClassAverages> {
  checkInt('box', box, 2, 65536);
  checkInt('k', k, 1);
  const n = imageCount('images', images, box);
  checkAssignment(assignment, n, k);
  checkPoseArrays('params', params, n);
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  const evenSum = new Float64Array(k * box * box);
  const oddSum = new Float64Array(k * box * box);
  const members = new Int32Array(k);
  const evenMembers = new Int32Array(k);
  await accumulateClassSums(
    images,
    box,
    assignment,
    k,
    params,
    { evenSum, oddSum, members, evenMembers },
    {
      threads,
      signal,
      onProgress,
    },
  );
  const result = await runNativeJob(
    (control) => native().classFinalize({ evenSum, oddSum, members, evenMembers, k, box, threads, control }),
    { signal },
  );
  return { ...result, sizes: members, shells: Math.floor(box / 2) + 1 };
}

/** How {@link ctfCorrectedAverages} weights each particle's Fourier coefficients. */
export type AverageCorrection = 'wiener' | 'phase-flip' | 'none';

const CORRECTION_MODE: Record<AverageCorrection, number> = { wiener: 0, 'phase-flip': 1, none: 2 };

/** Options of {@link ctfCorrectedAverages}. */
export interface CtfAverageOptions extends JobOptions {
  /** Input pixel size in Å. */
  pixelSize: number;
  /**
   * Per image CTF, n×7 interleaved in the native order (src/ctf.ts's packCtfBatch); required
   * unless correction is 'none'.
   */
  ctf?: Float64Array;
  /** 'wiener' (default with a CTF), 'phase-flip' (the phase-flipped mean) or 'none' (plain mean). */
  correction?: AverageCorrection;
  /** Box of the averages (≤ box; Fourier-cropped, pixel size box/outBox times larger; default box). */
  outBox?: number;
}

/** CTF-corrected class averages at the output box (see {@link ctfCorrectedAverages}). */
export interface CtfClassAverages extends ClassAverages {
  /** Output box and its pixel size (Å). */
  box: number;
  pixelSize: number;
  /** k × shells: spectral SNR of each class average per shell, 2·FRC/(1 − FRC) (FRC clamped to [0.001, 1)). */
  ssnr: Float32Array;
}

declare module '../native.js' {
  interface NativeAddon {
    wienerAccumulate(options: Record<string, unknown>): Promise<void>;
    wienerFinalize(
      options: Record<string, unknown>,
    ): Promise<Omit<CtfClassAverages, 'sizes' | 'shells' | 'box' | 'pixelSize'>>;
  }
}

/**
 * CTF-corrected class averages, streamed (memory k·outBox² doubles, whatever n): each member
 * aligned with its pose (the {@link applyAlignment} convention, shifts in pixels of `box`),
 * Fourier-transformed and summed per class and per half (members alternate between the even
 * and odd halves in image order) as Σ CTF·X and Σ CTF², then
 *
 *   average = Σ CTF·X / (Σ CTF² + 1/τ²)   per Fourier coefficient (RELION's and SIMPLE's form),
 *
 * with 1/τ² per shell = a·(1 − FRC)/FRC, FRC that of the two CTF-weighted half sums (clamped to
 * [0.001, 1)) and a the shell's mean Σ CTF² of one half. (With X = CTF·S + noise of power σ², the
 * half sums correlate as a·P/(a·P + σ²), P the signal power, so this is σ²/P, the inverse of a
 * particle's spectral SNR.) The CTF is evaluated at each coefficient's raw-frame frequency (the
 * pose's rotation and mirror undone), so astigmatism is handled. The even/odd halves use the same
 * filter; `frc` and `resolution` (output-box pixels) come from the half sums.
 *
 * @param images n images of box² values, normalised, input origins applied (array or provider).
 * @param assignment n classes in [0, k) or −1 (skipped).
 * @param params each image's pose for its class, shifts in pixels of `box`.
 */
export async function ctfCorrectedAverages(
  images: Images,
  box: number,
  assignment: Int32Array,
  k: number,
  params: ImageParameters,
  options: CtfAverageOptions,
): Promise<CtfClassAverages> {
  checkInt('box', box, 2, 8192);
  checkInt('k', k, 1);
  const n = imageCount('images', images, box);
  checkAssignment(assignment, n, k);
  checkPoseArrays('params', params, n);
  const pixelSize = checkNumber('pixelSize', options.pixelSize, 1e-6);
  const outBox = checkInt('outBox', options.outBox ?? box, 2, box);
  const correction = options.correction ?? (options.ctf ? 'wiener' : 'none');
  if (!(correction in CORRECTION_MODE))
    throw new RangeError(`correction must be 'wiener', 'phase-flip' or 'none', got ${String(correction)}`);
  const mode = CORRECTION_MODE[correction];
  if (correction !== 'none') {
    if (!(options.ctf instanceof Float64Array) || options.ctf.length !== 7 * n)
      throw new TypeError(
        `ctf must be a Float64Array of n×7 (${7 * n}) values for correction '${correction}'`,
      );
  }
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  const G = outBox * (Math.floor(outBox / 2) + 1);
  const sums = {
    sumEven: new Float64Array(k * G * 2),
    sumOdd: new Float64Array(k * G * 2),
    weightEven: new Float64Array(k * G),
    weightOdd: new Float64Array(k * G),
    members: new Int32Array(k),
  };
  for await (const block of imageBlocks(images, box)) {
    const part = <T extends Float32Array | Int32Array | Uint8Array | Float64Array>(a: T, per = 1): T =>
      a.subarray(block.start * per, (block.start + block.count) * per) as T;
    await runNativeJob(
      (control) =>
        native().wienerAccumulate({
          images: block.images,
          count: block.count,
          box,
          pixelSize,
          ...(correction !== 'none' && options.ctf ? { ctf: part(options.ctf, 7) } : {}),
          assignment: part(assignment),
          psi: part(params.psi),
          shiftX: part(params.shiftX),
          shiftY: part(params.shiftY),
          mirror: part(params.mirror),
          mode,
          k,
          outBox,
          ...sums,
          threads,
          control,
        }),
      { signal, onProgress: blockProgress(onProgress, block.start, n) },
    );
  }
  const result = await runNativeJob(() => native().wienerFinalize({ ...sums, k, outBox, mode, threads }), {
    signal,
  });
  return {
    ...result,
    sizes: sums.members,
    shells: Math.floor(outBox / 2) + 1,
    box: outBox,
    pixelSize: (pixelSize * box) / outBox,
  };
}
