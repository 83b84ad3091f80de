/**
 * The worker process of a server job (forked by runner.ts): runs `runClassification` on the
 * job's input into the job's folder, resuming from the folder's checkpoint when the server
 * restarted it, and reports through worker-host.ts (progress, per-iteration trace, summary).
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CHECKPOINT_FILE } from '../pipeline/checkpoint.js';
import { runClassification, type ClassifyParams } from '../pipeline/run.js';
import { serveWorker } from './worker-host.js';

serveWorker(async (input, outDir, params, { signal, resume, remap, slurm, onProgress, onIteration }) => {
  const summary = await runClassification(input, outDir, params as unknown as ClassifyParams, {
    signal,
    // Interrupted before its first checkpoint (during preprocessing): start again.
    resume: resume && existsSync(join(outDir, CHECKPOINT_FILE)),
    // Exactly the stack files the server checked (never looked up again by name).
    ...(remap ? { remap } : {}),
    // The server's executor: the job's passes as Slurm job arrays (cancelled with the job).
    ...(slurm ? { slurm } : {}),
    onProgress: (p) => onProgress({ ...p }),
    onIteration,
  });
  return {
    files: summary.files.map((f) => relative(outDir, f)),
    iterations: summary.iterations,
    converged: summary.converged,
    sizes: summary.sizes,
    seconds: summary.seconds,
    quarantined: summary.quarantined,
  };
});
