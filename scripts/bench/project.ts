/**
 * Projector: n = 10,000 projections of a 64³ map (the built-in phantom) at random poses.
 * Prints wall and CPU seconds, projections/s, trilinear samples/s (per wall and per CPU second),
 * and the flop rate (≈ 30 flops per sample: 3 coordinates, 7 lerps of 3 flops, the sum). The
 * kernel is bound by its 8 gathered loads per sample, so loads/s is the figure to set against the
 * machine (≈ 2 loads/cycle/core); the single-thread time is printed beside it.
 */
import { availableParallelism } from 'node:os';
import { Rng } from '../../src/random.js';
import { phantom } from '../../src/sim/phantom.js';
import { project } from '../../src/sim/project.js';
import { median, options } from './util.js';

/** Trilinear samples the projector takes: each ray's unit steps inside the map's support sphere. */
function samplesPerProjection(size: number, volume: Float32Array): number {
  const c = Math.floor(size / 2);
  let r2 = 0;
  for (let z = 0; z < size; z++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        if (volume[(z * size + y) * size + x] !== 0)
          r2 = Math.max(r2, (x - c) ** 2 + (y - c) ** 2 + (z - c) ** 2);
  // Chords of a sphere of radius R over the pixel grid: Σ 2√(R² − ρ²) ≈ (4/3)πR³ (cube-clipped: an upper bound).
  const R = Math.sqrt(r2) + Math.sqrt(3);
  return (4 / 3) * Math.PI * R ** 3;
}

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '10000' },
    size: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    threads: { type: 'string' },
  });
  const n = Number(o.n);
  const size = Number(o.size);
  const reps = Number(o.reps);
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  const volume = phantom(size);
  const rng = new Rng(1);
  const draw = (lo: number, hi: number) => Float64Array.from({ length: n }, () => rng.uniform(lo, hi));
  const angles = { rot: draw(0, 360), tilt: draw(0, 180), psi: draw(0, 360) };
  log(`projector: n=${n} projections of a ${size}³ map, threads=${threads}, ${reps} repetitions (median)`);
  const time = async (t: number) => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < reps; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await project(volume, size, angles, { threads: t });
      wall.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
    }
    return { wall: median(wall), cpu: median(cpu) };
  };
  await project(volume, size, {
    rot: angles.rot.subarray(0, 10),
    tilt: angles.tilt.subarray(0, 10),
    psi: angles.psi.subarray(0, 10),
  });
  const all = await time(threads);
  const one = threads > 1 ? await time(1) : all;
  const samples = samplesPerProjection(size, volume) * n;
  const seconds = all.wall;
  const perSecond = n / seconds;
  const gsamples = samples / seconds / 1e9;
  const gsamplesOneThread = samples / one.wall / 1e9;
  const perCpuSecond = samples / all.cpu;
  log(
    `  wall time          ${seconds.toFixed(2)} s (CPU ${all.cpu.toFixed(2)} s: the figure to trust on a shared machine)`,
  );
  log(`  projections/s      ${perSecond.toFixed(0)}`);
  log(
    `  trilinear samples  ${(samples / 1e9).toFixed(2)}·10⁹ → ${gsamples.toFixed(3)}·10⁹/s (${(gsamples * 30).toFixed(1)} GFLOP/s at ~30 flops/sample)`,
  );
  log(
    `  per CPU-second     ${(n / all.cpu).toFixed(0)} projections, ${(perCpuSecond / 1e9).toFixed(3)}·10⁹ samples = ${((perCpuSecond * 8) / 1e9).toFixed(2)}·10⁹ gathered loads (8 per sample; the kernel is load-bound)`,
  );
  log(
    `  1 thread           ${one.wall.toFixed(2)} s, ${gsamplesOneThread.toFixed(3)}·10⁹ samples/s; scaling ×${(one.wall / seconds).toFixed(2)} on ${threads} threads`,
  );
  return {
    name: 'project',
    n,
    size,
    threads,
    seconds,
    cpuSeconds: all.cpu,
    projectionsPerSecond: perSecond,
    samples,
    samplesPerSecond: samples / seconds,
    samplesPerCpuSecond: perCpuSecond,
    secondsOneThread: one.wall,
  };
}
