/**
 * Progress of a classification as one number in [0, 1] with the stage, iteration, σ, class-size
 * spread, the time elapsed and an estimate of the time left. Stages take fixed shares of the bar:
 * preprocess 5%, align + cluster 85%, average 7%, write 3%.
 *
 * The clustering share and the time left follow the number of iterations the run is expected to
 * take, not the cap: σ (the fraction of images changing class) falls about geometrically, so its
 * rate over the last few iterations predicts when it reaches σ₀; later phases of a multi-phase
 * pipeline are expected to take as many iterations as the current one. Before two iterations
 * are done, or when σ does not fall, the cap is assumed. The bar never moves back.
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
  /**
   * Seconds left in clustering: the time per iteration times the iterations still expected (see
   * the module documentation). An estimate, not a bound.
   */
  etaSeconds?: number;
  /** Seconds since the classification started. */
  elapsedSeconds: number;
}

/** What {@link ProgressTracker} needs to predict the iterations a run takes. */
export interface ProgressPlan {
  /** Iteration cap of one clustering phase (default: the whole cap is one phase). */
  maxIter?: number;
  /** Number of clustering phases (default 1). */
  phases?: number;
  /** The convergence threshold on σ (default: none, the cap is assumed). */
  sigma0?: number;
}

/** How many σ values the rate is estimated from. */
const RATE_WINDOW = 4;

/**
 * Iterations still expected in a phase whose σ so far (iterations 1, 2, …) is `sigmas`, stopping
 * at σ ≤ `sigma0` or at `cap` iterations: from the geometric rate of the last few values.
 * Undefined when that rate is unknown (fewer than two values) or σ does not fall.
 */
export function expectedIterationsLeft(
  sigmas: readonly number[],
  sigma0: number,
  cap: number,
): number | undefined {
  const last = sigmas.at(-1);
  if (last === undefined) return undefined;
  const done = sigmas.length;
  if (last <= sigma0) return 0;
  const window = sigmas.slice(-RATE_WINDOW);
  if (window.length < 2 || !(window[0] > 0)) return undefined;
  const rate = (last / window[0]) ** (1 / (window.length - 1));
  if (!(rate < 1) || !(last > 0)) return undefined;
  const left = Math.ceil(Math.log(sigma0 / last) / Math.log(rate) - 1e-9);
  return Math.max(1, Math.min(left, cap - done));
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
  /** Iterations finished, over all phases. */
  private done = 0;
  /** Number of the last finished iteration of the current phase (-1: none yet). */
  private last = -1;
  /** Phases started so far. */
  private phase = 0;
  /** σ of iterations 1, 2, … of the current phase. */
  private sigmas: number[] = [];
  private sigma?: number;
  private cv?: number;
  private readonly start = performance.now();
  private clusterStart?: number;
  private stage: ClassifyProgress['stage'] = 'preprocess';
  private shown = 0;
  private readonly perPhase: number;
  private readonly phases: number;

  /**
   * @param maxIter the iteration cap over all phases.
   * @param plan what predicts the iterations actually taken (see {@link ProgressPlan}).
   */
  constructor(
    private readonly maxIter: number,
    private readonly report?: (p: ClassifyProgress) => void,
    private readonly plan: ProgressPlan = {},
  ) {
    this.phases = Math.max(1, plan.phases ?? 1);
    this.perPhase = plan.maxIter ?? Math.ceil(maxIter / this.phases);
  }

  /** Iterations still expected after those finished, over this phase and the ones after it. */
  private iterationsLeft(): number {
    const capLeft = Math.max(0, this.maxIter - this.done);
    if (this.plan.sigma0 === undefined) return capLeft;
    const left = expectedIterationsLeft(this.sigmas, this.plan.sigma0, this.perPhase);
    if (left === undefined) return capLeft;
    const thisPhase = this.last + 1 + left; // iterations 0 … last, then `left` more
    return Math.min(capLeft, left + (this.phases - this.phase) * thisPhase);
  }

  /** Reports `within` (0..1) of `stage`; in the clustering stages, within the current iteration. */
  update(stage: ClassifyProgress['stage'], within: number): void {
    this.stage = stage;
    if (!this.report) return;
    const [a, b] = SHARES[stage];
    const clustering = stage === 'align' || stage === 'cluster';
    if (clustering && this.clusterStart === undefined) this.clusterStart = performance.now();
    const w = Math.min(1, Math.max(0, within));
    const expected = this.done + Math.max(1, this.iterationsLeft());
    const inStage = clustering ? Math.min(1, (this.done + w) / expected) : w;
    this.shown = Math.max(this.shown, a + (b - a) * inStage);
    const now = performance.now();
    const p: ClassifyProgress = {
      stage,
      iteration: clustering ? this.last + 1 : Math.max(0, this.last),
      maxIter: this.maxIter,
      fraction: this.shown,
      elapsedSeconds: (now - this.start) / 1000,
    };
    if (this.sigma !== undefined) p.sigma = this.sigma;
    if (this.cv !== undefined) p.sizeCv = this.cv;
    if (clustering && this.clusterStart !== undefined && this.done + w > 0) {
      const perIteration = (now - this.clusterStart) / 1000 / (this.done + w);
      p.etaSeconds = perIteration * Math.max(0, expected - this.done - w);
    }
    this.report(p);
  }

  /** Records finished clustering iteration `iteration` (of any phase: the bar counts them all). */
  iterationDone(iteration: number, sigma: number, sizes: ArrayLike<number>): void {
    if (iteration <= this.last || (iteration === 0 && this.done > 0)) {
      this.phase++;
      this.sigmas = [];
    }
    if (this.done === 0) this.phase = 1;
    this.done++;
    this.last = iteration;
    if (iteration > 0) this.sigmas.push(sigma);
    this.sigma = sigma;
    this.cv = sizeCv(sizes);
    this.update(this.stage === 'preprocess' ? 'cluster' : this.stage, 0);
  }
}
