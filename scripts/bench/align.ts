/**
 * Multi-reference alignment, one full pass: n = 10,000 images of 64×64 against k = 100
 * references, rings 1..29, shifts ±1 px step 1 (9 positions), mirror on. Prints the wall time,
 * the split between resampling, GEMM, inverse FFTs and peak search, the GEMM rate against the
 * plain sgemm rate of this machine measured in the same run, and the peak RSS.
 * `--stream` reads the images from a generator through an ImageProvider (blocks of ~64 MB), the
 * path used for n = 100,000 (`--n 100000 --stream`). `--shift-references` searches the shifts
 * on the references' side (each reference resampled at every shift, each image once), as
 * classification does.
 */
import { availableParallelism } from 'node:os';
import { align } from '../../src/align/align.js';
import { native } from '../../src/native.js';
import { options, randomFloats } from './util.js';

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '10000' },
    k: { type: 'string', default: '100' },
    box: { type: 'string', default: '64' },
    'last-ring': { type: 'string', default: '29' },
    'shift-range': { type: 'string', default: '1' },
    'band-limit': { type: 'string', default: '0.5' },
    threads: { type: 'string' },
    stream: { type: 'boolean', default: false },
    'shift-references': { type: 'boolean', default: false },
  });
  const n = Number(o.n);
  const k = Number(o.k);
  const box = Number(o.box);
  const dim = box * box;
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  const settings = {
    box,
    firstRing: 1,
    lastRing: Number(o['last-ring']),
    shiftRange: Number(o['shift-range']),
    shiftStep: 1,
    mirror: true,
    bandLimit: Number(o['band-limit']),
    shiftReferences: o['shift-references'],
    threads,
  };
  const refs = randomFloats(k * dim, 2);
  const images = o.stream
    ? { n, read: async (start: number, count: number) => randomFloats(count * dim, 1000 + start) }
    : randomFloats(n * dim, 1);
  log(
    `align: n=${n} k=${k} box=${box} rings ${settings.firstRing}..${settings.lastRing}, shifts ±${settings.shiftRange} step 1, mirror, bandLimit ${settings.bandLimit}${settings.shiftReferences ? ', shifts on the references' : ''}, threads=${threads}${o.stream ? ', streamed' : ''}`,
  );
  await align(randomFloats(8 * dim, 3), refs, settings); // warm-up: FFTW plans, page faults
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await align(images, refs, settings);
  const passSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const s = result.stats;
  const busy = s.resample + s.gemm + s.gather + s.ifft + s.peak;
  const gemmGflops = (s.gemmFlops / (s.gemm / threads)) * 1e-9;
  const L = s.ifftLength;
  const ifftFlops = 5 * L * Math.log2(L) * s.transforms;
  const ifftGflops = (ifftFlops / (s.ifft / threads)) * 1e-9;
  const sgemmPeakGflops = await native().gemmPeak({ kind: 's', m: 1024, n: 1024, k: 256, threads, reps: 3 });
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const pct = (x: number): string => `${((100 * x) / busy).toFixed(1)} %`;
  log(`  one full pass      ${passSeconds.toFixed(2)} s (round 1: 5.26 s; target ≤ 3 s at n = 10,000)`);
  log(
    `  CPU time           ${cpuSeconds.toFixed(2)} s (${(cpuSeconds / passSeconds).toFixed(2)} cores busy on average)`,
  );
  log(`  per image          ${((1e6 * passSeconds) / n).toFixed(1)} µs (${k} references)`);
  log(
    `  split (thread-s)   resample ${pct(s.resample)}, GEMM ${pct(s.gemm)}, gather ${pct(s.gather)}, inverse FFT ${pct(s.ifft)}, peak ${pct(s.peak)}`,
  );
  log(
    `  GEMM               ${(s.gemmFlops / 1e9).toFixed(1)} GFLOP in ${(s.gemm / threads).toFixed(2)} s → ${gemmGflops.toFixed(1)} GFLOP/s`,
  );
  log(
    `  plain sgemm        ${sgemmPeakGflops.toFixed(1)} GFLOP/s (OpenBLAS, ${threads} threads, 1024×1024×256)`,
  );
  log(`  GEMM / peak        ${((100 * gemmGflops) / sgemmPeakGflops).toFixed(1)} %`);
  log(
    `  inverse FFTs       ${(s.transforms / 1e6).toFixed(1)} M complex of length ${L} (${(s.correlations / 1e6).toFixed(1)} M correlations), ${(ifftFlops / 1e9).toFixed(1)} GFLOP (5·L·log2 L) → ${ifftGflops.toFixed(1)} GFLOP/s`,
  );
  log(`  peak RSS           ${peakRssMB.toFixed(0)} MB`);
  return {
    name: 'align',
    n,
    k,
    box,
    threads,
    streamed: o.stream,
    settings,
    passSeconds,
    cpuSeconds,
    secondsPerImage: passSeconds / n,
    split: { resample: s.resample, gemm: s.gemm, gather: s.gather, ifft: s.ifft, peak: s.peak },
    gemmFlops: s.gemmFlops,
    gemmGflops,
    sgemmPeakGflops,
    gemmRatio: gemmGflops / sgemmPeakGflops,
    ifftLength: L,
    correlations: s.correlations,
    transforms: s.transforms,
    ifftGflops,
    peakRssMB,
  };
}
