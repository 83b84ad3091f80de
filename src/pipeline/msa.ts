/**
 * MRA/MSA (EMAN2 e2refine2d style):
 *   phase 'features'  invariant features (features.ts) → PCA ({@link MSA_FEATURE_FACTORS}
 *                     factors) → clustering with the chosen method: the first classes;
 *   rounds 1..{@link MSA_ROUNDS}  each image aligned to the k references (round 1: each first
 *                     class's medoid in feature space; then the class averages), taking its
 *                     best reference's pose; a PCA basis of the references (up to
 *                     {@link MSA_FACTORS} factors); the aligned images projected on it and
 *                     clustered there (squared Euclidean), starting from the best-reference
 *                     assignment; the new references are the class averages of the aligned images.
 */
import { VectorSource } from '../cluster/index.js';
import { applyPoses } from '../align/apply.js';
import { alignAll, averageWithPoses, bestReference, posesFor } from './alignment.js';
import { invariantFeatures } from './features.js';
import { pca, projectOnBasis } from './pca.js';
import type { PipelineContext, PipelineOutcome } from './pipeline.js';
import { stackImages } from './stack.js';

/** Alignment + clustering rounds after the first classes. */
export const MSA_ROUNDS = 3;
/** Factors of the invariant features kept for the first classes. */
export const MSA_FEATURE_FACTORS = 10;
/** Most factors of the reference basis in the rounds. */
export const MSA_FACTORS = 20;

/** For each class, the member closest to the class mean (its medoid), or item j when empty. */
function medoids(
  vectors: Float32Array,
  dim: number,
  assignment: Int32Array,
  centres: Float32Array,
  k: number,
): Int32Array {
  const best = Int32Array.from({ length: k }, (_, j) => j);
  const dist = new Float64Array(k).fill(Infinity);
  for (let i = 0; i < assignment.length; i++) {
    const j = assignment[i];
    let d = 0;
    for (let t = 0; t < dim; t++) d += (vectors[i * dim + t] - centres[j * dim + t]) ** 2;
    if (d < dist[j]) {
      dist[j] = d;
      best[j] = i;
    }
  }
  return best;
}

/** Runs MRA/MSA (see the module documentation). */
export async function runMsa(ctx: PipelineContext): Promise<PipelineOutcome> {
  const { stack, params, job } = ctx;
  const { k } = params;
  const px = stack.box * stack.box;
  const n = stack.kept.length;
  const images = await stackImages(stack); // MSA holds the stack in memory (features, PCA)
  const features = await invariantFeatures(images, stack.box, job);
  const fdim = features.length / n;
  const fbasis = await pca(features, {
    dim: fdim,
    components: Math.min(MSA_FEATURE_FACTORS, n, fdim),
    ...job,
  });
  const fcoords = await projectOnBasis(features, fbasis, job);
  const first = await ctx.phases.run(
    'features',
    new VectorSource(fcoords, fbasis.components),
    ctx.clusterOptions,
  );
  const seeds = medoids(fcoords, fbasis.components, first.assignment, first.references, k);
  let references: Float32Array = new Float32Array(k * px);
  seeds.forEach((i, j) => references.set(images.subarray(i * px, (i + 1) * px), j * px));
  let outcome: PipelineOutcome | undefined;
  for (let round = 1; round <= MSA_ROUNDS; round++) {
    const table = await alignAll(images, references, { ...ctx.alignOptions, ...job });
    const best = bestReference(table, n, k);
    const poses = posesFor(table, k, best);
    const aligned = await applyPoses(images, stack.box, poses, job);
    const basis = await pca(references, {
      dim: px,
      components: Math.max(1, Math.min(MSA_FACTORS, k - 1)),
      ...job,
    });
    const coords = await projectOnBasis(aligned, basis, job);
    const result = await ctx.phases.run(`round${round}`, new VectorSource(coords, basis.components), {
      ...ctx.clusterOptions,
      initial: { assignment: best },
    });
    references = await averageWithPoses(images, stack.box, result.assignment, k, poses, job, references);
    outcome = {
      assignment: result.assignment,
      references,
      converged: result.converged,
      iterations: result.state.iteration,
    };
  }
  return outcome!;
}
