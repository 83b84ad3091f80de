import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStack, readMrc, readStar } from '../../src/io/index.js';
import { classify } from '../../src/pipeline/classify.js';
import { CHECKPOINT_FILE } from '../../src/pipeline/checkpoint.js';
import { applyRelionPose } from '../../src/pipeline/relion.js';
import type { ClassifyParams } from '../../src/pipeline/params.js';
import { runClassification } from '../../src/pipeline/run.js';
import { type SimulatedStack, simulateStack } from './simulate.js';
import { pearson } from '../helpers/stats.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'ack-classify-'));
let sim: SimulatedStack;

beforeAll(async () => {
  sim = await simulateStack(tmp(), { perView: 24, snr: 2, seed: 3 });
});

/** Fraction of particles in the majority view of their class (1 = every class is one view). */
function purity(assignment: Int32Array, view: Int32Array, k: number): number {
  const counts = Array.from({ length: k }, () => new Map<number, number>());
  assignment.forEach((c, i) => counts[c].set(view[i], (counts[c].get(view[i]) ?? 0) + 1));
  return counts.reduce((s, m) => s + Math.max(0, ...m.values()), 0) / assignment.length;
}

/**
 * Runs `params` once uninterrupted into `full`, and once into `cut` aborted at the first trace
 * record `stopAt` accepts, then resumed from its checkpoint (`afterAbort` inspects `cut` between).
 */
async function runCutAndResume(
  params: ClassifyParams,
  stopAt: (record: { phase?: string; iteration: number }) => boolean,
  afterAbort?: (cut: string) => Promise<void>,
): Promise<{ full: string; cut: string }> {
  const full = tmp();
  await runClassification(sim.star, full, params);
  const cut = tmp();
  const controller = new AbortController();
  await expect(
    runClassification(sim.star, cut, params, {
      signal: controller.signal,
      onIteration: (t) => {
        if (stopAt(t as { phase?: string; iteration: number })) controller.abort();
      },
    }),
  ).rejects.toThrow(/abort/i);
  await afterAbort?.(cut);
  await runClassification('', cut, { k: 1 }, { resume: true });
  return { full, cut };
}

describe('classify: every pipeline with every method separates the known views', () => {
  // 4 views × 24 particles into 8 classes: each class should hold one view.
  for (const pipeline of ['mra', 'msa', 'rfa'] as const)
    for (const method of ['ack', 'kmeans', 'spider', 'eqk'] as const)
      it(`${pipeline} + ${method}`, async () => {
        const r = await classify(sim.star, { k: 8, pipeline, method, maxIter: 8, seed: 1, threads: 2 });
        expect(r.assignment.length).toBe(sim.view.length);
        expect(r.sizes.reduce((a, b) => a + b, 0)).toBe(sim.view.length);
        expect(purity(r.assignment, sim.view, 8), `purity of ${pipeline}/${method}`).toBeGreaterThan(0.9);
        if (method === 'eqk') expect(new Set(r.sizes)).toEqual(new Set([12]));
      });
});

