/** Class-size statistics (SPEC §6): sorted sizes, coefficient of variation, empty and single-member classes. */

/** Balance of a classification. */
export interface SizeStats {
  /** Class sizes sorted ascending (flat is balanced). */
  sizes: Int32Array;
  /**
   * Coefficient of variation of the sizes: population standard deviation / mean, with
   * mean = n/k and sd = sqrt(Σ (s_j − mean)² / k). 0 for perfectly equal classes.
   */
  sizeCv: number;
  /** Number of classes with no member. */
  emptyClasses: number;
  /** Number of classes with exactly one member. */
  singletonClasses: number;
}

/** Size of each class (0-based class ids, all in [0, k)). */
export function classSizes(classes: Int32Array, k: number): Int32Array {
  const s = new Int32Array(k);
  for (let i = 0; i < classes.length; i++) s[classes[i]]++;
  return s;
}

/** Statistics of class sizes given per class (in any order). */
export function sizeStats(sizes: ArrayLike<number>): SizeStats {
  const sorted = Int32Array.from(sizes).sort();
  const k = sorted.length;
  let n = 0;
  for (const s of sorted) n += s;
  const mean = n / k;
  let ss = 0;
  let empty = 0;
  let single = 0;
  for (const s of sorted) {
    ss += (s - mean) ** 2;
    if (s === 0) empty++;
    if (s === 1) single++;
  }
  return {
    sizes: sorted,
    sizeCv: mean > 0 ? Math.sqrt(ss / k) / mean : NaN,
    emptyClasses: empty,
    singletonClasses: single,
  };
}
