/**
 * Particle metadata names each particle's stack by a path: this turns those paths into the list
 * of distinct stacks (in first-seen order) and each particle's index into it.
 */
export function indexStackReferences(paths: readonly string[]): {
  references: string[];
  stackIndex: Int32Array;
} {
  const references: string[] = [];
  const lookup = new Map<string, number>();
  const stackIndex = new Int32Array(paths.length);
  paths.forEach((ref, i) => {
    let s = lookup.get(ref);
    if (s === undefined) {
      s = references.length;
      references.push(ref);
      lookup.set(ref, s);
    }
    stackIndex[i] = s;
  });
  return { references, stackIndex };
}
