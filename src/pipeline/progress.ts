/**
 * Progress of a classification as one number in [0, 1] with the stage, iteration, σ, class-size
 * spread and an estimate of the time left. Stages take fixed shares of the bar: preprocess 5%,
 * align + cluster 85% (by iteration, up to the cap), average 7%, write 3%.
 */

/** A progress report of a classification. */
export interface ClassifyProgress {
  stage: 'preprocess' | 'align' | 'cluster' | 'average' | 'write';
  /**
   * Clustering iteration (0 = the initial assignment): the one in progress during `align` and
   * `cluster`, the last one finished during `average` and `write`.
   */
  iteration: number;
  /** The iteration cap. */
  maxIter: number;
  /** Overall fraction done, 0..1. */
  fraction: number;
  /** Fraction of images that changed class in the last iteration. */
  sigma?: number;
  /** Coefficient of variation of the class sizes after the last iteration. */
  sizeCv?: number;
  /** Seconds left, estimated from the time per iteration (an upper bound: the cap is assumed). */
  etaSeconds?: number;
}

const SHARES = {
  preprocess: [0, 0.05],
  align: [0.05, 0.9],
  cluster: [0.05, 0.9],
  average: [0.9, 0.97],
  write: [0.97, 1],
} as const;

/** Coefficient of variation (sd / mean) of class sizes. */
export function sizeCv(sizes: ArrayLike<number>): number {
  const n = sizes.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += sizes[i];
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (sizes[i] - mean) ** 2;
  return mean > 0 ? Math.sqrt(v / n) / mean : 0;
}

/** Turns stage and iteration events into {@link ClassifyProgress} reports. */
export class ProgressTracker {
  /** Iterations finished, over all phases (drives the bar). */
  private done = 0;
  /** Number of the last finished iteration of the current phase (-1: none yet). */
  private last = -1;
  private sigma?: number;
  private cv?: number;
  private clusterStart?: number;
  private stage: ClassifyProgress['stage'] = 'preprocess';

  constructor(
    private readonly maxIter: number,
    private readonly report?: (p: ClassifyProgress) => void,
  ) {}

  /** Reports `within` (0..1) of `stage`; in the clustering stages, within the current iteration. */
  update(stage: ClassifyProgress['stage'], within: number): void {
    this.stage = stage;
    if (!this.report) return;
    const [a, b] = SHARES[stage];
    const clustering = stage === 'align' || stage === 'cluster';
    if (clustering && this.clusterStart === undefined) this.clusterStart = performance.now();
    const inStage = clustering
      ? Math.min(1, (this.done + Math.min(1, within)) / (this.maxIter + 1))
      : Math.min(1, within);
    const p: ClassifyProgress = {
      stage,
      iteration: clustering ? this.last + 1 : Math.max(0, this.last),
      maxIter: this.maxIter,
      fraction: a + (b - a) * inStage,
    };
    if (this.sigma !== undefined) p.sigma = this.sigma;
    if (this.cv !== undefined) p.sizeCv = this.cv;
    if (clustering && this.clusterStart !== undefined && inStage > 0) {
      const elapsed = (performance.now() - this.clusterStart) / 1000;
      p.etaSeconds = (elapsed / inStage) * (1 - inStage);
    }
    this.report(p);
  }

  /** Records finished clustering iteration `iteration` (of any phase: the bar counts them all). */
  iterationDone(iteration: number, sigma: number, sizes: ArrayLike<number>): void {
    this.done++;
    this.last = iteration;
    this.sigma = sigma;
    this.cv = sizeCv(sizes);
    this.update(this.stage === 'preprocess' ? 'cluster' : this.stage, 0);
  }
}
