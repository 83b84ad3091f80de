/**
 * The scale engine's candidate passes run as Slurm job arrays. The coordinator (the `ackmeans
 * classify` process) keeps everything sequential — ACK-means' size-aware assignment, the
 * references, checkpoints; each pass's alignment of the particles to their candidate references
 * is split into `shards` consecutive particle ranges, one array task each.
 *
 * Files, in a job folder on the shared filesystem (`<output>/slurm` by default):
 *   images-<id>.f16       the pass's images, float16 (the working stack already holds float16
 *                         values, so this is exact), written once per image set and reused by
 *                         every pass over the same set
 *   arrays                the ids of the arrays submitted, one a line: a coordinator started
 *                         again on this folder (`--continue` after a kill) cancels those
 *                         still running first
 *   pass-<r>-<p>/…        pass p of the coordinator process r (a random token, so tasks of a
 *                         killed coordinator never write into a later one's passes):
 *   pass-<p>/spec.json    what to compute: the image file, n, box, shards, m, the settings
 *   pass-<p>/refs.f32     the references; pass-<p>/own.i32 each image's current class
 *   pass-<p>/out-<t>.bin  task t's slice of the candidate table (written to a temporary name,
 *                         then renamed)
 * A task computes exactly what the local pass computes for its images (alignment of an image
 * does not depend on the other images in its block), so results are bit-identical.
 *
 * Class sums: after the ACK pass the coordinator writes, into the folder of the array submitted
 * ahead (whose tasks are up, waiting for their pass):
 *   assign.bin            each image's class and pose (int32 classes, float32 ψ, x, y, uint8
 *                         mirror)
 *   sums.json             the image file, n, box, k, the chunks (one per task, the pass's
 *                         ranges) and the quantum of the exact sums (src/pipeline/class-sums.ts)
 *   claim-<c>             who computes chunk c (`<array id>_<task>`; created exclusively)
 *   sums-<c>.bin          chunk c's per-class sums
 * Each waiting task claims its own chunk, then any left; the coordinator claims chunks from the
 * last one meanwhile and sums late ones again (see `shareSums`), computes a chunk whose claimant
 * left the queue without a result, and adds the chunks' sums. The sums are exact, so who computed a chunk and how the
 * chunks are cut change no bit.
 */
import { randomUUID } from 'node:crypto';
import {
  appendFile,
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AlignOptions, LocalShifts } from '../align/options.js';
import { type Images, imageBlocks, imageCount } from '../align/provider.js';
import type { CandidateTable } from '../align/candidates.js';
import type { ImageParameters } from '../align/average.js';
import { AckmeansError, checkInt, checkNumber, throwIfAborted } from '../errors.js';
import { type ClassSums, addClassSums, classSums, emptyClassSums } from '../pipeline/class-sums.js';
import { candidatePass, type PassExecutor } from '../pipeline/scale.js';
import { decodeFloat16Native, encodeFloat16Native } from '../pipeline/scratch.js';
import { native } from '../native.js';
import { type ArrayRun, type SlurmSettings, cancelArrays, checkSlurm, startArray } from './slurm.js';

/** Options of {@link createSlurmExecutor}. */
export interface SlurmExecutorOptions extends SlurmSettings {
  /** Job folder on the shared filesystem (created). */
  dir: string;
  /** Array tasks per pass (each a consecutive range of particles). */
  shards: number;
  /** CPUs (threads) per task (default 1). */
  cpusPerTask?: number;
  /**
   * Submit the next pass's array as soon as a pass ends (default true): its tasks start, load
   * ackmeans and wait (≤ {@link AHEAD_WAIT_MS}) for the pass's inputs while the coordinator
   * runs the ACK pass and the averages, which hides sbatch, scheduling and start-up. The cost:
   * the tasks hold their CPUs meanwhile; false submits each array when its inputs are ready.
   * The waiting tasks also sum the class chunks, so with false the coordinator sums them all.
   * (No CLI option: on a cluster ahead is what both hides the start-up and distributes the sums.)
   */
  ahead?: boolean;
  /**
   * The coordinator sums class chunks no task has claimed yet, from the last one, while it
   * waits for the tasks, and then again a claimed chunk that is not done after as long as the
   * coordinator took for one of its own (default true: it would wait idle otherwise; a task
   * that is still starting finds its chunk done; a duplicate costs at most one chunk's time).
   * With false it sums a chunk only when its claimant left the queue without a result, or when
   * no task of the array runs `aheadGraceMs` after it was submitted. Either way the sums are
   * the same bits.
   */
  shareSums?: boolean;
  /**
   * With `shareSums: false`, how long after submitting an array ahead the coordinator waits
   * for one of its tasks to run before it sums unclaimed chunks itself (default
   * {@link AHEAD_GRACE_MS}; a loaded machine's tasks may take longer to start).
   */
  aheadGraceMs?: number;
  /**
   * The command that runs `ackmeans` on the compute nodes; tasks run `<it> shard-task PASS_DIR
   * TASK`. Default: this Node running this package's lean task entry (dist/executor/shard-main.js,
   * which starts faster than the CLI).
   */
  ackmeans?: string[];
}

