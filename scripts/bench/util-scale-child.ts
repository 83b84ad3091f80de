/**
 * One classification for `npm run bench -- scale`, in its own process so its peak RSS is its
 * own: preprocesses a simulated (phase-flipped) stack once into the working stack exactly as
 * classification does (src/pipeline/stack.ts: in memory up to 512 MiB, else a float16 scratch
 * file in the system's temporary folder, read back in tiles; the scale engine's kept image spectra
 * in memory up to 256 MiB, else in a second scratch file there), classifies it with MRA + ACK on
 * the scale engine or the exhaustive one, writes the classes (Int32, raw) to --out and prints
 * one JSON line of figures (the preprocessing is the stage `preprocess`).
 *   tsx scripts/bench/util-scale-child.ts STACK.mrcs --engine scale|exhaustive --k K --n N
 *     [--threads T] [--max-iter I] [--seed S] [--shortlist M] [--local-radius R] --out FILE
 *     [--shortlist-refresh N]   rank all classes at least every N full passes (default: classification's)
 *     [--executor slurm --shards N [--cpus-per-task C] --slurm-dir DIR]   (scale engine only)
 *     [--max-visits V]   the scale engine's hard particle-visit budget (default: none)
 *     [--settle-sigma S] past the visit allowance max(2, 1 + 4000·k/n), stop once σ ≤ S
 *                        (default: classification's, 0: off)
 *     [--shift-images]   search the shifts on the images' side (default: classification's)
 *     [--spectra-on-disk]   keep the image spectra in a scratch file whatever their size
 *     [--batches none|B1,B2,…]   the scale engine's mini-batch sizes (default: its schedule)
 *     [--trajectory PREFIX]   also writes the classes after every iteration to PREFIX-<it>.i32
 *                             (−1: not yet assigned)
 */
import { writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAlignmentSource } from '../../src/align/source.js';
import { runClustering } from '../../src/cluster/index.js';
import { openStack } from '../../src/io/index.js';
import { DEFAULT_DIAMETER_FRACTION } from '../../src/pipeline/preprocess.js';
import { CLASSIFY_DEFAULTS, visitAllowance } from '../../src/pipeline/params.js';
import { type ScaleRecord, runScale, spectraPlacement } from '../../src/pipeline/scale.js';
import { prepareStack } from '../../src/pipeline/stack.js';
import { type SlurmPassExecutor, createSlurmExecutor } from '../../src/executor/slurm-pass.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    engine: { type: 'string', default: 'scale' },
    k: { type: 'string' },
    n: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'max-iter': { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    shortlist: { type: 'string' },
    'local-radius': { type: 'string' },
    'shortlist-refresh': { type: 'string' },
    out: { type: 'string' },
    executor: { type: 'string', default: 'local' },
    shards: { type: 'string', default: '4' },
    'cpus-per-task': { type: 'string', default: '1' },
    'slurm-dir': { type: 'string' },
    trajectory: { type: 'string' },
    batches: { type: 'string' },
    'max-visits': { type: 'string' },
    'settle-sigma': { type: 'string' },
    'shift-images': { type: 'boolean' },
    'spectra-on-disk': { type: 'boolean' },
  },
});
const stack = await openStack(positionals[0]);
const n = Math.min(stack.n, Number(values.n ?? stack.n));
const k = Number(values.k);
const threads = Number(values.threads);
const box = stack.nx;
const pixelSize = stack.pixelSize ?? 1;
const radius = (DEFAULT_DIAMETER_FRACTION * box) / 2;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const working = await prepareStack(
  {
    count: n,
    box,
    pixelSize,
    readBatch: (start, count) => stack.readBatch(start, count),
    // a float16 stack is decoded in the native preprocessing, as `ackmeans classify` does
    ...(stack.float16 && {
      readBatchFloat16: (start: number, count: number, out?: Uint16Array) =>
        stack.readBatchFloat16(start, count, out),
    }),
  },
  { box, radius, invert: false, phaseFlip: false, workingPixelSize: pixelSize },
  { threads },
);
const preprocessSeconds = (performance.now() - t0) / 1000;
const provider = working.images;
const align = {
  box,
  particleRadius: radius,
  shiftRange: CLASSIFY_DEFAULTS.shiftRange,
  shiftStep: CLASSIFY_DEFAULTS.shiftStep,
  mirror: true,
  shiftReferences: values['shift-images'] ? false : CLASSIFY_DEFAULTS.shiftReferences,
  bandLimit: Math.min(0.5, Math.max(0.05, pixelSize / CLASSIFY_DEFAULTS.alignResolution)),
};
const common = {
  k,
  beta: CLASSIFY_DEFAULTS.beta,
  sigma0: CLASSIFY_DEFAULTS.sigma0,
  maxIter: Number(values['max-iter']),
  seed: Number(values.seed),
  threads,
};
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const keep = (iteration: number, classes: Int32Array): void => {
  if (values.trajectory)
    writeFileSync(
      `${values.trajectory}-${iteration}.i32`,
      Buffer.from(classes.buffer, classes.byteOffset, classes.byteLength),
    );
};
let assignment: Int32Array;
let iterations: number;
let converged: boolean;
const stages: Record<string, { iterations: number; seconds: number; visits: number }> = {
  preprocess: { iterations: 0, seconds: preprocessSeconds, visits: 0 },
};
let visits: number;
let outside: number | undefined;
let budgetReached = false;
let settled = false;
let iterationSeconds: number[] = [];
const executor: SlurmPassExecutor | undefined =
  values.executor === 'slurm'
    ? await createSlurmExecutor({
        dir: values['slurm-dir'] ?? `${values.out ?? positionals[0]}.slurm`,
        shards: Number(values.shards),
        cpusPerTask: Number(values['cpus-per-task']),
        // tasks at this process's niceness (slurmd would start them at its own), lean entry
        ackmeans: [
          'nice',
          '-n',
          String(getPriority()),
          process.execPath,
          fileURLToPath(new URL('../../dist/executor/shard-main.js', import.meta.url)),
        ],
      })
    : undefined;
