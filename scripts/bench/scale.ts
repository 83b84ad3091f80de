/**
 * The scale engine: simulate (streaming) n particles of 64² (the built-in phantom, `views`
 * directions, SNR 1/10, CTF, shifts ≤ 2 px, phase-flipped) and classify them with MRA + ACK on
 * the scale engine; prints wall and CPU time, peak RSS, particle-visits per particle, time per
 * stage and the scratch disk used (the simulated stack). Each classification runs in its own
 * process (util-scale-child.ts) so its peak RSS is its own; images are read through an
 * ImageProvider (nothing but the per-particle tables held in memory).
 *
 *   --compare    also the exhaustive engine on the same stack (= --engines scale,exhaustive)
 *   --engines L  the engines to run, comma-separated (default scale); each run's accuracy
 *                against the true angles is printed (median within-class angle, mirror ≡ view;
 *                size CV; classes ≤ 1)
 *   --shortlist-refresh N   the scale engine ranks all classes at least every N full passes
 *                and aligns to each image's kept best classes between (see runScale's
 *                `shortlistRefresh`; default: classification's)
 *   --shortlist M, --local-radius R   the scale engine's shortlist length and local shift
 *                window (pixels; ≥ the shift range = the whole grid every pass)
 *   --max-visits V  the scale engine's hard particle-visit budget (default: none)
 *   --settle-sigma S  past the visit allowance max(2, 1 + 4000·k/n), the scale engine stops
 *                once σ ≤ S (default: classification's, 0: off)
 *   --batches L  the scale engine's mini-batch sizes, comma-separated, or none (default: its
 *                schedule, 100·k, 200·k, … under n/2)
 *   --shift-images  both engines search the shifts by resampling each image at every shift
 *                (the default, classification's, resamples the references at every shift)
 *   --spectra-on-disk  the scale engine keeps the images' spectra in a scratch file whatever
 *                their size (default: in memory up to 256 MiB, then on disk)
 *   --trajectory the accuracy after every iteration too (median within-class angle over the
 *                images assigned so far), to see where each engine's accuracy comes from
 *   --flatness   memory flatness: peak RSS of one full pass (`--max-iter 1`, no batches) on n/2
 *                and on n images; prints the ratio
 *   --prepare    only simulate (with --stack: prepare the set for a later run)
 *   --stack DIR  reuse (or create and keep) the simulated set in DIR
 *   --pool P     simulate only P distinct particles (no noise), then write the n images as
 *                noisy copies (image i = clean particle i mod P + white Gaussian noise at the
 *                SNR: field i mod 4099 of a noise bank, cyclically shifted by 37·⌊i/4099⌋
 *                values), as float16: for 10⁶ particles, where projecting every one takes
 *                longer than classifying them. The truth of image i is particle i mod P's.
 *
 *   --executor slurm [--shards N] [--cpus-per-task C]
 *                the scale engine with its passes as Slurm job arrays (scripts/slurm-local.sh
 *                start; SLURM_CONF) against the same engine in one process, both on float16
 *                images as the pipeline's working stack holds them: wall time per iteration
 *                and in total, the overhead, the visits, where each pass's time went; the two
 *                runs' classes must be identical
 *
 *   --model      no classification: the coordinator's sequential pieces of one full pass at
 *                --model-n particles (default 10⁶) × k = --model-k (200) × --model-m (13)
 *                candidate columns, on a synthetic table: the sparse ACK pass (native, through
 *                its TS wrapper), the reduce of --shards slices into one table, the class
 *                averages, plain and as exact sums (the tasks' part; measured on 2·10⁴ images
 *                of 64², per image), the largest-|pixel| scan (once per run), the reduce of
 *                --shards chunks' class sums and the averages + FRC from the sums
 *
 *   npm run bench -- scale --n 50000 --k 100 --compare
 *   npm run bench -- scale --n 50000 --k 100 --executor slurm --shards 4
 *   npm run bench -- scale --n 1000000 --k 200 --stack /scratch/sim1m
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateClasses } from '../../src/eval/metrics.js';
import { createStackWriter, openStack, readStar } from '../../src/io/index.js';
import { Rng } from '../../src/random.js';
import { addGaussianNoise, meanImageVariance } from '../../src/sim/noise.js';
import { simulate } from '../../src/sim/simulate.js';
import { classAverages } from '../../src/align/average.js';
import type { CandidateTable } from '../../src/align/candidates.js';
import {
  type PassTiming,
  type SumsTiming,
  encodeSums,
  encodeTable,
  readSums,
  readTable,
  shardRange,
} from '../../src/executor/slurm-pass.js';
import { classAveragesFromSums, classSums, maxAbsValue, sumQuantum } from '../../src/pipeline/class-sums.js';
import { ackPassSparse } from '../../src/pipeline/scale.js';
import { median, options, timeIt } from './util.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface ChildResult {
  engine: string;
  n: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMB: number;
  iterations: number;
  converged: boolean;
  visits: number;
  stages: Record<string, { iterations: number; seconds: number; visits: number }>;
  outsideShortlist?: number;
  budgetReached?: boolean;
  settled?: boolean;
  iterationSeconds?: number[];
  passTimings?: PassTiming[];
  sumsTimings?: SumsTiming[];
}

async function child(stack: string, args: string[], log: (line: string) => void): Promise<ChildResult> {
  const p = execFile(
    join(root, 'node_modules/.bin/tsx'),
    [join(root, 'scripts/bench/util-scale-child.ts'), stack, ...args],
    {
      maxBuffer: 1 << 26,
    },
  );
  p.stderr?.on('data', (d: Buffer) => {
    for (const line of String(d).split('\n')) if (line) log(line);
  });
  let out = '';
  p.stdout?.on('data', (d: Buffer) => {
    out += String(d);
  });
  const code = await new Promise<number>((res) => p.on('close', (c) => res(c ?? 1)));
  if (code !== 0) throw new Error(`the ${args.join(' ')} run failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildResult;
}

function accuracy(
  truth: { rot: Float64Array; tilt: Float64Array },
  classesFile: string,
  k: number,
): { median: number; sizeCv: number; small: number } {
  const all = new Int32Array(new Uint8Array(readFileSync(classesFile)).buffer);
  // only the images assigned so far (a trajectory's mini-batch iterations leave the rest at −1)
  const kept = all.reduce((s, c) => s + (c >= 0 ? 1 : 0), 0);
  const pick = <T extends Float64Array | Int32Array>(a: T): T =>
    kept === all.length
      ? (a.subarray(0, all.length) as T)
      : (a.filter((_, i) => i < all.length && all[i] >= 0) as T);
  const classes = pick(all);
  const n = classes.length;
  const e = evaluateClasses({ rot: pick(truth.rot), tilt: pick(truth.tilt), classes, k });
  const sizes = new Int32Array(k);
  for (const c of classes) sizes[c]++;
  const mean = n / k;
  const cv = Math.sqrt(sizes.reduce((s, x) => s + (x - mean) ** 2, 0) / k) / mean;
  return { median: e.mirror.median, sizeCv: cv, small: sizes.filter((s) => s <= 1).length };
}

const sum = (a: number[]): number => a.reduce((s, x) => s + x, 0);
const mean = (a: number[]): number => (a.length ? sum(a) / a.length : 0);

/**
 * The scale engine on `mrcs` in one process and with its passes as Slurm job arrays (`shards`
 * tasks of `cpus` CPUs), both on float16 images: prints the wall time per iteration and in
 * total, the overhead, and where the Slurm passes' time went.
 */
