/**
 * `writeAlignedStack`: the particles of a run_data.star with their poses applied — each image
 * translated by its origin, rotated by ψ and, where `_ackMirror` is 1, flipped — so every image
 * lies as its class average does. RELION's `relion_stack_create --apply_transformation` cannot
 * do this for ackmeans results: RELION has no 2D mirror, so it mis-aligns mirrored particles.
 * Uses the one pose applier ({@link applyPoses}, native); the convention is src/pipeline/relion.ts.
 */
import { basename } from 'node:path';
import { applyPoses } from '../align/apply.js';
import { AckmeansError } from '../errors.js';
import { createStackWriter, openParticles } from '../io/index.js';
import type { JobOptions } from '../job.js';
import { mrcLabel } from './outputs.js';
import { MIRROR_COLUMN } from './relion.js';

/** Options of {@link writeAlignedStack}. */
export interface AlignedStackOptions extends Omit<JobOptions, 'onProgress'> {
  /** Stack remapping, as for `openParticles`. */
  remap?: Record<string, string>;
  /** Images per batch (default 256). */
  batch?: number;
  /** Called with the fraction done after each batch. */
  onProgress?: (fraction: number) => void;
  /** The version written in the MRC label. */
  version?: string;
}

/**
 * Writes the aligned particles of `input` (a STAR file with _rlnAnglePsi and origins, e.g. an
 * ackmeans run_data.star; `_ackMirror` optional) to the MRC stack `output`, in row order, at the
 * input's box and pixel size. Returns the number of images written.
 * @throws AckmeansError `ERR_NO_POSES` when the file has no ψ or origins; FormatError for bad files.
 */
export async function writeAlignedStack(
  input: string,
  output: string,
  options: AlignedStackOptions = {},
): Promise<number> {
  const set = await openParticles(input, options.remap ? { remap: options.remap } : {});
  try {
    const poses = set.poses;
    if (!poses?.psi || !poses.originXAngst || !poses.originYAngst)
      throw new AckmeansError(
        'ERR_NO_POSES',
        `ackmeans: ${basename(input)} has no _rlnAnglePsi and origins to apply (a run_data.star of "ackmeans classify" has them)`,
        { file: input },
      );
    const px = set.pixelSize ?? 1;
    const mirror = set.star?.file.block(set.star.particlesBlock)?.numeric(MIRROR_COLUMN);
    const { box, count } = set;
    const batch = options.batch ?? 256;
    const writer = await createStackWriter(output, {
      nx: box,
      ny: box,
      pixelSize: px,
      labels: [mrcLabel(`ackmeans ${options.version ?? ''}: aligned particles of ${basename(input)}`)],
    });
    try {
      for (let start = 0; start < count; start += batch) {
        const n = Math.min(batch, count - start);
        const images = await set.readBatch(start, n);
        const slice = (a: Float64Array, scale = 1) =>
          Float32Array.from(a.subarray(start, start + n), (v) => v * scale);
        const aligned = await applyPoses(
          images,
          box,
          {
            psi: slice(poses.psi),
            shiftX: slice(poses.originXAngst, 1 / px),
            shiftY: slice(poses.originYAngst, 1 / px),
            mirror: Uint8Array.from({ length: n }, (_, i) => (mirror?.[start + i] === 1 ? 1 : 0)),
          },
          { ...(options.threads === undefined ? {} : { threads: options.threads }), signal: options.signal },
        );
        await writer.append(aligned);
        options.onProgress?.((start + n) / count);
      }
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return count;
  } finally {
    await set.close();
  }
}
