/**
 * Multi-reference alignment (the MRA dissimilarity, SPEC §3–4): for every image i and
 * reference j, the in-plane rotation, shift and mirror that best bring image i onto reference j,
 * and the resulting dissimilarity. The work runs in native code (polar resampling, one complex
 * GEMM per angular harmonic, batched inverse FFTs, vectorised peak search) off the event loop.
 *
 * ## Conventions (exactly inverted by {@link applyAlignment})
 * Pixel (x, y) is column x, row y of a box×box image (value `image[y·box + x]`); the centre is
 * (box/2, box/2) (integer division); angles go from the +x axis toward the +y axis. The aligned
 * image is the raw image x
 *   1. translated by (shiftX, shiftY) pixels (content at p moves to p + shift),
 *   2. rotated about the centre by psi degrees,
 *   3. if mirror, flipped y → −y about the centre,
 * i.e. aligned(p) = x(c + R(−psi)·F^mirror·(p − c) − shift), F = diag(1, −1). Applying the reported
 * parameters to image i brings it onto reference j.
 *
 * ## Dissimilarity
 * On the polar grid (rings firstRing..lastRing, sample weight 2πr/M_r, so the weighted inner
 * product approximates the pixel inner product over the annulus), with X the shifted (and
 * mirrored) image's rings and Y the reference's:
 *   score(i, j) = min over shift, mirror of ‖X‖²_w + ‖Y‖²_w − 2·max_ψ ⟨X rotated by ψ, Y⟩_w
 * = the minimal weighted squared distance, clamped at 0, using only harmonics under `bandLimit`.
 * With `shiftReferences` the grid offsets d are applied to the reference instead (Y sampled
 * around c + d, X at the centre: ‖X‖²_w + ‖Y_d‖²_w − 2·max …), and the reported shift is d turned
 * by the angle, R(−psi)·F^mirror·d, so the conventions above hold unchanged.
 */
import { type Progress, runNativeJob } from '../job.js';
import { type NativeAlignOutputs, type NativeAlignStats, native } from '../native.js';
import {
  type AlignOptions,
  type AlignSettings,
  type LocalShifts,
  localOffsets,
  resolveAlignCall,
  windowOf,
} from './options.js';
import { type Images, blockProgress, imageBlocks } from './provider.js';

/** Where the time of an alignment went and its work counts (declared with the native engine). */
export type AlignStats = NativeAlignStats;

/** Per (image, reference) alignment, n×k row-major (the fields are documented in src/native.ts). */
export interface AlignResult extends NativeAlignOutputs {
  /** Time per phase and work done. */
  stats: AlignStats;
}

/** Alignment outputs of `size` entries, zero-filled. */
export function emptyAlignOutputs(size: number): NativeAlignOutputs {
  return {
    score: new Float32Array(size),
    psi: new Float32Array(size),
    shiftX: new Float32Array(size),
    shiftY: new Float32Array(size),
    mirror: new Uint8Array(size),
  };
}

/** Entries a..b of each of the table's arrays (views, no copies). */
export function tableRows(table: NativeAlignOutputs, a: number, b: number): NativeAlignOutputs {
  return {
    score: table.score.subarray(a, b),
    psi: table.psi.subarray(a, b),
    shiftX: table.shiftX.subarray(a, b),
    shiftY: table.shiftY.subarray(a, b),
    mirror: table.mirror.subarray(a, b),
  };
}

/**
 * One native alignment call: the images of one block (box² values each, `settings.box`) against
 * every reference, written into `outputs` (block images × references entries each).
 */
export function alignBlock(
  images: Float32Array,
  references: Float32Array,
  settings: AlignSettings,
  outputs: NativeAlignOutputs,
  job: { threads: number; signal?: AbortSignal; onProgress?: (p: Progress) => void },
  window: { offsets?: Int32Array; offsetsPerImage?: number } = {},
): Promise<AlignStats> {
  const dim = settings.box * settings.box;
  return runNativeJob(
    (control) =>
      native().alignImages({
        images,
        n: images.length / dim,
        references,
        k: references.length / dim,
        settings,
        outputs,
        threads: job.threads,
        control,
        ...window,
      }),
    { signal: job.signal, onProgress: job.onProgress },
  );
}

/**
 * Aligns every image to every reference.
 *
 * @param images n images of box² values (one Float32Array, or an {@link ImageProvider} read in
 *   blocks of about 64 MB, the next block read while the current one is aligned).
 * @param references k images of box² values.
 * @param options box (required), rings, shifts, mirror, bandLimit, threads, signal, onProgress
 *   (progress counts images).
 * @param local a local shift search per image (default: every image at every grid shift).
 * @returns n×k arrays; identical for any thread count.
 * @throws TypeError/RangeError for bad arguments, AckmeansError `ERR_PROVIDER` for a provider
 *   returning the wrong size, AbortError when `signal` fires.
 */
export async function align(
  images: Images,
  references: Float32Array,
  options: AlignOptions,
  local?: LocalShifts,
): Promise<AlignResult> {
  const { settings, threads, signal, onProgress, box, n, k } = resolveAlignCall(images, references, options);
  const window = local ? localOffsets(settings, local, n) : null;
  if (n * k > 2 ** 31 - 1)
    throw new RangeError(`n·k (${n}·${k}) is too large for one table (max 2^31−1 entries)`);
  const nk = n * k;
  const result: AlignResult = {
    ...emptyAlignOutputs(nk),
    stats: {
      resample: 0,
      gemm: 0,
      gather: 0,
      ifft: 0,
      peak: 0,
      gemmFlops: 0,
      ifftLength: 0,
      correlations: 0,
      transforms: 0,
    },
  };
  for await (const block of imageBlocks(images, box)) {
    const stats = await alignBlock(
      block.images,
      references,
      settings,
      tableRows(result, block.start * k, (block.start + block.count) * k),
      { threads, signal, onProgress: blockProgress(onProgress, block.start, n) },
      windowOf(window, block.start, block.count),
    );
    for (const key of [
      'resample',
      'gemm',
      'gather',
      'ifft',
      'peak',
      'gemmFlops',
      'correlations',
      'transforms',
    ] as const)
      result.stats[key] += stats[key];
    result.stats.ifftLength = stats.ifftLength;
  }
  return result;
}