/**
 * Where one pass's time went (ms; task times are epoch ms read from the tasks' slices, so the
 * coordinator's and the nodes' clocks are assumed to agree, as on one machine or with NTP).
 */
export interface PassTiming {
  /** Images (first pass over a set), references, classes and spec written. */
  prepare: number;
  /** `sbatch` round trip. */
  sbatch: number;
  /** From sbatch's answer until every task's exit was seen. */
  wait: number;
  /** Slices read back into one table. */
  read: number;
  /** From sbatch's answer to the first task's process start (scheduling, launch). */
  firstStart: number;
  /** Per task: process start → alignment start (Node, the addon, reading its images). */
  startup: number[];
  /** Per task: the alignment itself. */
  compute: number[];
  /** From the last task's alignment end until the coordinator saw it (write, exit, polling). */
  notice: number;
}

/** Where one iteration's class sums went (ms). */
export interface SumsTiming {
  /** assign.bin and sums.json written. */
  prepare: number;
  /** From sums.json until every chunk's sums were there. */
  wait: number;
  /** Chunks' sums read and added. */
  read: number;
  /** Chunks summed by the array's tasks, and by the coordinator itself. */
  byTasks: number;
  byCoordinator: number;
}

/** A Slurm {@link PassExecutor}, with where its passes' and class sums' time went. */
export interface SlurmPassExecutor extends PassExecutor {
  readonly timings: PassTiming[];
  readonly sumsTimings: SumsTiming[];
}

/** What a task records in its slice's header: epoch ms of its process start and its alignment. */
export interface TaskClock {
  processStart: number;
  computeStart: number;
  computeEnd: number;
}

/** What a shard task reads from spec.json. */
interface ShardSpec {
  images: string;
  n: number;
  box: number;
  k: number;
  shards: number;
  m: number;
  coarseBand: number;
  fine: Omit<AlignOptions, 'threads' | 'signal' | 'onProgress'>;
  /**
   * The local shift window's half-width (null: the whole grid, only the coarse stage is centred);
   * its centres are in centres.f32 (x then y).
   */
  localRadius?: number | null;
  /** True when the shortlist is given (given.i32, m classes per image): no coarse stage. */
  given?: boolean;
}

/** What a task reads from sums.json. */
interface SumsSpec {
  images: string;
  n: number;
  box: number;
  k: number;
  chunks: number;
  quantum: number;
}

/** This package's built task entry (the same path from src/executor and dist/executor). */
const SHARD_MAIN = fileURLToPath(new URL('../../dist/executor/shard-main.js', import.meta.url));

const TABLE_FIELDS = ['classes', 'score', 'psi', 'shiftX', 'shiftY', 'mirror'] as const;

