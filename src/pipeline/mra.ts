/**
 * MRA (multi-reference alignment, SPARX style): d(i, j) is the best match of image i to class
 * average j over rotation, the shift grid and mirror; class averages are made by applying each
 * member's pose for its own class. One alignment of all images to all references per iteration.
 */
import type { DissimilaritySource, References } from '../cluster/source.js';
import type { JobOptions } from '../job.js';
import { type AlignOptions, type AlignResult, alignAll, classAverages, posesFor } from './alignment.js';
import type { PipelineContext, PipelineOutcome } from './pipeline.js';

/** The alignment dissimilarity over a stack of preprocessed images. */
export class AlignmentSource implements DissimilaritySource {
  readonly n: number;
  readonly dim: number;
  private last?: { result: AlignResult; k: number };

  constructor(
    private readonly images: Float32Array,
    private readonly box: number,
    private readonly align: Omit<AlignOptions, 'threads' | 'signal' | 'onProgress'>,
    private readonly onProgress?: (fraction: number) => void,
  ) {
    this.dim = box * box;
    this.n = images.length / this.dim;
  }

  async initialReferences(items: Int32Array): Promise<References> {
    const refs = new Float32Array(items.length * this.dim);
    items.forEach((item, j) =>
      refs.set(this.images.subarray(item * this.dim, (item + 1) * this.dim), j * this.dim),
    );
    return refs;
  }

  async table(references: References, options: JobOptions): Promise<Float32Array> {
    const result = await alignAll(this.images, references, {
      ...this.align,
      threads: options.threads,
      signal: options.signal,
      ...(this.onProgress ? { onProgress: (p: { fraction: number }) => this.onProgress?.(p.fraction) } : {}),
    });
    this.last = { result, k: references.length / this.dim };
    return result.score;
  }

  async average(assignment: Int32Array, k: number, previous: References): Promise<References> {
    if (!this.last || this.last.k !== k)
      throw new Error('AlignmentSource.average needs a table to the same k references first');
    return classAverages(
      this.images,
      this.box,
      assignment,
      k,
      posesFor(this.last.result, k, assignment),
      previous,
    ).averages;
  }
}

/** Runs MRA clustering: one phase, 'classes'. */
export async function runMra(ctx: PipelineContext): Promise<PipelineOutcome> {
  const { stack } = ctx;
  const source = new AlignmentSource(stack.images, stack.box, ctx.alignOptions, ctx.onWithinIteration);
  const result = await ctx.phases.run('classes', source, ctx.clusterOptions);
  return {
    assignment: result.assignment,
    references: result.references,
    converged: result.converged,
    iterations: result.state.iteration,
  };
}
