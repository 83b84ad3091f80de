/** The adjusted Rand index (Hubert & Arabie 1985) between two partitions of the same items. */

/**
 * ARI of two labelings of n items (any integer labels). 1 for identical partitions (up to
 * renaming), about 0 for independent ones, negative when worse than chance. When both
 * partitions are trivial (one group, or all singletons) the index is undefined and 1 is returned
 * if they are identical, as scikit-learn does.
 */
export function adjustedRandIndex(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) throw new RangeError(`labelings differ in length (${a.length} vs ${b.length})`);
  const n = a.length;
  const rowOf = denseLabels(a);
  const colOf = denseLabels(b);
  const cells = new Map<number, number>();
  const rows = new Float64Array(rowOf.count);
  const cols = new Float64Array(colOf.count);
  for (let i = 0; i < n; i++) {
    const r = rowOf.ids[i];
    const c = colOf.ids[i];
    rows[r]++;
    cols[c]++;
    const key = r * colOf.count + c;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  const pairs = (m: number) => (m * (m - 1)) / 2;
  let index = 0;
  for (const m of cells.values()) index += pairs(m);
  let sumRows = 0;
  for (const m of rows) sumRows += pairs(m);
  let sumCols = 0;
  for (const m of cols) sumCols += pairs(m);
  const expected = n > 1 ? (sumRows * sumCols) / pairs(n) : 0;
  const max = (sumRows + sumCols) / 2;
  if (max === expected) return index === max ? 1 : 0;
  return (index - expected) / (max - expected);
}

function denseLabels(labels: Int32Array): { ids: Int32Array; count: number } {
  const map = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = map.get(labels[i]);
    if (id === undefined) {
      id = map.size;
      map.set(labels[i], id);
    }
    ids[i] = id;
  }
  return { ids, count: map.size };
}
