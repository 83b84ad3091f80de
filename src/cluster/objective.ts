/**
 * The two terms of the ACK-means objective J = Σ_i d(i, p_i) + λ·Σ_j s_j², and class counts.
 */

/** J1 = Σ_i d(i, p_i) over the n×k table (summed in double precision). */
export function dataTerm(table: Float32Array, k: number, assignment: Int32Array): number {
  let s = 0;
  for (let i = 0; i < assignment.length; i++) s += table[i * k + assignment[i]];
  return s;
}

/** J2 = λ·Σ_j s_j². */
export function sizeTerm(sizes: Int32Array, lambda: number): number {
  let s = 0;
  for (let j = 0; j < sizes.length; j++) s += sizes[j] * sizes[j];
  return lambda * s;
}

/** Members per class of an assignment with values in [0, k). */
export function classSizes(assignment: Int32Array, k: number): Int32Array {
  const sizes = new Int32Array(k);
  for (let i = 0; i < assignment.length; i++) sizes[assignment[i]]++;
  return sizes;
}

/** Number of classes without members. */
export function countEmpty(sizes: Int32Array): number {
  let e = 0;
  for (let j = 0; j < sizes.length; j++) if (sizes[j] === 0) e++;
  return e;
}
