/**
 * What every pipeline (MRA, MRA/MSA, RFA) receives and returns, and the final step they share:
 * every image aligned to its class's average, the averages remade with those poses, and the
 * resolution of each class from its even/odd halves (src/align's classAverages).
 */
import type { RunClusteringOptions } from '../cluster/index.js';
import type { PassExecutor } from './scale.js';
import type { JobOptions } from '../job.js';
import { classAverages } from '../align/average.js';
import { alignCandidates } from '../align/candidates.js';
import { type AlignOptions, keepEmpty } from './alignment.js';
import type { PhaseRunner } from './checkpoint.js';
import type { ResolvedParams } from './params.js';
import type { WorkingStack } from './stack.js';
import type { ParticlePoses } from './types.js';

/** Everything a pipeline needs. */
export interface PipelineContext {
  stack: WorkingStack;
  params: ResolvedParams;
  job: JobOptions;
  /** Alignment settings (box, rings, shifts, mirror) without the job options. */
  alignOptions: Omit<AlignOptions, 'threads' | 'signal' | 'onProgress'>;
  /** Clustering options of the main phase (k, method, β, σ0, cap, seed, threads, signal). */
  clusterOptions: RunClusteringOptions;
  /** Runs clustering phases with checkpoints. */
  phases: PhaseRunner;
  /** Progress within the current step (0..1), for progress bars. */
  onWithinIteration?: (fraction: number) => void;
  /** Where the scale engine's candidate passes run (default: in this process). */
  executor?: PassExecutor;
}

/** What a pipeline returns before the final step. */
export interface PipelineOutcome {
  /** Class of each image, 0-based. */
  assignment: Int32Array;
  /** Class averages in image space (k·box²), the references of the final alignment. */
  references: Float32Array;
  converged: boolean;
  /** Iterations of the main clustering phase after the initial assignment. */
  iterations: number;
}

/** The final classes: poses to the class averages, the averages, sizes and resolutions. */
export interface FinalClasses {
  poses: ParticlePoses;
  averages: Float32Array;
  sizes: number[];
  resolution: number[];
}

/**
 * Aligns every image to its final class average (only to its own: O(n), not O(n·k)), remakes
 * the averages (even/odd halves too) with those poses and estimates each class's resolution.
 * The same for every pipeline, so outputs mean the same thing.
 */
export async function finalClasses(ctx: PipelineContext, outcome: PipelineOutcome): Promise<FinalClasses> {
  const { stack, params, job } = ctx;
  const own = await alignCandidates(stack.images, outcome.references, outcome.assignment, 1, {
    ...ctx.alignOptions,
    ...job,
  });
  const poses: ParticlePoses = {
    psi: own.psi,
    shiftX: own.shiftX,
    shiftY: own.shiftY,
    mirror: own.mirror,
    score: own.score,
  };
  const avg = await classAverages(stack.images, stack.box, outcome.assignment, params.k, poses, job);
  return {
    poses,
    averages: keepEmpty(avg.averages, avg.sizes, stack.box * stack.box, outcome.references),
    sizes: Array.from(avg.sizes),
    // the engine gives the even/odd FRC resolution in pixels (NaN under 2 members)
    resolution: Array.from(avg.resolution, (r) => (Number.isFinite(r) ? r * stack.pixelSize : Infinity)),
  };
}
