/**
 * MRA (multi-reference alignment, SPARX style): d(i, j) is the best match of image i to class
 * average j over rotation, the shift grid and mirror; class averages are made by applying each
 * member's pose for its own class.
 *
 * Two engines: by default (ACK-means) the scale engine (scale.ts: mini-batches, shortlists,
 * coarse-to-fine, sparse tables); with `exhaustive` (and for the other methods) the round-1
 * engine, one alignment of all images to all references per iteration.
 */
import { createAlignmentSource } from '../align/source.js';
import type { PipelineContext, PipelineOutcome } from './pipeline.js';
import { type ScaleState, runScale } from './scale.js';

/** Whether MRA runs on the scale engine for these parameters. */
export function usesScaleEngine(params: PipelineContext['params']): boolean {
  return !params.exhaustive && params.method === 'ack';
}

/** Runs MRA clustering: one phase, 'classes'. */
export async function runMra(ctx: PipelineContext): Promise<PipelineOutcome> {
  const { stack } = ctx;
  const progress = (fraction: number): void => ctx.onWithinIteration?.(fraction);
  if (usesScaleEngine(ctx.params)) {
    const c = ctx.clusterOptions;
    const result = await ctx.phases.runWith<ScaleState>('classes', (hooks) =>
      runScale(stack.images, {
        k: c.k,
        beta: c.beta,
        sigma0: c.sigma0,
        maxIter: c.maxIter,
        seed: c.seed,
        threads: c.threads,
        signal: c.signal,
        align: ctx.alignOptions,
        shortlist: ctx.params.shortlist,
        ...(ctx.executor ? { executor: ctx.executor } : {}),
        onProgress: progress,
        ...hooks,
      }),
    );
    return {
      assignment: result.assignment,
      references: result.references,
      converged: result.converged,
      iterations: result.state.iteration,
    };
  }
  const source = createAlignmentSource(stack.images, {
    ...ctx.alignOptions,
    onProgress: (p) => progress(p.fraction),
  });
  const result = await ctx.phases.run('classes', source, ctx.clusterOptions);
  return {
    assignment: result.assignment,
    references: result.references,
    converged: result.converged,
    iterations: result.state.iteration,
  };
}