/** The range of images of task t of `shards` over n images: [start, end). */
export function shardRange(n: number, shards: number, t: number): [number, number] {
  const per = Math.ceil(n / shards);
  return [Math.min(n, t * per), Math.min(n, (t + 1) * per)];
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes `images` as float16 to `path` (streamed block by block). */
async function stageImages(images: Images, box: number, path: string): Promise<void> {
  const handle = await open(`${path}.tmp`, 'w');
  try {
    let offset = 0;
    for await (const block of imageBlocks(images, box)) {
      const bits = bytesOf(await encodeFloat16Native(block.images));
      await handle.write(bits, 0, bits.byteLength, offset);
      offset += bits.byteLength;
    }
  } finally {
    await handle.close();
  }
  await rename(`${path}.tmp`, path);
}

/** The file listing the arrays submitted from a job folder. */
const ARRAYS_FILE = 'arrays';
/** What the executor writes in its job folder (and only that is removed). */
const OWN_NAMES = /^(arrays|images-.*\.f16(\.tmp)?|pass-.*)$/;

/**
 * Cancels the arrays listed in `dir`'s arrays file (those an earlier coordinator on `dir`
 * submitted and left running, or this one's at its close), then removes the list unless
 * `keepList`.
 */
async function cancelLeftovers(
  dir: string,
  settings: SlurmSettings,
  { keepList = false } = {},
): Promise<void> {
  const text = await readFile(join(dir, ARRAYS_FILE), 'utf8').catch(() => '');
  const ids = text.split('\n').filter((id) => /^\d+$/.test(id));
  await cancelArrays(ids, settings);
  if (!keepList) await rm(join(dir, ARRAYS_FILE), { force: true });
}

/** Removes the executor's own files from `dir`, then `dir` itself if nothing else is in it. */
async function removeOwnFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((f) => OWN_NAMES.test(f)).map((f) => rm(join(dir, f), { recursive: true, force: true })),
  );
  await rmdir(dir).catch(() => undefined); // not empty: someone else's files (a --slurm-dir)
}

/**
 * A {@link PassExecutor} that runs every candidate pass as a Slurm job array. Checks the
 * settings (`sbatch --test-only`) before returning, so bad settings fail before any work, and
 * cancels the arrays a killed coordinator on the same folder left running.
 */
