/**
 * RFA (SPIDER style): reference-free alignment of every image to the evolving global average,
 * then PCA of the aligned images, then clustering of the fixed factor coordinates (squared
 * Euclidean); no re-alignment during clustering.
 *
 * Reference-free alignment: the first reference is the rotational average of the mean image
 * (no preferred orientation); each round aligns every image to the reference (rotation, shift
 * grid, mirror) and makes the next reference the mean of the aligned images; it stops when fewer
 * than 1% of the images change pose (ψ by more than 2°, the shift or the mirror), or after
 * {@link RFA_MAX_ROUNDS} rounds. PCA keeps {@link RFA_FACTORS} factors (SPIDER's usual 9).
 */
import { VectorSource } from '../cluster/index.js';
import { throwIfAborted } from '../errors.js';
import { applyPoses } from '../align/apply.js';
import { alignAll, averageWithPoses, posesFor } from './alignment.js';
import { pca, projectOnBasis } from './pca.js';
import type { PipelineContext, PipelineOutcome } from './pipeline.js';
import { stackImages } from './stack.js';
import type { ParticlePoses } from './types.js';

/** Rounds of reference-free alignment at most. */
export const RFA_MAX_ROUNDS = 8;
/** Principal components of the aligned images used for clustering. */
export const RFA_FACTORS = 9;
/** ψ change (degrees) that counts as a pose change between rounds. */
const PSI_TOLERANCE = 2;

/** The rotational average of a box×box image about (⌊box/2⌋, ⌊box/2⌋) (linear in the radius). */
export function rotationalAverage(image: Float32Array, box: number): Float32Array {
  const c = Math.floor(box / 2);
  const bins = Math.ceil(Math.SQRT2 * box) + 2;
  const sum = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const r = Math.hypot(x - c, y - c);
      const r0 = Math.floor(r);
      const f = r - r0;
      sum[r0] += (1 - f) * image[y * box + x];
      count[r0] += 1 - f;
      sum[r0 + 1] += f * image[y * box + x];
      count[r0 + 1] += f;
    }
  const profile = sum.map((s, i) => (count[i] > 0 ? s / count[i] : 0));
  const out = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const r = Math.hypot(x - c, y - c);
      const r0 = Math.floor(r);
      const f = r - r0;
      out[y * box + x] = (1 - f) * profile[r0] + f * profile[r0 + 1];
    }
  return out;
}

function meanImage(images: Float32Array, px: number): Float32Array {
  const n = images.length / px;
  const sum = new Float64Array(px);
  for (let i = 0; i < n; i++) for (let p = 0; p < px; p++) sum[p] += images[i * px + p];
  return Float32Array.from(sum, (v) => v / n);
}

function changedFraction(a: ParticlePoses, b: ParticlePoses): number {
  let changed = 0;
  for (let i = 0; i < a.psi.length; i++) {
    const dpsi = Math.abs(((((a.psi[i] - b.psi[i]) % 360) + 540) % 360) - 180);
    if (
      dpsi > PSI_TOLERANCE ||
      a.shiftX[i] !== b.shiftX[i] ||
      a.shiftY[i] !== b.shiftY[i] ||
      a.mirror[i] !== b.mirror[i]
    )
      changed++;
  }
  return changed / a.psi.length;
}

/**
 * Reference-free alignment: every image's pose to the final global average, the aligned images,
 * and the (unaligned) working stack in memory.
 */
export async function referenceFreeAlign(
  ctx: PipelineContext,
): Promise<{ poses: ParticlePoses; aligned: Float32Array; images: Float32Array; rounds: number }> {
  const { stack, job } = ctx;
  const px = stack.box * stack.box;
  const n = stack.kept.length;
  const images = await stackImages(stack); // RFA holds the stack in memory (aligned images, PCA)
  let reference = rotationalAverage(meanImage(images, px), stack.box);
  let previous: ParticlePoses | undefined;
  const one = new Int32Array(n);
  for (let round = 1; ; round++) {
    throwIfAborted(job.signal);
    const table = await alignAll(images, reference, { ...ctx.alignOptions, ...job });
    const poses = posesFor(table, 1, one);
    ctx.onWithinIteration?.(round / RFA_MAX_ROUNDS);
    if (round === RFA_MAX_ROUNDS || (previous && changedFraction(poses, previous) < 0.01))
      return { poses, aligned: await applyPoses(images, stack.box, poses, job), images, rounds: round };
    reference = await averageWithPoses(images, stack.box, one, 1, poses, job);
    previous = poses;
  }
}

/** Runs RFA: reference-free alignment, PCA (9 factors), clustering in factor space (phase 'classes'). */
export async function runRfa(ctx: PipelineContext): Promise<PipelineOutcome> {
  const { stack, params, job } = ctx;
  const { aligned, images, poses } = await referenceFreeAlign(ctx);
  const dim = stack.box * stack.box;
  const components = Math.min(RFA_FACTORS, stack.kept.length, dim);
  const basis = await pca(aligned, { dim, components, ...job });
  const coords = await projectOnBasis(aligned, basis, job);
  const result = await ctx.phases.run('classes', new VectorSource(coords, components), ctx.clusterOptions);
  return {
    assignment: result.assignment,
    references: await averageWithPoses(images, stack.box, result.assignment, params.k, poses, job),
    converged: result.converged,
    iterations: result.state.iteration,
  };
}
