/**
 * EQK-means, equal-size K-means (SPARX/ISAC; SPEC §2): capacity c = ⌊n/k⌋; all (image, class)
 * pairs sorted best-first (smallest dissimilarity, ties by pair index); walk the list, skipping
 * images already placed and classes already full; the class that fills last takes the n mod k
 * remainder (once k−1 classes are full, the last one accepts every image left).
 */
import type { AssignmentRule, PassContext } from './rule.js';

/** Maps float32 bit patterns to unsigned integers in the same order as the floats. */
function sortableKeys(table: Float32Array): Uint32Array {
  const bits = new Uint32Array(table.buffer, table.byteOffset, table.length);
  const keys = new Uint32Array(table.length);
  for (let p = 0; p < keys.length; p++) {
    const b = bits[p];
    keys[p] = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  }
  return keys;
}

/** Pair indices 0..m−1 sorted by table value, ties by index (stable LSD radix sort, 2×16 bits). */
export function sortPairs(table: Float32Array): Uint32Array {
  const m = table.length;
  let keys: Uint32Array = sortableKeys(table);
  let idx: Uint32Array = new Uint32Array(m);
  for (let p = 0; p < m; p++) idx[p] = p;
  let keys2: Uint32Array = new Uint32Array(m);
  let idx2: Uint32Array = new Uint32Array(m);
  const count = new Uint32Array(65536);
  for (const shift of [0, 16]) {
    count.fill(0);
    for (let p = 0; p < m; p++) count[(keys[p] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let p = 0; p < m; p++) {
      const q = count[(keys[p] >>> shift) & 0xffff]++;
      keys2[q] = keys[p];
      idx2[q] = idx[p];
    }
    [keys, keys2] = [keys2, keys];
    [idx, idx2] = [idx2, idx];
  }
  return idx;
}

/** The greedy equal-size assignment of the n×k table; overwrites `assignment` and `sizes`. */
export function eqkAssign(
  table: Float32Array,
  n: number,
  k: number,
  assignment: Int32Array,
  sizes: Int32Array,
): void {
  const cap = Math.floor(n / k);
  const remainder = n % k;
  const full = new Uint8Array(k);
  const placed = new Uint8Array(n);
  sizes.fill(0);
  let fullCount = 0;
  let left = n;
  const order = sortPairs(table);
  for (let o = 0; o < order.length && left > 0; o++) {
    const p = order[o];
    const i = Math.floor(p / k);
    const j = p - i * k;
    if (placed[i] || full[j]) continue;
    placed[i] = 1;
    assignment[i] = j;
    left--;
    const limit = fullCount === k - 1 ? cap + remainder : cap;
    if (++sizes[j] === limit) {
      full[j] = 1;
      fullCount++;
    }
  }
}

function equalSize({ table, n, k, assignment, sizes }: PassContext) {
  if (!table) throw new Error('EQK-means needs the dissimilarity table');
  const before = assignment.slice();
  eqkAssign(table, n, k, assignment, sizes);
  let moves = 0;
  for (let i = 0; i < n; i++) if (assignment[i] !== before[i]) moves++;
  return { moves };
}

/** The EQK-means rule: the equal-size assignment, from the start and at every pass. */
export const eqkRule: AssignmentRule = {
  stop: 'sigma',
  leaveOneOut: true,
  needsTable: () => true,
  initial: equalSize,
  pass: equalSize,
};