export async function createSlurmExecutor(options: SlurmExecutorOptions): Promise<SlurmPassExecutor> {
  const shards = checkInt('shards', options.shards, 1, 10_000);
  if (options.aheadGraceMs !== undefined) checkNumber('aheadGraceMs', options.aheadGraceMs, 0);
  const dir = resolve(options.dir);
  await checkSlurm(options);
  await cancelLeftovers(dir, options);
  const command = options.ackmeans ? [...options.ackmeans, 'shard-task'] : [process.execPath, SHARD_MAIN];
  const staged = new WeakMap<object, string>();
  const run = randomUUID().slice(0, 8);
  let stagedCount = 0;
  let passes = 0;
  const timings: PassTiming[] = [];
  const sumsTimings: SumsTiming[] = [];
  /** This process's last time per image summing a chunk of class sums (ms). */
  let msPerImage: number | undefined;
  const pollMs = options.pollMs ?? 1000;
  /**
   * The next pass's array, submitted ahead (its tasks wait for spec.json in `passDir`, and sum
   * the classes' chunks meanwhile).
   */
  let ahead: { passDir: string; tasks: number; array: ArrayRun; submitted: number } | undefined;
  let watched: AbortSignal | undefined;
  const dropAhead = async (): Promise<void> => {
    const gone = ahead;
    ahead = undefined;
    await gone?.array.cancel();
  };
  const submitPass = (passDir: string, tasks: number, wait: boolean, signal?: AbortSignal) =>
    startArray(
      {
        name: 'ackmeans-pass',
        dir: passDir,
        tasks,
        command: [...command, ...(wait ? ['--wait'] : []), passDir, '{task}'],
        cpusPerTask: options.cpusPerTask ?? 1,
      },
      options,
      { ...(signal ? { signal } : {}), onSubmit: (id) => appendFile(join(dir, ARRAYS_FILE), `${id}\n`) },
    );

  return {
    name: 'slurm',
    timings,
    sumsTimings,
    async classSums(images, box, assignment, k, poses, sumOptions) {
      const imagePath = staged.get(images);
      const target = ahead;
      // no array waiting (ahead: false) or images no pass has seen: summed here
      if (!imagePath || !target) return classSums(images, box, assignment, k, poses, sumOptions);
      const t0 = Date.now();
      const n = imageCount('images', images, box);
      const { passDir, tasks: chunks, array } = target;
      await writeAtomic(join(passDir, 'assign.bin'), encodeAssignment(assignment, poses));
      const spec: SumsSpec = { images: imagePath, n, box, k, chunks, quantum: sumOptions.quantum };
      await writeAtomic(join(passDir, 'sums.json'), JSON.stringify(spec));
      const t1 = Date.now();
      const signal = sumOptions.signal;
      const mine = new Map<number, ClassSums>();
      /** The first claimed chunk not summed after `perImage` ms per image since its claim. */
      const lateChunk = async (cs: number[], perImage: number): Promise<number | undefined> => {
        for (const c of cs) {
          const [a, b] = shardRange(n, chunks, c);
          const claimed = await stat(join(passDir, `claim-${c}`)).catch(() => undefined);
          if (claimed && Date.now() - claimed.mtimeMs >= perImage * (b - a)) return c;
        }
        return undefined;
      };
      const pending = new Set<number>();
      for (let c = 0; c < chunks; c++) {
        const [a, b] = shardRange(n, chunks, c);
        if (b > a) pending.add(c);
      }
      const nonEmpty = pending.size;
      const sumHere = async (c: number): Promise<void> => {
        const [a, b] = shardRange(n, chunks, c);
        const started = performance.now();
        mine.set(
          c,
          await classSums(
            imageRange(images, box, a, b),
            box,
            assignment.subarray(a, b),
            k,
            posesRange(poses, a, b),
            { ...sumOptions, first: a },
          ),
        );
        msPerImage = (performance.now() - started) / (b - a);
        pending.delete(c);
      };
      const share = options.shareSums !== false;
      const aheadGraceMs = options.aheadGraceMs ?? AHEAD_GRACE_MS;
      let delay = 20;
      let lastSqueue = -Infinity;
      while (pending.size > 0) {
        throwIfAborted(signal);
        for (const c of [...pending]) if (existsSync(join(passDir, `sums-${c}.bin`))) pending.delete(c);
        if (pending.size === 0) break;
        // sharing: the last chunk nobody has claimed (the tasks start from their own)
        const free = share
          ? [...pending].reverse().find((c) => !existsSync(join(passDir, `claim-${c}`)))
          : undefined;
        if (free !== undefined) {
          if (await claimChunk(passDir, free, 'coordinator')) await sumHere(free);
          continue;
        }
        // a chunk claimed longer ago than this process takes for one (a task still starting, or
        // slower): summed here too, the same bits, whichever comes first is used
        const late =
          share && msPerImage !== undefined ? await lateChunk([...pending], msPerImage) : undefined;
        if (late !== undefined) {
          await sumHere(late);
          continue;
        }
        if (Date.now() - lastSqueue >= pollMs) {
          // squeue first, then the claims: a task is running before it claims
          const running = await array.running();
          lastSqueue = Date.now();
          const idle = running.size === 0 && Date.now() - target.submitted >= aheadGraceMs;
          for (const c of [...pending]) {
            const claim = await readFile(join(passDir, `claim-${c}`), 'utf8').catch(() => undefined);
            if (existsSync(join(passDir, `sums-${c}.bin`))) pending.delete(c);
            else if (
              claim === undefined
                ? idle && (await claimChunk(passDir, c, 'coordinator'))
                : !running.has(claim)
            )
              await sumHere(c); // no task to do it, or its claimant left without a result
          }
        }
        if (pending.size === 0) break;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(pollMs, Math.ceil(delay * 1.5));
      }
      const t2 = Date.now();
      const total = await readSums(passDir, { n, k, box, chunks }, mine);
      sumsTimings.push({
        prepare: t1 - t0,
        wait: t2 - t1,
        read: Date.now() - t2,
        byTasks: nonEmpty - mine.size,
        byCoordinator: mine.size,
      });
      return total;
    },
    async candidatePass(images, references, own, m, fine, coarseBand, progress, local, given) {
      const t0 = Date.now();
      const box = fine.box;
      const n = imageCount('images', images, box);
      const k = references.length / (box * box);
      let imagePath = staged.get(images);
      if (!imagePath) {
        await mkdir(dir, { recursive: true });
        imagePath = join(dir, `images-${run}-${stagedCount++}.f16`);
        await stageImages(images, box, imagePath);
        // A Float32Array changes under us only if the caller reuses it: key by identity anyway.
        staged.set(images, imagePath);
      }
      const { threads: _t, signal, onProgress: _p, ...settings } = fine;
      if (signal && signal !== watched) {
        watched = signal; // a cancelled run cancels the array waiting for its next pass
        signal.addEventListener('abort', () => void dropAhead(), { once: true });
      }
      const tasks = Math.min(shards, n);
      if (ahead && ahead.tasks !== tasks) await dropAhead();
      const early = ahead;
      ahead = undefined;
      const passDir = early?.passDir ?? join(dir, `pass-${run}-${passes++}`);
      await mkdir(passDir, { recursive: true });
      const spec: ShardSpec = { images: imagePath, n, box, k, shards: tasks, m, coarseBand, fine: settings };
      await writeAtomic(join(passDir, 'refs.f32'), bytesOf(references));
      await writeAtomic(join(passDir, 'own.i32'), bytesOf(own));
      if (given) {
        spec.given = true;
        await writeAtomic(join(passDir, 'given.i32'), bytesOf(given));
      }
      if (local) {
        spec.localRadius = Number.isFinite(local.radius) ? local.radius : null;
        const centres = new Float32Array(2 * n);
        centres.set(local.centreX, 0);
        centres.set(local.centreY, n);
        await writeAtomic(join(passDir, 'centres.f32'), bytesOf(centres));
      }
      await writeAtomic(join(passDir, 'spec.json'), JSON.stringify(spec));
      const t1 = Date.now();
      const array = early?.array ?? (await submitPass(passDir, tasks, false, signal));
      const submitted = Date.now();
      await array.wait({ signal, onProgress: progress && ((p) => progress(p.done / p.total)) });
      const t2 = Date.now();
      if (options.ahead !== false) {
        const next = join(dir, `pass-${run}-${passes++}`);
        ahead = {
          passDir: next,
          tasks,
          array: await submitPass(next, tasks, true, signal),
          submitted: Date.now(),
        };
      }
      const { table, clocks } = await readTable(passDir, spec);
      const t3 = Date.now();
      if (clocks.length === tasks)
        timings.push({
          prepare: t1 - t0,
          sbatch: submitted - t1,
          wait: t2 - submitted,
          read: t3 - t2,
          firstStart: Math.min(...clocks.map((c) => c.processStart)) - submitted,
          startup: clocks.map((c) => c.computeStart - c.processStart),
          compute: clocks.map((c) => c.computeEnd - c.computeStart),
          notice: t2 - Math.max(...clocks.map((c) => c.computeEnd)),
        });
      await rm(passDir, { recursive: true, force: true });
      return table;
    },
    async close({ keepFiles = false } = {}) {
      await dropAhead();
      // and anything else this folder's coordinators submitted that may still be queued
      await cancelLeftovers(dir, options, { keepList: keepFiles });
      if (!keepFiles) await removeOwnFiles(dir);
    },
  };
}

