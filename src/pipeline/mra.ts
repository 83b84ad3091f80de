/**
 * MRA (multi-reference alignment, SPARX style): d(i, j) is the best match of image i to class
 * average j over rotation, the shift grid and mirror; class averages are made by applying each
 * member's pose for its own class. One alignment of all images to all references per iteration.
 */
import { createAlignmentSource } from '../align/source.js';
import type { PipelineContext, PipelineOutcome } from './pipeline.js';

/** Runs MRA clustering: one phase, 'classes'. */
export async function runMra(ctx: PipelineContext): Promise<PipelineOutcome> {
  const { stack } = ctx;
  const source = createAlignmentSource(stack.images, {
    ...ctx.alignOptions,
    onProgress: (p) => ctx.onWithinIteration?.(p.fraction),
  });
  const result = await ctx.phases.run('classes', source, ctx.clusterOptions);
  return {
    assignment: result.assignment,
    references: result.references,
    converged: result.converged,
    iterations: result.state.iteration,
  };
}
