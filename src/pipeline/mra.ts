/**
 * MRA (multi-reference alignment, SPARX style): d(i, j) is the best match of image i to class
 * average j over rotation, the shift grid and mirror; class averages are made by applying each
 * member's pose for its own class.
 *
 * Two engines: by default (ACK-means) the scale engine (scale.ts: mini-batches, shortlists,
 * coarse-to-fine, sparse tables); with `exhaustive` (and always for the other methods) the
 * round-1 engine, one alignment of all images to all references per iteration.
 */
import { type ClassifyParams, CLASSIFY_DEFAULTS } from './params.js';
import type { PipelineContext, PipelineOutcome } from './pipeline.js';
import { mraSource, mraStart } from './mra-start.js';
import { type ScaleState, runScale } from './scale.js';

/** Whether MRA runs on the scale engine for these parameters. */
export function usesScaleEngine(params: Pick<PipelineContext['params'], 'exhaustive' | 'method'>): boolean {
  return !params.exhaustive && params.method === 'ack';
}

/**
 * Whether a classification with these (possibly unresolved) parameters runs the scale engine,
 * the only one whose passes an executor other than the local one can run.
 */
export function runsScaleEngine(params: ClassifyParams): boolean {
  const d = CLASSIFY_DEFAULTS;
  return (
    (params.pipeline ?? d.pipeline) === 'mra' &&
    usesScaleEngine({ exhaustive: params.exhaustive ?? d.exhaustive, method: params.method ?? d.method })
  );
}

/**
 * Start phases an MRA run has before its main phase (mra-start.ts): the coarse starts of the
 * exhaustive engine, none for the scale engine or other pipelines.
 */
export function startPhaseCount(
  params: Pick<
    PipelineContext['params'],
    'pipeline' | 'exhaustive' | 'method' | 'startIterations' | 'starts'
  >,
): number {
  return params.pipeline === 'mra' && !usesScaleEngine(params) && params.startIterations > 0
    ? params.starts
    : 0;
}

/**
 * Runs MRA clustering: the coarse starts of mra-start.ts (exhaustive engine), then the main
 * phase, 'classes'.
 */
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
        ...(ctx.params.maxVisits > 0 ? { maxVisits: ctx.params.maxVisits } : {}),
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
  const start = await mraStart(ctx);
  const source = mraSource(ctx, start.bandLimit);
  const result = await ctx.phases.run('classes', source, {
    ...ctx.clusterOptions,
    ...(start.references ? { initial: { references: start.references } } : {}),
  });
  return {
    assignment: result.assignment,
    references: result.references,
    converged: result.converged,
    iterations: result.state.iteration,
  };
}
