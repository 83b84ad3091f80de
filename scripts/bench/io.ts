/**
 * Stack reading throughput: writes a 10,000 × 128² float32 MRC stack (655 MB) in a temporary
 * folder with the streaming writer, leaves it in the page cache, then reads it whole with
 * `readBatch` in batches into one reused array (async and sync), and through a particle set
 * (STAR file → stack). Prints the median GB/s of several full passes (target ≥ 1 GB/s).
 * Also times the writer and a float16 (mode 12) read, which decodes every value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStackWriter, openParticles, openStack } from '../../src/io/index.js';
import { median, options, randomFloats } from './util.js';

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '10000' },
    box: { type: 'string', default: '128' },
    batch: { type: 'string', default: '512' },
    reps: { type: 'string', default: '5' },
  });
  const n = Number(o.n);
  const box = Number(o.box);
  const batch = Number(o.batch);
  const reps = Number(o.reps);
  const px = box * box;
  const bytes = n * px * 4;
  const dir = mkdtempSync(join(tmpdir(), 'ackmeans-bench-io-'));
  try {
    log(
      `io: ${n} × ${box}² float32 stack (${(bytes / 1e9).toFixed(3)} GB), batches of ${batch}, ${reps} passes (median)`,
    );
    const chunk = randomFloats(batch * px, 1);
    const write = async (path: string, mode: 2 | 12) => {
      const t0 = performance.now();
      const w = await createStackWriter(path, { nx: box, ny: box, pixelSize: 1, mode });
      for (let done = 0; done < n; done += batch)
        await w.append(chunk.subarray(0, Math.min(batch, n - done) * px));
      await w.close();
      return (performance.now() - t0) / 1000;
    };
    const path = join(dir, 'stack.mrcs');
    const writeSeconds = await write(path, 2);
    log(
      `  write (stack writer)   ${(bytes / writeSeconds / 1e9).toFixed(2)} GB/s (${writeSeconds.toFixed(2)} s, incl. statistics)`,
    );

    const out = new Float32Array(batch * px);
    const pass = async (read: (start: number, count: number) => Promise<unknown> | unknown) => {
      const t0 = performance.now();
      for (let s = 0; s < n; s += batch) await read(s, Math.min(batch, n - s));
      return (performance.now() - t0) / 1000;
    };
    const measure = async (
      label: string,
      read: (start: number, count: number) => Promise<unknown> | unknown,
      size = bytes,
    ) => {
      await pass(read); // warm the page cache
      const times: number[] = [];
      for (let r = 0; r < reps; r++) times.push(await pass(read));
      const gbs = size / median(times) / 1e9;
      log(`  ${label.padEnd(22)} ${gbs.toFixed(2)} GB/s (median ${median(times).toFixed(3)} s per pass)`);
      return gbs;
    };
    // For scale: copying the same bytes from memory into the same array, in the same batches
    // (a read from page cache is one kernel copy; it can beat V8's TypedArray copy).
    const source = new Float32Array(batch * px);
    const copyGBs = await measure('memcpy (for scale)', (_s, c) => out.set(source.subarray(0, c * px)));
    const stack = await openStack(path);
    const asyncGBs = await measure('readBatch (async)', (s, c) => stack.readBatch(s, c, out));
    const syncGBs = await measure('readBatchSync', (s, c) => stack.readBatchSync(s, c, out));
    await stack.close();

    writeFileSync(
      join(dir, 'set.star'),
      `data_particles\nloop_\n_rlnImageName\n${Array.from({ length: n }, (_, i) => `${i + 1}@stack.mrcs`).join('\n')}\n`,
    );
    const set = await openParticles(join(dir, 'set.star'));
    const particlesGBs = await measure('particle set (STAR)', (s, c) => set.readBatch(s, c, out));
    await set.close();

    const half = join(dir, 'half.mrcs');
    await write(half, 12);
    const halfStack = await openStack(half);
    const halfGBs = await measure('float16 decode', (s, c) => halfStack.readBatch(s, c, out), bytes / 2);
    await halfStack.close();
    log(`  readBatch / memcpy     ${((asyncGBs / copyGBs) * 100).toFixed(0)} %`);
    log(`  target                 ≥ 1 GB/s for float32 readBatch: ${asyncGBs >= 1 ? 'met' : 'NOT met'}`);
    return {
      name: 'io',
      n,
      box,
      batch,
      reps,
      bytes,
      copyGBs,
      writeGBs: bytes / writeSeconds / 1e9,
      asyncGBs,
      syncGBs,
      particlesGBs,
      float16GBsOfFile: halfGBs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
