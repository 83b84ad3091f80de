/**
 * Input streaming: preprocessing of real-size particles into the float16 scratch working stack.
 * Writes `--stacks` MRC stacks (float16 or float32) of `--n` particles in all at `--box` px with a
 * RELION 3.1 STAR file (CTF, origins), then times `prepareStack` — read in batches, screen,
 * phase flip + origin shift + Fourier crop to 64 px (one FFT round trip), normalise, mask,
 * float16, streamed to the scratch file — and prints images/s, CPU time and peak RSS (target:
 * ≥ 2,000 images/s on 2 cores at 256², memory flat in n). The input files are read from the page
 * cache (they were just written), so this measures the pipeline, not the disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StarBlock, StarFile, createStackWriter, openParticles, writeStar } from '../../src/io/index.js';
import { resolveParams } from '../../src/pipeline/params.js';
import { particleInput } from '../../src/pipeline/particles.js';
import { prepareStack } from '../../src/pipeline/stack.js';
import { options, randomFloats } from './util.js';

export const describe = 'preprocessing of 256² particles from many stacks into the float16 scratch stack';

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '20000' },
    box: { type: 'string', default: '256' },
    stacks: { type: 'string', default: '10' },
    mode: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  });
  const n = Number(o.n);
  const box = Number(o.box);
  const stacks = Number(o.stacks);
  const mode = o.mode === '32' ? 2 : 12;
  const threads = Number(o.threads);
  const pixelSize = 1.1;
  const dir = mkdtempSync(join(tmpdir(), 'ackmeans-bench-preprocess-'));
  try {
    log(
      `preprocess: ${n} × ${box}² ${mode === 12 ? 'float16' : 'float32'} particles in ${stacks} stacks, CTF phase flip + origins, threads=${threads}`,
    );
    const t0 = performance.now();
    const perStack = Math.ceil(n / stacks);
    const chunkImages = 64;
    const chunk = randomFloats(chunkImages * box * box, 7);
    const names: string[] = [];
    for (let s = 0; s < stacks; s++) {
      const count = Math.min(perStack, n - s * perStack);
      if (count <= 0) break;
      const name = `stack${String(s).padStart(3, '0')}.mrcs`;
      const w = await createStackWriter(join(dir, name), { nx: box, ny: box, pixelSize, mode });
      for (let done = 0; done < count; done += chunkImages)
        await w.append(chunk.subarray(0, Math.min(chunkImages, count - done) * box * box));
      await w.close();
      for (let i = 0; i < count; i++) names.push(`${String(i + 1).padStart(6, '0')}@${name}`);
    }
    const defocus = Float64Array.from({ length: n }, (_, i) => 8000 + ((i * 7919) % 20000));
    const optics = StarBlock.fromColumns('optics', {
      rlnOpticsGroup: [1],
      rlnOpticsGroupName: ['opticsGroup1'],
      rlnImagePixelSize: [pixelSize],
      rlnImageSize: [box],
      rlnImageDimensionality: [2],
      rlnVoltage: [300],
      rlnSphericalAberration: [2.7],
      rlnAmplitudeContrast: [0.1],
    });
    const particles = StarBlock.fromColumns('particles', {
      rlnImageName: names,
      rlnOpticsGroup: new Float64Array(n).fill(1),
      rlnOriginXAngst: Float64Array.from({ length: n }, (_, i) => ((i % 7) - 3) * 0.9),
      rlnOriginYAngst: Float64Array.from({ length: n }, (_, i) => ((i % 5) - 2) * 1.3),
      rlnDefocusU: defocus,
      rlnDefocusV: defocus.map((d) => d - 300),
      rlnDefocusAngle: new Float64Array(n).fill(25),
    });
    optics.version = particles.version = '# version 30001';
    const star = join(dir, 'particles.star');
    await writeStar(star, new StarFile([optics, particles]));
    log(`  input written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const set = await openParticles(star);
    try {
      const input = particleInput(set);
      const params = resolveParams(
        { k: 2, threads },
        { count: n, box, pixelSize, hasCtf: input.ctf !== undefined },
      );
      const rssBefore = process.resourceUsage().maxRSS / 1024;
      const cpu0 = process.cpuUsage();
      const t1 = performance.now();
      const stack = await prepareStack(input, params, { threads, scratch: dir, inMemoryLimit: 0 });
      const seconds = (performance.now() - t1) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const peakRss = process.resourceUsage().maxRSS / 1024;
      const rate = n / seconds;
      log(`  working box        ${stack.box} px (${params.workingPixelSize.toFixed(2)} Å/px)`);
      log(`  wall time          ${seconds.toFixed(2)} s`);
      log(`  throughput         ${rate.toFixed(0)} images/s (target ≥ 2,000 on 2 cores at 256²)`);
      log(
        `  CPU time           ${cpuSeconds.toFixed(2)} s (${(cpuSeconds / seconds).toFixed(2)} cores busy)`,
      );
      log(`  peak RSS           ${peakRss.toFixed(0)} MB (${rssBefore.toFixed(0)} MB before preprocessing)`);
      log(`  scratch file       ${(stack.scratchBytes / 2 ** 20).toFixed(1)} MiB (float16)`);
      const result = {
        n,
        box,
        mode: mode === 12 ? 'float16' : 'float32',
        threads,
        seconds,
        imagesPerSecond: rate,
        cpuSeconds,
        peakRssMB: peakRss,
        scratchBytes: stack.scratchBytes,
        quarantined: stack.quarantined.length,
      };
      await stack.close();
      return result;
    } finally {
      await set.close();
    }
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
