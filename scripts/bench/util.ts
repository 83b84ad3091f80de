/** Helpers shared by the benchmarks (not a benchmark itself: `bench.ts` skips names starting with "util"). */
import { parseArgs } from 'node:util';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn` `reps` times after one warm-up; returns the wall times in seconds. */
export async function timeIt(reps: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times;
}

/** Parses --name value options of a benchmark. */
export function options<T extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(
  args: string[],
  spec: T,
) {
  return parseArgs({ args, options: spec, allowPositionals: false, strict: true }).values;
}

/** Deterministic pseudo-random Float32Array in [-1, 1). */
export function randomFloats(n: number, seed = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}
