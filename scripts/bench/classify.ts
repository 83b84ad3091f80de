/**
 * The product's main job at the paper's scale: 10,000 simulated 64×64 images (100 views of the
 * built-in phantom, CTF, SNR 1/3 by default), k = 100, MRA, ACK-means. Prints seconds per
 * iteration, seconds to convergence and the peak RSS. `--kernels`: the native kernels alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClassification } from '../../src/pipeline/run.js';
import type { TraceRow } from '../../src/pipeline/types.js';
import { simulate } from '../../src/sim/simulate.js';
import { native } from '../../src/native.js';
import { pca, projectOnBasis } from '../../src/pipeline/pca.js';
import { preprocessImages } from '../../src/pipeline/preprocess.js';
import { median, options, randomFloats, timeIt } from './util.js';

/**
 * The native kernels of the pipeline on their own: PCA of n images of 64² (covariance by tiled
 * sgemm, d²·n flops for its lower triangle, against this machine's plain sgemm on the same
 * shape), projection, and preprocessing (Fourier crop 200 → 64, normalise, mask) throughput.
 */
async function kernels(
  n: number,
  threads: number,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const d = 64 * 64;
  const data = randomFloats(n * d, 3);
  const [pcaSeconds] = await timeIt(1, () => pca(data, { dim: d, components: 9, threads }));
  const flops = d * d * n;
  const peak = await native().gemmPeak({ kind: 's', m: 256, n: d, k: n, threads, reps: 3 });
  const basis = await pca(data, { dim: d, components: 9, threads });
  const [projectSeconds] = await timeIt(1, () => projectOnBasis(data, basis, { threads }));
  const raw = randomFloats(2000 * 200 * 200, 4);
  const [preSeconds] = await timeIt(1, () =>
    preprocessImages(raw, { box: 200, outBox: 64, radius: 25, threads }),
  );
  log(`kernels (threads=${threads}):`);
  log(
    `  PCA n=${n} d=${d} q=9     ${pcaSeconds.toFixed(2)} s; covariance ${(flops / 1e9).toFixed(0)} GFLOP → ${(flops / pcaSeconds / 1e9).toFixed(1)} GFLOP/s incl. eigensolver (plain sgemm ${peak.toFixed(1)} GFLOP/s, ratio ${((flops / pcaSeconds / 1e9 / peak) * 100).toFixed(0)} %)`,
  );
  log(`  projection on 9 factors  ${projectSeconds.toFixed(3)} s`);
  log(
    `  preprocess 200→64        ${(2000 / preSeconds).toFixed(0)} images/s (2000 images in ${preSeconds.toFixed(2)} s)`,
  );
  return {
    pcaSeconds,
    pcaGflops: flops / pcaSeconds / 1e9,
    sgemmGflops: peak,
    projectSeconds,
    preprocessImagesPerSecond: 2000 / preSeconds,
  };
}

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '10000' },
    k: { type: 'string', default: '100' },
    views: { type: 'string', default: '100' },
    snr: { type: 'string', default: '0.3333' },
    pipeline: { type: 'string', default: 'mra' },
    method: { type: 'string', default: 'ack' },
    'max-iter': { type: 'string', default: '30' },
    threads: { type: 'string' },
    keep: { type: 'boolean', default: false },
    kernels: { type: 'boolean', default: false },
  });
  const n = Number(o.n);
  const k = Number(o.k);
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  if (o.kernels) return { name: 'classify-kernels', n, threads, ...(await kernels(n, threads, log)) };
  const dir = mkdtempSync(join(tmpdir(), 'ack-bench-classify-'));
  try {
    log(
      `classify: simulating n=${n} images of 64×64 (${o.views} views, SNR ${o.snr}, CTF, phase-flipped on input)…`,
    );
    const t0 = performance.now();
    const sim = await simulate(
      { n, views: Number(o.views), snr: Number(o.snr), maxShiftPx: 2, threads },
      join(dir, 'sim'),
    );
    log(`  simulation        ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const rows: TraceRow[] = [];
    const t1 = performance.now();
    const summary = await runClassification(
      sim.star,
      join(dir, 'out'),
      {
        k,
        pipeline: o.pipeline as 'mra',
        method: o.method as 'ack',
        maxIter: Number(o['max-iter']),
        seed: 1,
        threads,
      },
      {
        onIteration: (t) => {
          const r = t as TraceRow;
          rows.push(r);
          log(
            `    ${r.phase} iteration ${r.iteration}: σ ${r.sigma.toFixed(4)}, size cv ${r.sizeCv.toFixed(3)}, ${r.seconds.toFixed(2)} s`,
          );
        },
      },
    );
    const seconds = (performance.now() - t1) / 1000;
    const perIteration = rows.filter((r) => r.iteration > 0).map((r) => r.seconds);
    const peakRssMB = process.resourceUsage().maxRSS / 1024;
    log(`  ${o.pipeline}/${o.method} k=${k} threads=${threads}`);
    log(`  iterations        ${summary.iterations} (${summary.converged ? 'converged' : 'cap reached'})`);
    log(
      `  s / iteration     ${median(perIteration).toFixed(2)} (median; min ${Math.min(...perIteration).toFixed(2)}, max ${Math.max(...perIteration).toFixed(2)})`,
    );
    log(
      `  to convergence    ${seconds.toFixed(1)} s in all (preprocess + clustering + final averages + outputs)`,
    );
    log(`  final σ           ${rows.at(-1)?.sigma.toFixed(4)}, size cv ${rows.at(-1)?.sizeCv.toFixed(3)}`);
    log(`  class sizes       ${Math.min(...summary.sizes)}–${Math.max(...summary.sizes)}`);
    log(`  peak RSS          ${peakRssMB.toFixed(0)} MB`);
    return {
      name: 'classify',
      n,
      k,
      box: sim.box,
      pipeline: o.pipeline,
      method: o.method,
      threads,
      iterations: summary.iterations,
      converged: summary.converged,
      secondsPerIteration: median(perIteration),
      secondsTotal: seconds,
      peakRssMB,
      sizes: { min: Math.min(...summary.sizes), max: Math.max(...summary.sizes) },
    };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
