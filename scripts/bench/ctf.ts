/**
 * Phase flipping: n = 10,000 images of 64×64, each with its own astigmatic CTF. Prints wall and
 * CPU seconds, images/s, and the FFT flop rate (two real 2D transforms per image, counted as
 * 2.5·N·log2(N) flops each for N = box² pixels, FFTW's convention for real transforms).
 */
import { availableParallelism } from 'node:os';
import { phaseFlip } from '../../src/ctf.js';
import { Rng } from '../../src/random.js';
import { median, options, randomFloats } from './util.js';

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '10000' },
    box: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    threads: { type: 'string' },
  });
  const n = Number(o.n);
  const box = Number(o.box);
  const reps = Number(o.reps);
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  const images = randomFloats(n * box * box, 3);
  const rng = new Rng(2);
  const defocus = Float64Array.from({ length: n }, () => rng.uniform(10000, 30000));
  const ctf = {
    defocusU: defocus.map((d) => d + 250),
    defocusV: defocus.map((d) => d - 250),
    defocusAngle: Float64Array.from({ length: n }, () => rng.uniform(0, 180)),
    voltage: 300,
    cs: 2.7,
    amplitudeContrast: 0.1,
  };
  log(`phase flip: n=${n} images of ${box}×${box}, threads=${threads}, ${reps} repetitions (median)`);
  await phaseFlip(images.subarray(0, 10 * box * box), box, 1.5, {
    ...ctf,
    defocusU: ctf.defocusU.subarray(0, 10),
    defocusV: ctf.defocusV.subarray(0, 10),
    defocusAngle: ctf.defocusAngle.subarray(0, 10),
  });
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await phaseFlip(images, box, 1.5, ctf, { threads });
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const seconds = median(wall);
  const cpuSeconds = median(cpu);
  const N = box * box;
  const flops = n * 2 * 2.5 * N * Math.log2(N);
  log(`  wall time      ${seconds.toFixed(2)} s (CPU ${cpuSeconds.toFixed(2)} s)`);
  log(`  images/s       ${(n / seconds).toFixed(0)} (${(n / cpuSeconds).toFixed(0)} per CPU-second)`);
  log(
    `  FFT rate       ${(flops / seconds / 1e9).toFixed(2)} GFLOP/s (${(flops / cpuSeconds / 1e9).toFixed(2)} per CPU-second; CTF evaluation not counted)`,
  );
  return {
    name: 'ctf',
    n,
    box,
    threads,
    seconds,
    cpuSeconds,
    imagesPerSecond: n / seconds,
    fftGflops: flops / seconds / 1e9,
  };
}
