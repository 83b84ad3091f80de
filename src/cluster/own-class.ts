/**
 * The own-class correction (the root fix of the singleton trap) and the refill of classes left
 * with at most one member.
 *
 * ## Leave-one-out dissimilarity
 * A class average contains each of its members, so an image always looks closer to its own class
 * than it is: a class of one member *is* its member (dissimilarity 0) and keeps it forever. Each
 * image is therefore measured against its own class's average **without it**: with μ the average
 * of the s members (aligned with their poses) and x the image at its pose, the average without x
 * is μ′ = (s·μ − x)/(s − 1), and
 *
 *   x − μ′ = s/(s−1)·(x − μ)   ⇒   ‖x − μ′‖² = (s/(s−1))²·‖x − μ‖².
 *
 * For squared Euclidean distance (aligned images, factor coordinates) this is exact. For the MRA
 * score d = min over poses θ of ‖x_θ‖² + ‖μ‖² − 2⟨x_θ, μ⟩ = min_θ ‖x_θ − μ‖² (a weighted polar
 * norm, linear in μ), let θ* be the best pose, and let x enter μ at that pose (true once poses
 * are stable between iterations). The same identity at θ* gives ‖x_θ* − μ′‖² = (s/(s−1))²·d, and
 * the leave-one-out score min_θ ‖x_θ − μ′‖² is at most that: the factor is exact when removing x
 * does not move the best pose, and an upper bound otherwise. (It is Späth's own-class factor
 * s/(s−1) squared: Späth's factor is the change of the within-class sum of squares, this is the
 * distance to the average without the image.)
 *
 * A class of one member has no average without it: its member's own entry is +∞, so the member
 * joins another class (when n ≥ 2k; with fewer than 2 images per class single members are
 * unavoidable and their entries are left as they are).
 *
 * The correction changes only the table the pass reads, never the rule: with the table fixed
 * during a pass, every ACK-means move still lowers J = Σ_i d̃(i, p_i) + λ·Σ s², d̃ the corrected
 * table (d̃(i, j) is i's dissimilarity to class j's average without i, which is class j's plain
 * average for every class but the one i was averaged into).
 *
 * ## Refill
 * A class that ends a pass with fewer than two members (one when n < 2k) takes half of the
 * largest class: the members most drawn to it (smallest d(i, j) − d(i, c)).
 */

/**
 * (s/(s−1))², the factor from the squared distance to the average of a class of s members that
 * contains the image to the squared distance to the average without it; +∞ for s = 1.
 */
export function leaveOneOutFactor(s: number): number {
  if (!Number.isInteger(s) || s < 1) throw new RangeError(`class size must be an integer >= 1, got ${s}`);
  if (s === 1) return Infinity;
  const f = s / (s - 1);
  return f * f;
}

/**
 * Measures every image against its own class's average without it: multiplies table[i, a_i] by
 * {@link leaveOneOutFactor}(s_{a_i}), in place. `averagedFrom` is the assignment the references
 * of the table are the averages of, `sizes` its class counts (n ≥ 2k makes a single member's
 * entry +∞; otherwise single members are left as they are). Items with class −1 are skipped.
 */
export function correctOwnClass(
  table: Float32Array,
  n: number,
  k: number,
  averagedFrom: Int32Array,
  sizes: Int32Array,
): void {
  if (table.length !== n * k) throw new RangeError(`table.length (${table.length}) must be n·k (${n}·${k})`);
  const singletons = n >= 2 * k;
  for (let i = 0; i < n; i++) {
    const j = averagedFrom[i];
    if (j < 0) continue;
    const s = sizes[j];
    if (s === 1 && !singletons) continue;
    table[i * k + j] *= leaveOneOutFactor(s);
  }
}

/** The smallest class size a result may have: 2 when n ≥ 2k, else 1. */
export function minimumClassSize(n: number, k: number): number {
  return n >= 2 * k ? 2 : 1;
}

/**
 * Gives every class with fewer than {@link minimumClassSize} members part of the largest class
 * (lowest index on ties): as many of its members as brings the two halfway to each other (at least
 * one), those with the smallest table[i, j] − table[i, c] first (ties: lowest index); repeated
 * until the class is large enough. Updates `assignment` and `sizes`; returns the number of
 * classes refilled. Deterministic.
 */
export function refillSmallClasses(
  table: Float32Array,
  n: number,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
): number {
  const min = minimumClassSize(n, k);
  let refilled = 0;
  for (let j = 0; j < k; j++) {
    if (sizes[j] >= min) continue;
    refilled++;
    while (sizes[j] < min) {
      let c = -1;
      for (let h = 0; h < k; h++) if (h !== j && (c < 0 || sizes[h] > sizes[c])) c = h;
      if (c < 0 || sizes[c] <= min) break; // nothing to give (n < min·k)
      const take = Math.min(sizes[c] - min, Math.max(1, Math.floor((sizes[c] - sizes[j]) / 2)));
      const members: number[] = [];
      for (let i = 0; i < n; i++) if (assignment[i] === c) members.push(i);
      const key = (i: number) => {
        const v = table[i * k + j] - table[i * k + c];
        return Number.isNaN(v) ? 0 : v;
      };
      members.sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        return ka < kb ? -1 : ka > kb ? 1 : a - b;
      });
      for (let m = 0; m < take; m++) assignment[members[m]] = j;
      sizes[c] -= take;
      sizes[j] += take;
    }
  }
  return refilled;
}