if (values.engine === 'exhaustive') {
  const source = createAlignmentSource(provider, align);
  const r = await runClustering(source, {
    ...common,
    method: 'ack',
    onIteration: (rec, st) => {
      keep(rec.iteration, st.assignment);
      log(
        `    exhaustive iteration ${rec.iteration}: σ ${rec.sigma.toFixed(4)}, ${rec.seconds.toFixed(1)} s`,
      );
    },
  });
  assignment = r.assignment;
  iterations = r.state.iteration;
  converged = r.converged;
  visits = r.trace.length; // every image aligned (to all k) once per iteration, the initial one too
  stages.full = { iterations: r.trace.length, seconds: r.trace.reduce((s, x) => s + x.seconds, 0), visits };
} else {
  const budget = Number(values['max-visits'] ?? 0);
  const settleSigma = Number(values['settle-sigma'] ?? CLASSIFY_DEFAULTS.settleSigma);
  const settle = settleSigma > 0 ? { visits: visitAllowance(n, k), sigma: settleSigma } : undefined;
  log(
    `    scale engine stops: σ ≤ ${common.sigma0}` +
      (settle ? `, or σ ≤ ${settle.sigma} past ${+settle.visits.toFixed(2)} visits` : '') +
      (budget > 0 ? `, or at ${budget} visits` : ''),
  );
  const scaleOptions = {
    align,
    ...(executor ? { executor } : {}),
    ...(working.scratchDir === undefined ? {} : { scratch: working.scratchDir }),
    ...(values['local-radius'] ? { localShiftRadius: Number(values['local-radius']) } : {}),
    ...(values['spectra-on-disk'] ? { inMemorySpectraLimit: 0 } : {}),
  };
  const spectra = await spectraPlacement(n, scaleOptions);
  log(
    `    kept image spectra: ${spectra.place === 'none' ? 'none (resampled every pass)' : `${(spectra.bytes / 2 ** 20).toFixed(0)} MB in ${spectra.place === 'memory' ? 'memory' : `a scratch file in ${working.scratchDir}`}`}`,
  );
  const r = await runScale(provider, {
    ...common,
    ...scaleOptions,
    ...(values.shortlist ? { shortlist: Number(values.shortlist) } : {}),
    shortlistRefresh: Number(values['shortlist-refresh'] ?? CLASSIFY_DEFAULTS.shortlistRefresh),
    ...(budget > 0 ? { maxVisits: budget } : {}),
    ...(settle ? { settle } : {}),
    ...(values.batches
      ? { batches: values.batches === 'none' ? [] : values.batches.split(',').map(Number) }
      : {}),
    onIteration: (rec, st) => {
      keep(rec.iteration, st.assignment);
      log(
        `    scale ${rec.stage} ${rec.iteration} (${rec.setSize} images): σ ${rec.sigma.toFixed(4)}, visits ${rec.visits.toFixed(2)}, outside ${rec.kept ? 'kept classes' : rec.neighbours ? 'kept and neighbouring classes' : rec.shortlisted ? 'the re-used shortlist' : 'shortlist'} ${(100 * rec.outsideShortlist).toFixed(2)} %, J1 ${rec.j1.toExponential(6)}, references moved ${(rec.referenceChange ?? 0).toFixed(4)}${rec.keptMissed === undefined ? '' : `, missed by the kept classes ${(100 * rec.keptMissed).toFixed(3)} %`}${rec.sumsUpdated === undefined ? '' : `, sums updated by ${(100 * rec.sumsUpdated).toFixed(1)} %`}, ${rec.seconds.toFixed(1)} s`,
      );
    },
  }).catch(async (err: unknown) => {
    await executor?.close({ keepFiles: true }); // nothing left queued on the cluster
    throw err;
  });
  assignment = r.assignment;
  iterations = r.state.iteration;
  converged = r.converged;
  const trace = r.trace as ScaleRecord[];
  visits = trace.at(-1)?.visits ?? 0;
  for (const rec of trace) {
    const s = (stages[rec.stage] ??= { iterations: 0, seconds: 0, visits: 0 });
    s.iterations++;
    s.seconds += rec.seconds;
    s.visits += rec.setSize / n;
  }
  iterationSeconds = trace.map((x) => x.seconds);
  await executor?.close();
  const full = trace.filter((x) => x.stage === 'full');
  outside = full.at(-1)?.outsideShortlist;
  budgetReached = trace.at(-1)?.budgetReached ?? false;
  settled = trace.at(-1)?.settled ?? false;
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await working.close();
await stack.close();
if (values.out)
  writeFileSync(values.out, Buffer.from(assignment.buffer, assignment.byteOffset, assignment.byteLength));
process.stdout.write(
  `${JSON.stringify({
    engine: values.engine,
    n,
    k,
    threads,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    iterations,
    converged,
    visits,
    stages,
    outsideShortlist: outside,
    budgetReached,
    settled,
    iterationSeconds,
    ...(executor
      ? {
          executor: values.executor,
          shards: Number(values.shards),
          passTimings: executor.timings,
          sumsTimings: executor.sumsTimings,
        }
      : {}),
  })}\n`,
);
