/**
 * MRA (multi-reference alignment, SPARX style): d(i, j) is the best match of image i to class
 * average j over rotation, the shift grid and mirror; class averages are made by applying each
 * member's pose for its own class.
 *
 * Two engines: for ACK-means without `exhaustive` (the default from 2·10⁴ particles, params.ts)
 * the scale engine (scale.ts: mini-batches, shortlists, coarse-to-fine, sparse tables); with
 * `exhaustive` (and always for the other methods) the round-1 engine, one alignment of all
 * images to all references per iteration, after the coarse starts of mra-start.ts.
 */
import {
  type ClassifyParams,
  CLASSIFY_DEFAULTS,
  SCALE_ENGINE_MIN_PARTICLES,
  resolveExhaustive,
  visitAllowance,
} from './params.js';
import type { PipelineContext, PipelineOutcome } from './pipeline.js';
import { mraSource, mraStart } from './mra-start.js';
import { type ScaleState, runScale } from './scale.js';

/** Whether MRA runs on the scale engine for these parameters. */
export function usesScaleEngine(params: Pick<PipelineContext['params'], 'exhaustive' | 'method'>): boolean {
  return !params.exhaustive && params.method === 'ack';
}

/**
 * Why a classification with these (possibly unresolved) parameters of `count` particles does
 * not run the scale engine, the only one whose passes an executor other than the local one
 * runs; undefined when it does.
 */
export function whyNotScaleEngine(params: ClassifyParams, count: number): string | undefined {
  const d = CLASSIFY_DEFAULTS;
  const pipeline = params.pipeline ?? d.pipeline;
  const method = params.method ?? d.method;
  if (pipeline !== 'mra') return `the ${pipeline} pipeline runs the exhaustive engine`;
  if (method !== 'ack') return `method ${method} runs the exhaustive engine`;
  if (params.exhaustive === true) return 'exhaustive was asked for';
  if (resolveExhaustive(params.exhaustive, count))
    return `${count} particles (under ${SCALE_ENGINE_MIN_PARTICLES}) run the exhaustive engine unless exhaustive is false (--no-exhaustive)`;
  return undefined;
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
        shortlistRefresh: ctx.params.shortlistRefresh,
        ...(ctx.params.maxVisits > 0 ? { maxVisits: ctx.params.maxVisits } : {}),
        ...(ctx.params.settleSigma > 0
          ? { settle: { visits: visitAllowance(stack.kept.length, c.k), sigma: ctx.params.settleSigma } }
          : {}),
        ...(ctx.executor ? { executor: ctx.executor } : {}),
        ...(stack.scratchDir === undefined ? {} : { scratch: stack.scratchDir }),
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
