/**
 * The MRA dissimilarity source: the clustering driver's view of multi-reference alignment.
 * `table` aligns every image to every reference and remembers all n×k parameters; `average`
 * makes class averages with each member's parameters for its own class.
 */
import { AckmeansError, checkInt } from '../errors.js';
import type { JobOptions } from '../job.js';
import type { DissimilaritySource, References } from '../cluster/source.js';
import { type AlignResult, align } from './align.js';
import { type ClassAverages, classAverages } from './average.js';
import { type AlignOptions, resolveAlignOptions } from './options.js';
import { type Images, imageCount } from './provider.js';

/** Each image's alignment to its own class, and its dissimilarity to it (n values each). */
export interface OwnClassParameters {
  psi: Float32Array;
  shiftX: Float32Array;
  shiftY: Float32Array;
  score: Float32Array;
  mirror: Uint8Array;
}

/** A {@link DissimilaritySource} built on {@link align}, with access to what it found. */
export interface AlignmentSource extends DissimilaritySource {
  /** Each image's parameters for its class in `assignment`, from the last `table`. */
  parametersFor(assignment: Int32Array): OwnClassParameters;
  /** The last alignment (all n×k parameters), once `table` has run. */
  readonly lastAlignment: AlignResult | undefined;
  /** The last class averages with their even/odd halves, FRC and resolution, once `average` has run. */
  readonly lastAverages: ClassAverages | undefined;
}

/**
 * The MRA dissimilarity source over `images` (array or provider), aligning with `options`
 * (box required; threads/signal/onProgress given to `table`/`average` take precedence).
 */
export function createAlignmentSource(images: Images, options: AlignOptions): AlignmentSource {
  const box = resolveAlignOptions(options).settings.box;
  const n = imageCount('images', images, box);
  const dim = box * box;
  let last: AlignResult | undefined;
  let lastK = 0;
  let lastAverages: ClassAverages | undefined;

  const requireTable = (assignment: Int32Array): AlignResult => {
    if (!last)
      throw new AckmeansError(
        'ERR_NO_ALIGNMENT',
        'the alignment source has no table yet: call table() first',
      );
    if (!(assignment instanceof Int32Array) || assignment.length !== n)
      throw new TypeError(`assignment must be an Int32Array of n (${n}) values`);
    return last;
  };
  const gather = (assignment: Int32Array): OwnClassParameters => {
    const t = requireTable(assignment);
    const out: OwnClassParameters = {
      psi: new Float32Array(n),
      shiftX: new Float32Array(n),
      shiftY: new Float32Array(n),
      score: new Float32Array(n),
      mirror: new Uint8Array(n),
    };
    for (let i = 0; i < n; i++) {
      const j = assignment[i];
      if (j < 0) continue;
      if (j >= lastK)
        throw new RangeError(`assignment[${i}] = ${j} is not a class of the last table (k = ${lastK})`);
      const idx = i * lastK + j;
      out.psi[i] = t.psi[idx];
      out.shiftX[i] = t.shiftX[idx];
      out.shiftY[i] = t.shiftY[idx];
      out.score[i] = t.score[idx];
      out.mirror[i] = t.mirror[idx];
    }
    return out;
  };
  const jobOptions = (job: JobOptions): AlignOptions => ({
    ...options,
    threads: job.threads ?? options.threads,
    signal: job.signal ?? options.signal,
    onProgress: job.onProgress ?? options.onProgress,
  });

  return {
    n,
    dim,
    get lastAlignment() {
      return last;
    },
    get lastAverages() {
      return lastAverages;
    },
    async initialReferences(items: Int32Array): Promise<References> {
      const refs = new Float32Array(items.length * dim);
      for (let r = 0; r < items.length; r++) {
        const i = checkInt(`items[${r}]`, items[r], 0, n - 1);
        const image =
          images instanceof Float32Array ? images.subarray(i * dim, (i + 1) * dim) : await images.read(i, 1);
        if (image.length !== dim)
          throw new AckmeansError(
            'ERR_PROVIDER',
            `ImageProvider.read(${i}, 1) returned ${image.length} values, expected ${dim}`,
          );
        refs.set(image, r * dim);
      }
      return refs;
    },
    async table(references: References, job: JobOptions): Promise<Float32Array> {
      const result = await align(images, references, jobOptions(job));
      last = result;
      lastK = references.length / dim;
      return result.score;
    },
    async average(
      assignment: Int32Array,
      k: number,
      previous: References,
      job: JobOptions,
    ): Promise<References> {
      const own = gather(assignment);
      const { threads, signal, onProgress } = jobOptions(job);
      const result = await classAverages(images, box, assignment, k, own, { threads, signal, onProgress });
      lastAverages = result;
      const refs = result.averages.slice();
      for (let j = 0; j < k; j++)
        if (result.sizes[j] === 0) refs.set(previous.subarray(j * dim, (j + 1) * dim), j * dim);
      return refs;
    },
    parametersFor: gather,
  };
}
