/**
 * Distance table for aligned data: n = 10,000, k = 100, D = 4,096 (64×64 images).
 * Prints wall time, GFLOP/s (2nkD flops), the plain sgemm rate of this machine on the same
 * shape measured in the same run, and their ratio (target ≥ 0.70).
 */
import { availableParallelism } from 'node:os';
import { distanceTable } from '../../src/distances.js';
import { native } from '../../src/native.js';
import { median, options, randomFloats, timeIt } from './util.js';

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '10000' },
    k: { type: 'string', default: '100' },
    dim: { type: 'string', default: '4096' },
    reps: { type: 'string', default: '7' },
    threads: { type: 'string' },
  });
  const n = Number(o.n);
  const k = Number(o.k);
  const dim = Number(o.dim);
  const reps = Number(o.reps);
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  const images = randomFloats(n * dim, 1);
  const refs = randomFloats(k * dim, 2);
  const flops = 2 * n * k * dim;
  log(`distance table: n=${n} k=${k} D=${dim} threads=${threads}, ${reps} repetitions (median)`);
  const tableTimes: number[] = [];
  const peaks: number[] = [];
  // Interleave the two measurements so both see the same machine state.
  for (let r = 0; r < reps; r++) {
    tableTimes.push(median(await timeIt(1, () => distanceTable(images, refs, { dim, threads }))));
    peaks.push(await native().gemmPeak({ kind: 's', m: n, n: k, k: dim, threads, reps: 1 }));
  }
  const seconds = median(tableTimes);
  const gflops = flops / seconds / 1e9;
  const sgemmGflops = median(peaks);
  const ratio = gflops / sgemmGflops;
  log(`  wall time         ${seconds.toFixed(4)} s`);
  log(`  distance table    ${gflops.toFixed(1)} GFLOP/s`);
  log(
    `  plain sgemm       ${sgemmGflops.toFixed(1)} GFLOP/s (OpenBLAS, ${threads} threads, same ${n}×${k}×${dim} shape)`,
  );
  log(`  ratio             ${(ratio * 100).toFixed(1)} % (target ≥ 70 %)`);
  return { name: 'distances', n, k, dim, threads, seconds, gflops, sgemmGflops, ratio };
}
