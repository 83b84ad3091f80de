/**
 * Reads what the server checks before queueing an input — particle count, box, pixel size, CTF
 * presence and the real paths of the stacks — without ever touching a file outside the allowed
 * folders, and off the event loop:
 *
 * 1. a STAR file's particle rows are counted while it streams in (a `.cs` file's from its numpy
 *    header), so an input above the particle limit is refused before it is parsed;
 * 2. the metadata is parsed and every stack it names is checked against the allowed folders —
 *    lexically first, then by real path (symlinks) — before any stack is opened: a reference
 *    outside is a 403 that says nothing about the outside file;
 * 3. only then io's `openParticles` opens the checked stacks (header checks, index ranges).
 *
 * `inspectInput` runs all of it in a worker thread (inspect-thread.ts), a few at a time, so a
 * 1M-row STAR file does not stall the server; `inspectConfined` is the same work in this thread.
 */
import { createReadStream } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, normalize, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { AckmeansError } from '../errors.js';
import { openParticles } from '../io/index.js';
import { readCs } from '../io/cs.js';
import { csMetadata } from '../io/particles-cs.js';
import { starMetadata } from '../io/particles-star.js';
import { candidatePaths } from '../io/stack-references.js';
import { readStar } from '../io/star.js';
import type { InputFacts } from './app.js';
import { HttpError } from './errors.js';
import { isInside } from './paths.js';

/** What an inspection must enforce. */
export interface InspectRules {
  /** Real paths of the folders the input and its stacks may lie in. */
  allowed: string[];
  /** Largest particle count accepted (checked while the file is read). */
  maxParticles: number;
}

function tooMany(limit: number): HttpError {
  return new HttpError(
    422,
    'ERR_PARAMS',
    `the input has more than ${limit} particles, this server's limit (--max-particles)`,
  );
}

/** A stack reference outside the allowed folders: the answer names nothing outside. */
function forbidden(): HttpError {
  return new HttpError(403, 'ERR_PATH_FORBIDDEN', 'the input names a stack file outside the data roots');
}

/**
 * Counts the rows of every STAR loop that has an `_rlnImageName` column as the file streams in,
 * and throws 422 as soon as one passes `limit` (memory stays at one line).
 */
export async function checkStarRows(path: string, limit: number): Promise<number> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let inLoop = false;
  let labels = true;
  let counted = false;
  let rows = 0;
  let most = 0;
  try {
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('data_')) inLoop = false;
      else if (line === 'loop_') {
        inLoop = true;
        labels = true;
        counted = false;
        rows = 0;
      } else if (line.startsWith('_')) {
        if (inLoop && labels && /^_rlnImageName(\s|$)/.test(line)) counted = true;
        else if (inLoop && !labels) inLoop = false; // a key-value pair after the loop
      } else if (inLoop) {
        labels = false;
        if (counted && ++rows > limit) throw tooMany(limit);
        most = Math.max(most, rows);
      }
    }
  } finally {
    lines.close();
  }
  return most;
}

/** The record count of a `.cs` (numpy) file, from its header; 422 above `limit`. */
export async function checkCsRows(path: string, limit: number): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const shape = /'shape'\s*:\s*\(\s*(\d+)/.exec(head.subarray(0, bytesRead).toString('latin1'));
    if (shape && Number(shape[1]) > limit) throw tooMany(limit);
  } finally {
    await handle.close();
  }
}

/**
 * The real file of every stack a STAR/.cs file names, found as io finds them (relative to the
 * current folder, the file's folder and the folders above it, then by base name: io's
 * `candidatePaths`) but only among candidates inside `allowed`, and without opening anything:
 * a reference whose plain meaning (absolute, or relative to the file's folder) lies outside is a
 * 403, as is an inside candidate that is a symlink to outside. The result is handed to
 * openParticles and to the job's worker as `remap`, so both open exactly these files.
 */
async function checkedStacks(path: string, rules: InspectRules): Promise<Record<string, string>> {
  const ext = extname(path).toLowerCase();
  const meta =
    ext === '.star'
      ? starMetadata(await readStar(path), path, dirname(path))
      : csMetadata(await readCs(path), dirname(path));
  if (meta.stackIndex.length > rules.maxParticles) throw tooMany(rules.maxParticles);
  const inside = (p: string) => rules.allowed.some((root) => isInside(root, p));
  const remap: Record<string, string> = {};
  const missing: string[] = [];
  for (const ref of meta.references) {
    if (!inside(isAbsolute(ref) ? normalize(ref) : resolve(meta.baseDir, ref))) throw forbidden();
    let found: string | undefined;
    for (const candidate of candidatePaths(ref, meta.baseDir, process.cwd())) {
      if (!inside(candidate)) continue;
      const real = await realpath(candidate).catch(() => undefined);
      if (real === undefined) continue;
      if (!inside(real)) throw forbidden();
      if ((await stat(real)).isFile()) {
        found = real;
        break;
      }
    }
    if (found === undefined) missing.push(ref);
    else remap[ref] = found;
  }
  if (missing.length)
    throw new HttpError(
      422,
      'ERR_INPUT',
      `input unreadable: ${missing.length} referenced stack file${missing.length > 1 ? 's are' : ' is'} missing under the data roots: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}`,
    );
  return remap;
}