/**
 * The full candidate table from the tasks' slices (`out-<t>.bin` in `passDir`, task t holding
 * {@link shardRange}(n, shards, t)): the coordinator's reduce. Exported for the benchmark.
 */
export async function readTable(
  passDir: string,
  spec: Pick<ShardSpec, 'n' | 'shards'>,
): Promise<{ table: CandidateTable; clocks: TaskClock[] }> {
  let table: CandidateTable | undefined;
  const clocks: TaskClock[] = [];
  for (let t = 0; t < spec.shards; t++) {
    const [a, b] = shardRange(spec.n, spec.shards, t);
    if (b <= a) continue;
    const file = join(passDir, `out-${t}.bin`);
    const { m, clock, body } = sliceHeader(await readFile(file), b - a, file);
    if (clock) clocks.push(clock); // none from a task of an older ackmeans
    table ??= {
      n: spec.n,
      m,
      classes: new Int32Array(spec.n * m),
      score: new Float32Array(spec.n * m),
      psi: new Float32Array(spec.n * m),
      shiftX: new Float32Array(spec.n * m),
      shiftY: new Float32Array(spec.n * m),
      mirror: new Uint8Array(spec.n * m),
    };
    if (m !== table.m)
      throw new AckmeansError('ERR_SLURM', `${file}: has ${m} columns, the other slices ${table.m}`, {
        file,
      });
    // One copy, bytes straight into place (the slice's fields need not be 4-byte aligned).
    let o = 0;
    for (const f of TABLE_FIELDS) {
      const dst = table[f];
      const bytes = (b - a) * m * dst.BYTES_PER_ELEMENT;
      new Uint8Array(dst.buffer, dst.byteOffset + a * m * dst.BYTES_PER_ELEMENT, bytes).set(
        body.subarray(o, o + bytes),
      );
      o += bytes;
    }
  }
  if (!table) throw new AckmeansError('ERR_SLURM', `no task of ${passDir} produced a table`);
  return { table, clocks };
}

