/**
 * Streaming statistics of angular distances: a weighted histogram, the median and the fractions
 * under 10°, 15° and 20° (SPEC §6), without storing the distances.
 *
 * The median comes from a fine histogram of 0.01° bins that also keeps the smallest and largest
 * value in each bin, interpolated inside the bin where the cumulative weight crosses one half:
 * it is within 0.01° of the exact median (exact when the middle values sit in bins of their own). The
 * fractions are counted exactly.
 */

/** The thresholds (degrees) whose fraction of pairs is reported. */
export const THRESHOLDS = [10, 15, 20] as const; // unrolled in AngleAccumulator.add

/** Statistics of one set of within-class angular distances. */
export interface AngularStats {
  /** Width of each histogram bin, in degrees. */
  binWidth: number;
  /** Upper end of the histogram: 180° (a view and its mirror differ) or 90° (they count as one). */
  maxAngle: number;
  /**
   * Fraction of the pairs whose distance lies in bin b, [b·binWidth, (b+1)·binWidth) (the last
   * bin includes maxAngle). Sums to 1; all zeros when there are no pairs.
   */
  histogram: Float64Array;
  /** Median distance in degrees (within 0.01°); NaN when there are no pairs. */
  median: number;
  /** Mean distance in degrees; NaN when there are no pairs. */
  mean: number;
  /** Fraction of the pairs with a distance strictly under 10°, 15° and 20°; NaN when there are no pairs. */
  fractionUnder: { 10: number; 15: number; 20: number };
}

/** Fine bins per degree (bins of 0.01°). */
const BINS_PER_DEGREE = 100;

/** Accumulates weighted angular distances in [0, maxAngle]. */
export class AngleAccumulator {
  private readonly fine: Float64Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly under = new Float64Array(THRESHOLDS.length);
  private total = 0;
  private sum = 0;

  /** @param maxAngle 180 or 90 (degrees). */
  constructor(readonly maxAngle: number) {
    const bins = Math.round(maxAngle * BINS_PER_DEGREE);
    this.fine = new Float64Array(bins);
    this.lo = new Float64Array(bins).fill(Infinity);
    this.hi = new Float64Array(bins).fill(-Infinity);
  }

  /** Adds one distance (degrees, clamped to [0, maxAngle]) with a weight (1 unless pairs were sampled). */
  add(degrees: number, weight: number): void {
    const d = degrees < 0 ? 0 : degrees > this.maxAngle ? this.maxAngle : degrees;
    let b = (d * BINS_PER_DEGREE) | 0;
    if (b >= this.fine.length) b = this.fine.length - 1;
    this.fine[b] += weight;
    if (d < this.lo[b]) this.lo[b] = d;
    if (d > this.hi[b]) this.hi[b] = d;
    this.total += weight;
    this.sum += weight * d;
    if (d < 20) {
      this.under[2] += weight;
      if (d < 15) {
        this.under[1] += weight;
        if (d < 10) this.under[0] += weight;
      }
    }
  }

  /** The statistics, with a histogram of `binWidth`-degree bins (binWidth must divide maxAngle). */
  stats(binWidth: number): AngularStats {
    const nb = Math.round(this.maxAngle / binWidth);
    if (!(binWidth > 0) || Math.abs(nb * binWidth - this.maxAngle) > 1e-9)
      throw new RangeError(`binWidth must divide ${this.maxAngle}, got ${binWidth}`);
    const per = Math.round(binWidth * BINS_PER_DEGREE);
    const histogram = new Float64Array(nb);
    const empty = this.total === 0;
    if (!empty)
      for (let b = 0; b < this.fine.length; b++) histogram[Math.floor(b / per)] += this.fine[b] / this.total;
    const frac = (t: number) => (empty ? NaN : this.under[t] / this.total);
    return {
      binWidth,
      maxAngle: this.maxAngle,
      histogram,
      median: empty ? NaN : this.quantile(0.5),
      mean: empty ? NaN : this.sum / this.total,
      fractionUnder: { 10: frac(0), 15: frac(1), 20: frac(2) },
    };
  }

  /** The q-quantile, interpolated between the smallest and largest value of the crossing bin. */
  private quantile(q: number): number {
    const target = q * this.total;
    let cum = 0;
    for (let b = 0; b < this.fine.length; b++) {
      const w = this.fine[b];
      if (w === 0) continue;
      if (cum + w > target) return this.lo[b] + ((target - cum) / w) * (this.hi[b] - this.lo[b]);
      cum += w;
      if (cum === target) {
        // The quantile falls between two bins (an even count): average their neighbouring values.
        let next = b + 1;
        while (next < this.fine.length && this.fine[next] === 0) next++;
        return next < this.fine.length ? (this.hi[b] + this.lo[next]) / 2 : this.hi[b];
      }
    }
    return this.hi[this.fine.length - 1];
  }
}