/** The inspection itself, in the calling thread (see the module comment). */
export async function inspectConfined(path: string, rules: InspectRules): Promise<InputFacts> {
  if (!rules.allowed.some((root) => isInside(root, path))) throw forbidden();
  const ext = extname(path).toLowerCase();
  if (ext === '.star') await checkStarRows(path, rules.maxParticles);
  if (ext === '.cs') await checkCsRows(path, rules.maxParticles);
  const remap = ext === '.star' || ext === '.cs' ? await checkedStacks(path, rules) : undefined;
  const set = await openParticles(path, { remap });
  try {
    const files = await Promise.all(set.stacks.map((s) => realpath(s)));
    // Belt and braces: nothing opened may lie outside, whatever the metadata parser decided.
    if (!files.every((f) => rules.allowed.some((root) => isInside(root, f)))) throw forbidden();
    return {
      particles: set.count,
      box: set.box,
      pixelSize: set.pixelSize ?? 1,
      hasCtf: set.ctf !== undefined,
      files,
      ...(remap ? { remap } : {}),
    };
  } finally {
    await set.close();
  }
}

/** An error as it crosses from the inspection thread. */
export interface ThreadError {
  kind: 'http' | 'input' | 'argument' | 'internal';
  status?: number;
  code?: string;
  message: string;
}

/** Serialises an inspection error for the thread boundary. */
export function toThreadError(err: unknown): ThreadError {
  if (err instanceof HttpError)
    return { kind: 'http', status: err.status, code: err.code, message: err.message };
  if (err instanceof AckmeansError) return { kind: 'input', code: err.code, message: err.message };
  if (err instanceof RangeError || err instanceof TypeError)
    return { kind: 'argument', message: err.message };
  const e = err as NodeJS.ErrnoException;
  return { kind: 'internal', code: e?.code, message: e?.message ?? String(err) };
}

/** Rebuilds an inspection error on the main thread. */
export function fromThreadError(e: ThreadError): Error {
  if (e.kind === 'http') return new HttpError(e.status!, e.code!, e.message);
  if (e.kind === 'input') return new AckmeansError(e.code!, e.message);
  if (e.kind === 'argument') return new RangeError(e.message);
  return Object.assign(new Error(e.message), { code: e.code });
}

/** Inspection threads (each runs one inspection at a time; started on first use, kept). */
const MAX_THREADS = 2;

interface Reply {
  facts?: InputFacts;
  error?: ThreadError;
}

/** A kept inspection thread. */
class InspectThread {
  readonly worker: Worker;
  busy = false;
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;

  constructor(onExit: (t: InspectThread) => void) {
    this.worker = startThread();
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(reply);
    });
    const fail = (err: Error) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      fail(new Error(`the inspection thread exited (${code}) without an answer`));
      onExit(this);
    });
  }

  run(path: string, rules: InspectRules): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage({ path, rules });
    });
  }
}

const threads: InspectThread[] = [];
const waiting: (() => void)[] = [];

/** A free thread (started if fewer than MAX_THREADS run), waiting for one if all are busy. */
async function takeThread(): Promise<InspectThread> {
  for (;;) {
    const free = threads.find((t) => !t.busy);
    if (free) return free;
    if (threads.length < MAX_THREADS) {
      const t = new InspectThread((gone) => threads.splice(threads.indexOf(gone) >>> 0, 1));
      threads.push(t);
      return t;
    }
    await new Promise<void>((r) => waiting.push(r));
  }
}

/** Starts an inspection thread (the .ts module through tsx when running from sources). */
function startThread(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const url = new URL(fromSources ? './inspect-thread.ts' : './inspect-thread.js', import.meta.url);
  if (!fromSources) return new Worker(url);
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true });
}

/** {@link inspectConfined} in a worker thread (at most MAX_THREADS run at once). */
export async function inspectInput(path: string, rules: InspectRules): Promise<InputFacts> {
  const thread = await takeThread();
  thread.busy = true;
  try {
    const reply = await thread.run(path, rules);
    if (reply.error) throw fromThreadError(reply.error);
    return reply.facts!;
  } finally {
    thread.busy = false;
    waiting.shift()?.();
  }
}

/** Stops the inspection threads (a server closing); the next inspection starts new ones. */
export async function stopInspectThreads(): Promise<void> {
  await Promise.all(threads.splice(0).map((t) => t.worker.terminate()));
}