describe('runClassification', () => {
  let out: string;
  beforeAll(async () => {
    out = tmp();
    await runClassification(sim.star, out, { k: 8, maxIter: 8, seed: 2, threads: 2 });
  });

  it('writes RELION-style outputs that re-read cleanly, keeping every input column', async () => {
    const files = await readdir(out);
    for (const f of ['run_data.star', 'run_classes.mrcs', 'run_model.star', 'report.json', 'report.html'])
      expect(files).toContain(f);
    expect(files).not.toContain(CHECKPOINT_FILE);
    expect(files.filter((f) => f.startsWith('.'))).toEqual([]);
    const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
    expect(data.rowCount).toBe(sim.view.length);
    for (const c of [
      'rlnImageName',
      'rlnAngleRot',
      'rlnAngleTilt',
      'simView',
      'rlnClassNumber',
      'rlnAnglePsi',
      'rlnOriginXAngst',
      'ackMirror',
      'ackScore',
    ])
      expect(data.has(c), c).toBe(true);
    const classes = data.numeric('rlnClassNumber')!;
    expect(Math.min(...classes)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...classes)).toBeLessThanOrEqual(8);
    const averages = await readMrc(join(out, 'run_classes.mrcs'));
    expect([averages.header.nx, averages.header.nz]).toEqual([sim.box, 8]);
    expect(averages.header.pixelSize).toBeCloseTo(sim.pixelSize, 4);
    const model = await readStar(join(out, 'run_model.star'));
    expect(model.block('model_classes')!.strings('rlnReferenceImage')![0]).toBe('000001@run_classes.mrcs');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.input.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.seed).toBe(2);
    expect(report.trace.length).toBeGreaterThan(1);
    expect(report.sizes.reduce((a: number, b: number) => a + b, 0)).toBe(sim.view.length);
  });

  it('reports poses that, applied to the raw particles RELION-style, match their class average', async () => {
    const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
    const averages = (await readMrc(join(out, 'run_classes.mrcs'))).data;
    const stack = await openStack(sim.stack);
    const raw = await stack.readBatch(0, stack.n);
    await stack.close();
    const px = sim.box * sim.box;
    const psi = data.numeric('rlnAnglePsi')!;
    const ox = data.numeric('rlnOriginXAngst')!;
    const oy = data.numeric('rlnOriginYAngst')!;
    const mirror = data.numeric('ackMirror')!;
    const cls = data.numeric('rlnClassNumber')!;
    let own = 0;
    let best = 0;
    for (let i = 0; i < data.rowCount; i++) {
      const aligned = applyRelionPose(raw.subarray(i * px, (i + 1) * px), sim.box, {
        psi: psi[i],
        originX: ox[i] / sim.pixelSize,
        originY: oy[i] / sim.pixelSize,
        mirror: mirror[i] === 1,
      });
      const c = Array.from({ length: 8 }, (_, j) =>
        pearson(aligned, averages.subarray(j * px, (j + 1) * px)),
      );
      own += c[cls[i] - 1];
      if (c[cls[i] - 1] === Math.max(...c)) best++;
    }
    expect(own / data.rowCount).toBeGreaterThan(0.5);
    expect(best / data.rowCount).toBeGreaterThan(0.9);
  });

  it('a run stopped after iteration 2 and resumed ends exactly like an uninterrupted one', async () => {
    const params = { k: 8, maxIter: 5, sigma0: 0, seed: 5, threads: 2 };
    const { full, cut } = await runCutAndResume(
      params,
      (r) => r.iteration === 2,
      async (dir) => {
        // the checkpoint and the job's bookkeeping; no output, no lock (the run has ended)
        expect((await readdir(dir)).sort()).toEqual([CHECKPOINT_FILE, 'note.txt', 'run.log']);
      },
    );
    for (const f of ['run_data.star', 'run_classes.mrcs', 'run_model.star'])
      expect(readFileSync(join(cut, f)).equals(readFileSync(join(full, f))), f).toBe(true);
    const strip = (r: { trace: Array<Record<string, unknown>>; timings?: unknown }) => ({
      ...r,
      timings: undefined,
      trace: r.trace.map((t) => ({ ...t, seconds: undefined })),
    });
    const a = JSON.parse(readFileSync(join(cut, 'report.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(full, 'report.json'), 'utf8'));
    expect(strip(a)).toEqual(strip(b));
  });
});

describe('bad inputs and impossible parameters', () => {
  it('fail with a clear error and leave no output folder', async () => {
    const out = join(tmp(), 'out');
    await expect(runClassification(join(tmp(), 'missing.star'), out, { k: 2 })).rejects.toThrow(
      /missing\.star/,
    );
    await expect(runClassification(sim.star, out, { k: 1000 })).rejects.toThrow(/k \(1000\)/);
    await expect(runClassification(sim.star, out, { k: 2, method: 'nope' as 'ack' })).rejects.toThrow(
      /method/,
    );
    await expect(runClassification(sim.star, out, { k: 2, diameter: -3 })).rejects.toThrow(/diameter/);
    expect(existsSync(out)).toBe(false);
    await expect(runClassification('', join(tmp(), 'none'), { k: 2 }, { resume: true })).rejects.toThrow(
      /checkpoint/,
    );
  });
});

describe('determinism', () => {
  it('gives the same classes for 1 and 2 threads', async () => {
    const a = await classify(sim.star, { k: 8, maxIter: 4, seed: 7, threads: 1 });
    const b = await classify(sim.star, { k: 8, maxIter: 4, seed: 7, threads: 2 });
    expect(Array.from(a.assignment)).toEqual(Array.from(b.assignment));
    expect(Buffer.from(a.averages.buffer).equals(Buffer.from(b.averages.buffer))).toBe(true);
  });

  it('MRA with coarse starts resumes exactly when stopped in a start or in the main phase', async () => {
    const params = {
      k: 8, maxIter: 3, sigma0: 0, seed: 6, threads: 2, init: 'subsets' as const, starts: 2,
      startIterations: 2, followFrc: true, filterReferences: true,
    }; // prettier-ignore
    for (const stop of [
      (r: { phase?: string; iteration: number }) => r.phase === 'start2' && r.iteration === 1,
      (r: { phase?: string; iteration: number }) => r.phase === 'classes' && r.iteration === 1,
    ]) {
      const { full, cut } = await runCutAndResume(params, stop);
      for (const f of ['run_data.star', 'run_classes.mrcs'])
        expect(readFileSync(join(cut, f)).equals(readFileSync(join(full, f))), f).toBe(true);
      const phases = (dir: string) =>
        [...new Set(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).trace.map((t: { phase: string }) => t.phase))]; // prettier-ignore
      expect(phases(full)).toEqual(['start1', 'start2', 'classes']);
    }
  });

  it('MRA/MSA (several clustering phases) resumes mid-phase exactly', async () => {
    const params = { k: 8, pipeline: 'msa' as const, maxIter: 3, sigma0: 0, seed: 4, threads: 2 };
    const { full, cut } = await runCutAndResume(params, (r) => r.phase === 'round2' && r.iteration === 1);
    for (const f of ['run_data.star', 'run_classes.mrcs'])
      expect(readFileSync(join(cut, f)).equals(readFileSync(join(full, f))), f).toBe(true);
  });
});