async function compareExecutors(
  mrcs: string,
  dir: string,
  base: string[],
  shards: string,
  cpus: string,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const runs: Record<string, ChildResult> = {};
  for (const executor of ['local', 'slurm']) {
    const out = join(dir, `classes-${executor}.i32`);
    const extra =
      executor === 'slurm'
        ? [
            '--executor',
            'slurm',
            '--shards',
            shards,
            '--cpus-per-task',
            cpus,
            '--slurm-dir',
            join(dir, 'slurm'),
          ]
        : [];
    log(
      `  scale engine, ${executor} executor${executor === 'slurm' ? ` (${shards} shards × ${cpus} CPU)` : ''}…`,
    );
    runs[executor] = await child(mrcs, [...base, '--engine', 'scale', '--out', out, ...extra], log);
    const r = runs[executor];
    log(
      `  ${executor}: wall ${r.seconds.toFixed(1)} s, ${r.iterations} iterations, ${r.visits.toFixed(2)} particle-visits per particle`,
    );
  }
  const { local, slurm } = runs;
  const same = readFileSync(join(dir, 'classes-local.i32')).equals(
    readFileSync(join(dir, 'classes-slurm.i32')),
  );
  const a = local.iterationSeconds ?? [];
  const b = slurm.iterationSeconds ?? [];
  log('  iteration   local s   slurm s   overhead');
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    log(
      `  ${String(i + 1).padStart(9)} ${(a[i] ?? NaN).toFixed(2).padStart(9)} ${(b[i] ?? NaN).toFixed(2).padStart(9)} ${(100 * ((b[i] ?? NaN) / (a[i] ?? NaN) - 1)).toFixed(1).padStart(9)} %`,
    );
  const ratio = slurm.seconds / local.seconds;
  log(
    `  total: local ${local.seconds.toFixed(1)} s, slurm ${slurm.seconds.toFixed(1)} s → overhead ${(100 * (ratio - 1)).toFixed(1)} %; iterations in the loop ${sum(a).toFixed(1)} s vs ${sum(b).toFixed(1)} s (${(100 * (sum(b) / sum(a) - 1)).toFixed(1)} %); classes ${same ? 'identical' : 'DIFFER'}`,
  );
  const t = slurm.passTimings ?? [];
  const per = (f: (p: PassTiming) => number): string => `${mean(t.map(f)).toFixed(0)} ms`;
  log(
    `  per Slurm pass (${t.length} passes, mean): prepare ${per((p) => p.prepare)}, sbatch ${per((p) => p.sbatch)}, first task started after ${per((p) => p.firstStart)}, task start-up ${per((p) => mean(p.startup))}, task alignment ${per((p) => mean(p.compute))}, last alignment end → seen ${per((p) => p.notice)}, wait in all ${per((p) => p.wait)}, read ${per((p) => p.read)}`,
  );
  const st = slurm.sumsTimings ?? [];
  const sm = (f: (p: SumsTiming) => number): string => `${mean(st.map(f)).toFixed(0)} ms`;
  log(
    `  class sums per iteration (${st.length}, mean): prepare ${sm((p) => p.prepare)}, wait ${sm((p) => p.wait)}, read + add ${sm((p) => p.read)}; chunks summed by the tasks ${sum(st.map((p) => p.byTasks))}, by the coordinator ${sum(st.map((p) => p.byCoordinator))}`,
  );
  return {
    local: { ...local, passTimings: undefined },
    slurm,
    ratio,
    identical: same,
    shards: Number(shards),
    cpusPerTask: Number(cpus),
  };
}