/**
 * The whole class sums from the chunks' `sums-<c>.bin` in `passDir` (chunk c holding
 * {@link shardRange}(n, chunks, c)), or from `computed` for the chunks summed in this process,
 * added in chunk order; the files are removed once read. Exported for the benchmark.
 */
export async function readSums(
  passDir: string,
  spec: Pick<SumsSpec, 'n' | 'k' | 'box' | 'chunks'>,
  computed: ReadonlyMap<number, ClassSums> = new Map(),
): Promise<ClassSums> {
  const { n, k, box, chunks } = spec;
  const total = emptyClassSums(k, box);
  for (let c = 0; c < chunks; c++) {
    const [a, b] = shardRange(n, chunks, c);
    if (b <= a) continue;
    const file = join(passDir, `sums-${c}.bin`);
    addClassSums(total, computed.get(c) ?? decodeSums(await readFile(file), k, box, b - a, file));
    await rm(file, { force: true });
  }
  return total;
}

/**
 * A table slice as bytes: a JSON header line {n, m, clock}, then the fields in TABLE_FIELDS
 * order.
 */
export function encodeTable(t: CandidateTable, clock: TaskClock): Uint8Array {
  const head = new TextEncoder().encode(`${JSON.stringify({ n: t.n, m: t.m, clock })}\n`);
  const parts = [head, ...TABLE_FIELDS.map((f) => bytesOf(t[f]))];
  return Buffer.concat(parts);
}

/** Checks a slice's header and size; its m, its task's clock, and the bytes after the header. */
function sliceHeader(buf: Buffer, n: number, file: string): { m: number; clock?: TaskClock; body: Buffer } {
  const nl = buf.indexOf(10);
  const bad = (why: string): AckmeansError => new AckmeansError('ERR_SLURM', `${file}: ${why}`, { file });
  if (nl < 0) throw bad('no header');
  const head = JSON.parse(buf.subarray(0, nl).toString('utf8')) as {
    n: number;
    m: number;
    clock?: TaskClock;
  };
  if (head.n !== n) throw bad(`holds ${head.n} images, expected ${n}`);
  const expected = nl + 1 + n * head.m * (4 * 5 + 1);
  if (buf.byteLength !== expected) throw bad(`is ${buf.byteLength} bytes, expected ${expected}`);
  return { m: head.m, ...(head.clock ? { clock: head.clock } : {}), body: buf.subarray(nl + 1) };
}

/** Longest time a task submitted ahead waits for its pass's inputs (then it fails and is retried). */
export const AHEAD_WAIT_MS = 10 * 60_000;

/**
 * How long after submitting an array ahead the coordinator waits for one of its tasks to run
 * before it sums unclaimed chunks itself.
 */
export const AHEAD_GRACE_MS = 3000;

