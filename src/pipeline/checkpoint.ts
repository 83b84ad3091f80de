/**
 * Checkpoints: after every clustering iteration the whole state needed to finish the run is
 * saved atomically (temporary name + rename) in OUTDIR/checkpoint.json — the input, its
 * checksum, the parameters, and the loop state of every clustering phase so far. A resumed run
 * redoes the deterministic steps (preprocessing, reference-free alignment, PCA), restores each
 * phase's state and ends with exactly the result of an uninterrupted run.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ClusteringResult,
  type ClusteringState,
  type RunClusteringOptions,
  runClustering,
} from '../cluster/index.js';
import type { DissimilaritySource } from '../cluster/source.js';
import { AckmeansError } from '../errors.js';
import type { ClassifyParams } from './params.js';

/** The checkpoint's file name in the output folder. */
export const CHECKPOINT_FILE = 'checkpoint.json';

/** What a checkpoint holds. */
export interface Checkpoint {
  version: 1;
  /** Absolute path of the input (.star, .cs or .mrcs). */
  input: string;
  /** sha256 of the input file's bytes. */
  inputChecksum: string;
  /** STAR/.cs column remapping the run was started with. */
  remap?: Record<string, string>;
  /** The parameters as given (resolved again, identically, on resume). */
  params: ClassifyParams;
  /** Latest loop state of each clustering phase, by phase name. */
  phases: Record<string, ClusteringState>;
}

/** sha256 (hex) of a file's bytes, streamed. */
export async function fileChecksum(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function encode(_key: string, value: unknown): unknown {
  if (value instanceof Float32Array)
    return { $f32: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Int32Array)
    return { $i32: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Uint8Array && !Buffer.isBuffer(value))
    return { $u8: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

function decode(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    const v = value as { $f32?: string; $i32?: string; $u8?: string };
    const b64 = v.$f32 ?? v.$i32 ?? v.$u8;
    if (typeof b64 === 'string') {
      const bytes = Buffer.from(b64, 'base64');
      const copy = new Uint8Array(bytes).buffer;
      if (v.$f32 !== undefined) return new Float32Array(copy);
      return v.$i32 !== undefined ? new Int32Array(copy) : new Uint8Array(copy);
    }
  }
  return value;
}

/** Writes `checkpoint` to OUTDIR/checkpoint.json atomically. */
export async function saveCheckpoint(outDir: string, checkpoint: Checkpoint): Promise<void> {
  const path = join(outDir, CHECKPOINT_FILE);
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, JSON.stringify(checkpoint, encode));
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new AckmeansError(
      'ERR_CHECKPOINT',
      `ackmeans: cannot write the checkpoint ${path}: ${(err as Error).message}`,
      {
        file: path,
        cause: err,
      },
    );
  }
}

/** Reads OUTDIR/checkpoint.json; an AckmeansError `ERR_CHECKPOINT` names the file when it is missing or damaged. */
export async function loadCheckpoint(outDir: string): Promise<Checkpoint> {
  const path = join(outDir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AckmeansError(
      'ERR_CHECKPOINT',
      `ackmeans: no checkpoint to continue from in ${outDir} (${CHECKPOINT_FILE} cannot be read)`,
      {
        file: path,
        cause: err,
      },
    );
  }
  let cp: Checkpoint;
  try {
    cp = JSON.parse(text, decode) as Checkpoint;
  } catch (err) {
    throw new AckmeansError(
      'ERR_CHECKPOINT',
      `ackmeans: ${path} is not a valid checkpoint (${(err as Error).message})`,
      {
        file: path,
        cause: err,
      },
    );
  }
  if (
    cp?.version !== 1 ||
    typeof cp.input !== 'string' ||
    typeof cp.inputChecksum !== 'string' ||
    typeof cp.params !== 'object' ||
    typeof cp.phases !== 'object'
  )
    throw new AckmeansError('ERR_CHECKPOINT', `ackmeans: ${path} is not a checkpoint of this version`, {
      file: path,
    });
  return cp;
}

/** Removes OUTDIR/checkpoint.json (after the outputs are written). */
export async function removeCheckpoint(outDir: string): Promise<void> {
  await unlink(join(outDir, CHECKPOINT_FILE)).catch(() => undefined);
}

/**
 * Runs the clustering phases of a pipeline with checkpoints: each phase resumes from its saved
 * state when there is one. After every iteration `onIteration` is called first and the state is
 * saved after it: a process killed in between resumes from the iteration before and reports
 * this one again (the same record, by determinism), where the other order would lose the record
 * of an iteration whose state was saved (a kill after the checkpoint's rename reached the disk
 * but before its callback ran). Aborting from `onIteration` still saves the iteration.
 */
export class PhaseRunner {
  /** Results of the phases run so far, in order. */
  readonly results: Array<{ phase: string; result: ClusteringResult }> = [];

  constructor(
    private readonly checkpoint: Checkpoint | undefined,
    private readonly save: (checkpoint: Checkpoint) => Promise<void>,
    private readonly onIteration?: (
      phase: string,
      record: ClusteringResult['trace'][number],
    ) => void | Promise<void>,
  ) {}

  /** Runs (or resumes, or returns at once if finished) the phase `name` on `source`. */
  run(name: string, source: DissimilaritySource, options: RunClusteringOptions): Promise<ClusteringResult> {
    return this.runWith(name, (hooks) => runClustering(source, { ...options, ...hooks }));
  }

  /**
   * Runs the phase `name` with any engine that takes a saved `state` and calls `onIteration`
   * after every iteration (the exhaustive driver, the scale engine).
   */
  async runWith<S extends ClusteringState>(
    name: string,
    engine: (hooks: {
      state?: S;
      onIteration: (record: ClusteringResult['trace'][number], state: S) => Promise<void>;
    }) => Promise<ClusteringResult>,
  ): Promise<ClusteringResult> {
    const cp = this.checkpoint;
    const saved = cp?.phases[name] as S | undefined;
    const result = await engine({
      ...(saved ? { state: saved } : {}),
      onIteration: async (record, state) => {
        await this.onIteration?.(name, record);
        if (cp) {
          cp.phases[name] = state;
          await this.save(cp);
        }
      },
    }).catch((err: unknown) => {
      // The saved state is checked before it is used: its errors name `state.…`.
      if (saved && (err instanceof RangeError || err instanceof TypeError) && /^state\b/.test(err.message))
        throw new AckmeansError(
          'ERR_CHECKPOINT',
          `ackmeans: ${CHECKPOINT_FILE} is damaged (phase ${name}: ${err.message}); this run cannot be continued: start it again into a new output folder`,
          { file: CHECKPOINT_FILE, cause: err },
        );
      throw err;
    });
    this.results.push({ phase: name, result });
    return result;
  }
}