/**
 * The coordinator's sequential work per full pass at n particles, k classes, `width` candidate
 * columns, on a synthetic table: the sparse ACK pass, the reduce of `shards` slices, and the
 * class averages (per image, measured on fewer images), and the pieces of the distributed class
 * sums. Seconds (median of 3).
 */
async function measureModel(
  n: number,
  k: number,
  width: number,
  shards: number,
  threads: number,
  log: (line: string) => void,
): Promise<Record<string, number>> {
  const rng = new Rng(7);
  const cells = n * width;
  const table: CandidateTable = {
    n,
    m: width,
    classes: new Int32Array(cells),
    score: new Float32Array(cells),
    psi: new Float32Array(cells),
    shiftX: new Float32Array(cells),
    shiftY: new Float32Array(cells),
    mirror: new Uint8Array(cells),
  };
  const pool = Int32Array.from({ length: k }, (_, j) => j);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < width; c++) {
      const r = c + rng.int(k - c); // partial Fisher–Yates: `width` distinct classes per row
      [pool[c], pool[r]] = [pool[r], pool[c]];
      table.classes[i * width + c] = pool[c];
      table.score[i * width + c] = 1 + rng.next();
    }
  const first = Int32Array.from({ length: n }, (_, i) => table.classes[i * width]);
  const order = rng.permutation(n);
  const lambda2 = (0.5 * 1.5) / Math.floor(n / k); // β·d_c/(n/k) with d_c ≈ the mean score
  let moved = 0;
  /** CPU seconds per call of `fn` over `timeIt`'s warm-up and 2 runs (less skewed by a loaded machine). */
  const cpuOf = async (fn: () => Promise<number[]>): Promise<[number[], number]> => {
    const c0 = process.cpuUsage();
    const wall = await fn();
    const c = process.cpuUsage(c0);
    return [wall, (c.user + c.system) / 1e6 / 3];
  };
  const [ack, ackCpu] = await cpuOf(() =>
    timeIt(2, async () => {
      const assignment = first.slice();
      const sizes = new Int32Array(k);
      for (const c of assignment) sizes[c]++;
      moved = await ackPassSparse(table, k, assignment, sizes, lambda2, order);
    }),
  );
  log(
    `  model: sparse ACK pass, n=${n} × ${width} columns × k=${k}: ${median(ack).toFixed(3)} s wall, ${ackCpu.toFixed(3)} s CPU (${moved} moves)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'ack-bench-reduce-'));
  let reduce: number[];
  let reduceCpu: number;
  try {
    const clock = { processStart: 0, computeStart: 0, computeEnd: 0 };
    for (let t = 0; t < shards; t++) {
      const [a, b] = shardRange(n, shards, t);
      const part = (f: keyof typeof table) =>
        (table[f] as Int32Array).subarray(a * width, b * width) as never;
      const slice: CandidateTable = {
        n: b - a,
        m: width,
        classes: part('classes'),
        score: part('score'),
        psi: part('psi'),
        shiftX: part('shiftX'),
        shiftY: part('shiftY'),
        mirror: table.mirror.subarray(a * width, b * width),
      };
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `out-${t}.bin`), encodeTable(slice, clock));
    }
    [reduce, reduceCpu] = await cpuOf(() => timeIt(2, () => readTable(dir, { n, shards })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(
    `  model: reduce of ${shards} slices (${((cells * 21) / 2 ** 20).toFixed(0)} MB): ${median(reduce).toFixed(3)} s wall, ${reduceCpu.toFixed(3)} s CPU`,
  );
  const nAvg = Math.min(n, 20_000);
  const box = 64;
  const images = new Float32Array(nAvg * box * box);
  for (let i = 0; i < images.length; i++) images[i] = rng.normal();
  const assignment = Int32Array.from({ length: nAvg }, (_, i) => i % k);
  const poses = {
    psi: Float32Array.from({ length: nAvg }, () => 360 * rng.next()),
    shiftX: Float32Array.from({ length: nAvg }, () => rng.uniform(-2, 2)),
    shiftY: Float32Array.from({ length: nAvg }, () => rng.uniform(-2, 2)),
    mirror: Uint8Array.from({ length: nAvg }, () => rng.int(2)),
  };
  const [avg, avgCpu] = await cpuOf(() =>
    timeIt(2, () => classAverages(images, box, assignment, k, poses, { threads })),
  );
  const perImage = median(avg) / nAvg;
  log(
    `  model: plain class averages (before exact sums), ${nAvg} images of ${box}² × k=${k}, ${threads} threads: ${median(avg).toFixed(3)} s wall (${avgCpu.toFixed(3)} s CPU) → ${((avgCpu / nAvg) * 1e6).toFixed(1)} µs CPU per image`,
  );
  const quantum = sumQuantum(n, await maxAbsValue(images, box));
  const [sums, sumsCpu] = await cpuOf(() =>
    timeIt(2, () => classSums(images, box, assignment, k, poses, { quantum, threads })),
  );
  log(
    `  model: exact class sums (a task's or the local executor's work), ${nAvg} images: ${median(sums).toFixed(3)} s wall (${sumsCpu.toFixed(3)} s CPU) → ${((sumsCpu / nAvg) * 1e6).toFixed(1)} µs CPU per image, ${((sumsCpu / nAvg) * n).toFixed(1)} s CPU at n=${n}`,
  );
  const [scan, scanCpu] = await cpuOf(() => timeIt(2, () => maxAbsValue(images, box)));
  log(
    `  model: largest |pixel| (once per run, for the quantum): ${((scanCpu / nAvg) * 1e6).toFixed(2)} µs CPU per image → ${((median(scan) / nAvg) * n).toFixed(1)} s at n=${n}`,
  );
  // the coordinator's part of the sums per pass: the chunks' files read and added, then finalized
  const whole = await classSums(images, box, assignment, k, poses, { quantum, threads });
  const sumsDir = mkdtempSync(join(tmpdir(), 'ack-bench-sums-'));
  let sumsReduce: number[];
  let sumsReduceCpu: number;
  try {
    const write = (): void => {
      for (let c = 0; c < shards; c++) {
        const [a, b] = shardRange(n, shards, c);
        writeFileSync(join(sumsDir, `sums-${c}.bin`), encodeSums(whole, k, box, b - a));
      }
    };
    // files written (the tasks' part) before each timed read
    sumsReduce = [];
    let cpu = 0;
    for (let r = 0; r < 3; r++) {
      write();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await readSums(sumsDir, { n, k, box, chunks: shards });
      sumsReduce.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1e6;
    }
    sumsReduceCpu = cpu / 3;
  } finally {
    rmSync(sumsDir, { recursive: true, force: true });
  }
  log(
    `  model: reduce of ${shards} chunks' class sums (${((shards * (16 * k * box * box + 4 * k)) / 2 ** 20).toFixed(0)} MB): ${median(sumsReduce).toFixed(3)} s wall, ${sumsReduceCpu.toFixed(3)} s CPU`,
  );
  const [fin, finCpu] = await cpuOf(() => timeIt(2, () => classAveragesFromSums(whole, k, box, { threads })));
  log(
    `  model: averages + FRC from the sums (k=${k}): ${median(fin).toFixed(3)} s wall, ${finCpu.toFixed(3)} s CPU`,
  );
  return {
    ackPass: median(ack),
    ackPassCpu: ackCpu,
    reduce: median(reduce),
    reduceCpu,
    averagesPerImage: perImage,
    averagesCpuPerImage: avgCpu / nAvg,
    averages: perImage * n,
    exactSumsCpuPerImage: sumsCpu / nAvg,
    maxAbsCpuPerImage: scanCpu / nAvg,
    sumsReduce: median(sumsReduce),
    sumsReduceCpu,
    finalize: median(fin),
    finalizeCpu: finCpu,
  };
}

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '50000' },
    k: { type: 'string', default: '100' },
    views: { type: 'string' },
    snr: { type: 'string', default: '0.1' },
    threads: { type: 'string' },
    'max-iter': { type: 'string', default: '30' },
    shortlist: { type: 'string' },
    'local-radius': { type: 'string' },
    'shortlist-refresh': { type: 'string' },
    batches: { type: 'string' },
    'max-visits': { type: 'string' },
    'settle-sigma': { type: 'string' },
    'shift-images': { type: 'boolean', default: false },
    'spectra-on-disk': { type: 'boolean', default: false },
    engines: { type: 'string' },
    stack: { type: 'string' },
    pool: { type: 'string' },
    compare: { type: 'boolean', default: false },
    flatness: { type: 'boolean', default: false },
    trajectory: { type: 'boolean', default: false },
    prepare: { type: 'boolean', default: false },
    executor: { type: 'string', default: 'local' },
    shards: { type: 'string', default: '4' },
    'cpus-per-task': { type: 'string', default: '1' },
    model: { type: 'boolean', default: false },
    'model-n': { type: 'string', default: '1000000' },
    'model-k': { type: 'string', default: '200' },
    'model-m': { type: 'string', default: '13' },
  });
  if (o.executor !== 'local' && o.executor !== 'slurm')
    throw new Error(`--executor must be local or slurm, got ${o.executor}`);
  if (o.executor === 'slurm' && o.compare) throw new Error('--executor slurm and --compare: one at a time');
  const n = Number(o.n);
  const k = Number(o.k);
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  const load = (): string =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(', ');
  if (o.model) {
    log(`scale --model: load ${load()}`);
    const model = await measureModel(
      Number(o['model-n']),
      Number(o['model-k']),
      Number(o['model-m']),
      Number(o.shards),
      threads,
      log,
    );
    log(`  load average after: ${load()}`);
    return { name: 'scale', model, loadAfter: load() };
  }
  const dir = o.stack ?? mkdtempSync(join(tmpdir(), 'ack-bench-scale-'));
  try {
    const star = join(dir, 'particles.star');
    const mrcs = join(dir, 'particles.mrcs');
    const poolSize = o.pool ? Number(o.pool) : 0;
    if (poolSize > 0 && !existsSync(mrcs)) {
      log(
        `scale: simulating a pool of ${poolSize} clean particles (${o.views ?? k} views, CTF, shifts ≤ 2 px, phase-flipped) into ${dir}/pool…`,
      );
      const t0 = performance.now();
      const poolDir = join(dir, 'pool');
      if (!existsSync(join(poolDir, 'particles.star')))
        await simulate(
          {
            n: poolSize,
            views: Number(o.views ?? k),
            snr: Infinity,
            maxShiftPx: 2,
            phaseFlip: true,
            threads,
          },
          poolDir,
        );
      // White noise stays white under phase flipping, so noise added after the flip is equivalent.
      // Noise: a bank of B independent fields; image i takes field i mod B cyclically shifted by
      // 37·⌊i/B⌋ values (still white Gaussian noise; images sharing a field see it ≥ 37 px apart).
      const clean = await openStack(join(poolDir, 'particles.mrcs'));
      const box = clean.nx;
      const dim = box * box;
      const all = await clean.readBatch(0, poolSize);
      const sigma = Math.sqrt(meanImageVariance(all, dim) / Number(o.snr)); // the simulator's definition
      const writer = await createStackWriter(mrcs, {
        nx: box,
        ny: box,
        pixelSize: clean.pixelSize,
        mode: 12,
      });
      const B = 4099;
      const bank = new Float32Array(B * dim);
      addGaussianNoise(bank, sigma, new Rng(12345));
      const chunk = 1000;
      for (let from = 0; from < n; from += chunk) {
        const count = Math.min(chunk, n - from);
        const images = new Float32Array(count * dim);
        for (let i = 0; i < count; i++) {
          const id = from + i;
          const src = (id % poolSize) * dim;
          const field = (id % B) * dim;
          const shift = (37 * Math.floor(id / B)) % dim;
          const out = i * dim;
          for (let p = 0; p < dim; p++) {
            const q = p + shift;
            images[out + p] = all[src + p] + bank[field + (q < dim ? q : q - dim)];
          }
        }
        await writer.append(images);
      }
      await writer.close();
      await clean.close();
      log(`  pool + ${n} noisy copies (float16) ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (poolSize === 0 && !existsSync(star)) {
      log(
        `scale: simulating n=${n} images of 64² (${o.views ?? k} views, SNR ${o.snr}, CTF, shifts ≤ 2 px, phase-flipped) into ${dir}…`,
      );
      const t0 = performance.now();
      await simulate(
        { n, views: Number(o.views ?? k), snr: Number(o.snr), maxShiftPx: 2, phaseFlip: true, threads },
        dir,
      );
      log(`  simulation          ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const scratchMB = statSync(mrcs).size / 2 ** 20;
    if (o.prepare) return { name: 'scale', n, prepared: dir, scratchMB };
    log(
      `scale: n=${n} k=${k} threads=${threads}, stack ${mrcs} (${scratchMB.toFixed(0)} MB on disk); load ${load()}`,
    );
    const base = [
      '--n',
      String(n),
      '--k',
      String(k),
      '--threads',
      String(threads),
      '--max-iter',
      o['max-iter'],
    ];
    if (o.shortlist) base.push('--shortlist', o.shortlist);
    if (o['local-radius']) base.push('--local-radius', o['local-radius']);
    if (o['shortlist-refresh']) base.push('--shortlist-refresh', o['shortlist-refresh']);
    if (o.batches) base.push('--batches', o.batches);
    if (o['max-visits']) base.push('--max-visits', o['max-visits']);
    if (o['settle-sigma']) base.push('--settle-sigma', o['settle-sigma']);
    if (o['shift-images']) base.push('--shift-images');
    if (o['spectra-on-disk']) base.push('--spectra-on-disk');
    const results: Record<string, unknown> = { name: 'scale', n, k, threads, scratchMB, loadBefore: load() };
    if (o.executor === 'slurm') {
      results.slurm = await compareExecutors(mrcs, dir, base, o.shards, o['cpus-per-task'], log);
      results.loadAfter = load();
      log(`  load average after: ${load()}`);
      return results;
    }
    const engines = (o.engines ?? (o.compare ? 'scale,exhaustive' : 'scale')).split(',');
    const truth = existsSync(poolSize > 0 ? join(dir, 'pool', 'particles.star') : star)
      ? await readStar(poolSize > 0 ? join(dir, 'pool', 'particles.star') : star).then((f) => {
          const b = f.blocks.find((x) => x.has('rlnAngleRot'));
          if (!b) throw new Error(`${star} has no rlnAngleRot column`);
          const rot = b.numeric('rlnAngleRot') as Float64Array;
          const tilt = b.numeric('rlnAngleTilt') as Float64Array;
          const at = (a: Float64Array) => Float64Array.from({ length: n }, (_, i) => a[i % a.length]);
          return { rot: at(rot), tilt: at(tilt) };
        })
      : undefined;
    for (const engine of engines) {
      const out = join(dir, `classes-${engine}.i32`);
      log(`  ${engine} engine…`);
      const prefix = join(dir, `trajectory-${engine}`);
      const r = await child(
        mrcs,
        [...base, '--engine', engine, '--out', out, ...(o.trajectory ? ['--trajectory', prefix] : [])],
        log,
      );
      if (o.trajectory && truth) {
        const rows: string[] = [];
        for (let it = 1; existsSync(`${prefix}-${it}.i32`); it++) {
          const a = accuracy(truth, `${prefix}-${it}.i32`, k);
          rows.push(`${it}: ${a.median.toFixed(2)}°`);
          rmSync(`${prefix}-${it}.i32`);
        }
        log(`    trajectory (median within-class angle after each iteration): ${rows.join(', ')}`);
      }
      const stages = Object.entries(r.stages)
        .map(([s, v]) => `${s} ${v.iterations} it, ${v.seconds.toFixed(1)} s, ${v.visits.toFixed(2)} visits`)
        .join('; ');
      log(
        `  ${engine}: wall ${r.seconds.toFixed(1)} s, CPU ${r.cpuSeconds.toFixed(1)} s, peak RSS ${r.peakRssMB.toFixed(0)} MB`,
      );
      log(
        `    ${r.iterations} iterations (${r.converged ? 'converged' : r.settled ? 'settled past the visit allowance' : r.budgetReached ? 'visit budget reached' : 'cap reached'}), ${r.visits.toFixed(2)} particle-visits per particle`,
      );
      log(`    stages: ${stages}`);
      if (r.outsideShortlist !== undefined)
        log(
          `    final class outside the shortlist (own class kept as an extra column): ${(100 * r.outsideShortlist).toFixed(2)} %`,
        );
      const acc = truth ? accuracy(truth, out, k) : undefined;
      if (acc)
        log(
          `    accuracy: median within-class angle ${acc.median.toFixed(2)}°, size CV ${acc.sizeCv.toFixed(3)}, classes ≤ 1 member: ${acc.small}`,
        );
      results[engine] = { ...r, ...(acc ? { accuracy: acc } : {}) };
      if (!o.stack) rmSync(out, { force: true });
    }
    if (o.compare) {
      const s = results.scale as ChildResult & { accuracy: { median: number } };
      const e = results.exhaustive as ChildResult & { accuracy: { median: number } };
      const speedup = e.seconds / s.seconds;
      const ok = s.accuracy.median <= e.accuracy.median * 1.05 + 0.5;
      log(
        `  scale vs exhaustive: ${speedup.toFixed(2)}× faster (wall), ${(e.cpuSeconds / s.cpuSeconds).toFixed(2)}× (CPU); median angle ${s.accuracy.median.toFixed(2)}° vs ${e.accuracy.median.toFixed(2)}° (${ok ? 'within' : 'NOT within'} 5 % + 0.5°)`,
      );
      results.speedup = speedup;
    }
    if (o.flatness) {
      const one = ['--k', String(k), '--threads', String(threads), '--max-iter', '1', '--engine', 'scale'];
      const half = await child(mrcs, [...one, '--n', String(Math.floor(n / 2))], () => undefined);
      const full = await child(mrcs, [...one, '--n', String(n)], () => undefined);
      log(
        `  memory flatness: one pass on n/2 → ${half.peakRssMB.toFixed(0)} MB, on n → ${full.peakRssMB.toFixed(0)} MB (ratio ${(full.peakRssMB / half.peakRssMB).toFixed(3)})`,
      );
      results.flatness = { halfMB: half.peakRssMB, fullMB: full.peakRssMB };
    }
    results.loadAfter = load();
    log(`  load average after: ${load()}`);
    return results;
  } finally {
    if (!o.stack) rmSync(dir, { recursive: true, force: true });
  }
}