/** Claims chunk c of the class sums in `passDir` for `who`; false when someone else has it. */
async function claimChunk(passDir: string, c: number, who: string): Promise<boolean> {
  try {
    await writeFile(join(passDir, `claim-${c}`), who, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Images [a, b) of `images` (a view or a provider reading through). */
function imageRange(images: Images, box: number, a: number, b: number): Images {
  const dim = box * box;
  if (images instanceof Float32Array) return images.subarray(a * dim, b * dim);
  return { n: b - a, read: (start, count) => images.read(a + start, count) };
}

function posesRange(poses: ImageParameters, a: number, b: number): ImageParameters {
  return {
    psi: poses.psi.subarray(a, b),
    shiftX: poses.shiftX.subarray(a, b),
    shiftY: poses.shiftY.subarray(a, b),
    mirror: poses.mirror.subarray(a, b),
  };
}

/** assign.bin: n classes (int32), ψ, x, y shifts (float32), mirror flags (uint8). */
function encodeAssignment(assignment: Int32Array, poses: ImageParameters): Uint8Array {
  const parts = [assignment, poses.psi, poses.shiftX, poses.shiftY, poses.mirror].map(bytesOf);
  return Buffer.concat(parts);
}

function decodeAssignment(
  buf: Uint8Array,
  n: number,
  file: string,
): { assignment: Int32Array; poses: ImageParameters } {
  if (buf.byteLength !== 17 * n)
    throw new AckmeansError('ERR_SLURM', `${file}: is ${buf.byteLength} bytes, expected ${17 * n}`, { file });
  const copy = new Uint8Array(buf); // aligned
  const f32 = (i: number): Float32Array => new Float32Array(copy.buffer, 4 * n * i, n);
  return {
    assignment: new Int32Array(copy.buffer, 0, n),
    poses: { psi: f32(1), shiftX: f32(2), shiftY: f32(3), mirror: copy.subarray(16 * n, 17 * n) },
  };
}

/**
 * A chunk's sums as bytes: a JSON header line {k, box, n}, then even, odd sums, members and
 * even-half members.
 */
export function encodeSums(sums: ClassSums, k: number, box: number, n: number): Uint8Array {
  const head = new TextEncoder().encode(`${JSON.stringify({ k, box, n })}\n`);
  const parts = [
    head,
    bytesOf(sums.evenSum),
    bytesOf(sums.oddSum),
    bytesOf(sums.members),
    bytesOf(sums.evenMembers),
  ];
  return Buffer.concat(parts);
}

function decodeSums(buf: Buffer, k: number, box: number, n: number, file: string): ClassSums {
  const bad = (why: string): AckmeansError => new AckmeansError('ERR_SLURM', `${file}: ${why}`, { file });
  const nl = buf.indexOf(10);
  if (nl < 0) throw bad('no header');
  const head = JSON.parse(buf.subarray(0, nl).toString('utf8')) as { k: number; box: number; n: number };
  if (head.k !== k || head.box !== box || head.n !== n)
    throw bad(`holds k ${head.k}, box ${head.box}, ${head.n} images; expected ${k}, ${box}, ${n}`);
  const size = k * box * box;
  if (buf.byteLength !== nl + 1 + 16 * size + 8 * k)
    throw bad(`is ${buf.byteLength} bytes, expected ${nl + 1 + 16 * size + 8 * k}`);
  const body = new Uint8Array(buf.subarray(nl + 1)); // a copy, 8-byte aligned
  return {
    evenSum: new Float64Array(body.buffer, 0, size),
    oddSum: new Float64Array(body.buffer, 8 * size, size),
    members: new Int32Array(body.buffer, 16 * size, k),
    evenMembers: new Int32Array(body.buffer, 16 * size + 4 * k, k),
  };
}

/** The last images a task read (its class-sum chunk is its pass's range when the set is the same). */
let lastRead: { path: string; a: number; b: number; images: Float32Array } | undefined;

/** Images [a, b) of the float16 file `path` (box² values each), as float32. */
async function readImages(path: string, box: number, a: number, b: number): Promise<Float32Array> {
  if (lastRead && lastRead.path === path && lastRead.a === a && lastRead.b === b) return lastRead.images;
  const dim = box * box;
  const bits = new Uint16Array((b - a) * dim);
  const handle = await open(path, 'r');
  try {
    const buf = bytesOf(bits);
    let done = 0;
    while (done < buf.byteLength) {
      const { bytesRead } = await handle.read(buf, done, buf.byteLength - done, a * dim * 2 + done);
      if (bytesRead === 0) throw new AckmeansError('ERR_SLURM', `${path} ended early`, { file: path });
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const images = await decodeFloat16Native(bits);
  lastRead = { path, a, b, images };
  return images;
}

/**
 * A waiting task's share of the class sums: its own chunk first, then any chunk nobody has
 * claimed, each written as sums-<c>.bin.
 */
async function sumChunks(passDir: string, task: number): Promise<void> {
  const spec = JSON.parse(await readFile(join(passDir, 'sums.json'), 'utf8')) as SumsSpec;
  const file = join(passDir, 'assign.bin');
  const { assignment, poses } = decodeAssignment(await readFile(file), spec.n, file);
  const threads = Number.parseInt(process.env.SLURM_CPUS_PER_TASK ?? '1', 10) || 1;
  const me = `${process.env.SLURM_ARRAY_JOB_ID ?? 'none'}_${process.env.SLURM_ARRAY_TASK_ID ?? task}`;
  for (let j = 0; j < spec.chunks; j++) {
    const c = (task + j) % spec.chunks;
    const [a, b] = shardRange(spec.n, spec.chunks, c);
    const out = join(passDir, `sums-${c}.bin`);
    if (b <= a || existsSync(out) || !(await claimChunk(passDir, c, me))) continue;
    const images = await readImages(spec.images, spec.box, a, b);
    const sums = await classSums(
      images,
      spec.box,
      assignment.subarray(a, b),
      spec.k,
      posesRange(poses, a, b),
      { quantum: spec.quantum, first: a, threads },
    );
    await writeAtomic(out, encodeSums(sums, spec.k, spec.box, b - a));
  }
}

/**
 * A task submitted ahead: loads the addon (part of the start-up it hides), then waits for
 * `passDir/spec.json`, the last file the coordinator writes for a pass; meanwhile it sums its
 * share of the classes when sums.json appears.
 */
async function waitForSpec(passDir: string, task: number): Promise<void> {
  native();
  const deadline = Date.now() + AHEAD_WAIT_MS;
  let delay = 5;
  let summed = false;
  while (!existsSync(join(passDir, 'spec.json'))) {
    if (!summed && existsSync(join(passDir, 'sums.json'))) {
      await sumChunks(passDir, task);
      summed = true;
      continue;
    }
    if (Date.now() > deadline)
      throw new AckmeansError(
        'ERR_SLURM',
        `no pass arrived in ${passDir} within ${AHEAD_WAIT_MS / 60_000} min`,
      );
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(100, Math.ceil(delay * 1.5));
  }
}

/**
 * One array task (`ackmeans shard-task PASS_DIR TASK`): aligns its range of the pass's images
 * to their candidates and writes its slice of the table. Threads: SLURM_CPUS_PER_TASK or 1.
 */
export async function runShardTask(passDir: string, task: number, wait = false): Promise<void> {
  if (wait) await waitForSpec(passDir, task);
  const spec = JSON.parse(await readFile(join(passDir, 'spec.json'), 'utf8')) as ShardSpec;
  checkInt('task', task, 0, spec.shards - 1);
  const [a, b] = shardRange(spec.n, spec.shards, task);
  const images = await readImages(spec.images, spec.box, a, b);
  lastRead = undefined;
  const references = new Float32Array(new Uint8Array(await readFile(join(passDir, 'refs.f32'))).buffer);
  const ownAll = new Int32Array(new Uint8Array(await readFile(join(passDir, 'own.i32'))).buffer);
  const threads = Number.parseInt(process.env.SLURM_CPUS_PER_TASK ?? '1', 10) || 1;
  let local: LocalShifts | undefined;
  if (spec.localRadius !== undefined) {
    const centres = new Float32Array(new Uint8Array(await readFile(join(passDir, 'centres.f32'))).buffer);
    local = {
      centreX: centres.subarray(a, b),
      centreY: centres.subarray(spec.n + a, spec.n + b),
      radius: spec.localRadius ?? Infinity,
    };
  }
  const given = spec.given
    ? new Int32Array(new Uint8Array(await readFile(join(passDir, 'given.i32'))).buffer).subarray(
        a * spec.m,
        b * spec.m,
      )
    : undefined;
  const computeStart = Date.now();
  const table = await candidatePass(
    images,
    references,
    ownAll.subarray(a, b),
    spec.m,
    { ...spec.fine, box: spec.box, threads },
    spec.coarseBand,
    undefined,
    local,
    given,
  );
  const clock = { processStart: Math.round(performance.timeOrigin), computeStart, computeEnd: Date.now() };
  await writeAtomic(join(passDir, `out-${task}.bin`), encodeTable(table, clock));
}
