/**
 * The class sums summed by the Slurm array tasks (single-node Slurm: scripts/slurm-local.sh
 * start): the scale engine through the Slurm executor ends with the same bits as in one process,
 * mini-batches and full passes, and the tasks did sums. (With the coordinator sharing the sums,
 * the default, test/executor/slurm-classify.test.ts checks the outputs.) Skips where no
 * Slurm answers or the task entry (dist/) is not built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSlurmExecutor } from '../../src/executor/slurm-pass.js';
import { type ScaleState, candidatePass, runScale } from '../../src/pipeline/scale.js';
import { decodeFloat16Native, encodeFloat16Native } from '../../src/pipeline/scratch.js';
import { addNoise, randomBlobs, renderTransformed, stack } from '../align/synthetic.js';

const LOCAL_CONF = '/tmp/ackmeans-slurm/slurm.conf';
if (!process.env.SLURM_CONF && existsSync(LOCAL_CONF)) process.env.SLURM_CONF = LOCAL_CONF;
const entry = fileURLToPath(new URL('../../dist/executor/shard-main.js', import.meta.url));

function slurmAnswers(): boolean {
  try {
    const state = execFileSync('sinfo', ['-h', '-o', '%T'], { timeout: 20_000, encoding: 'utf8' });
    return /idle|mixed|allocated|completing/.test(state) && existsSync(entry);
  } catch {
    return false;
  }
}
const available = slurmAnswers();
if (!available)
  console.warn(
    'Slurm class-sum tests skipped: no Slurm answers or dist/ is not built (scripts/slurm-local.sh start; npm run build:ts)',
  );

/** A small stack of float16 values (as the working stack holds them) and the engine's options. */
async function smallRun(): Promise<{ images: Float32Array; options: Parameters<typeof runScale>[1] }> {
  const box = 32;
  const views = Array.from({ length: 4 }, (_, j) => randomBlobs(5, 11, 800 + j));
  const imgs: Float32Array[] = [];
  for (let r = 0; r < 50; r++)
    for (let j = 0; j < 4; j++)
      imgs.push(
        addNoise(
          renderTransformed(views[j], box, {
            psi: (53 * r + 31 * j) % 360,
            shiftX: 0,
            shiftY: 0,
            mirror: false,
          }),
          1,
          900 + 4 * r + j,
        ),
      );
  // float16 values, as in the working stack (the executor stages the images as float16)
  const images = await decodeFloat16Native(await encodeFloat16Native(stack(imgs)));
  const options = {
    k: 4,
    seed: 6,
    maxIter: 3,
    sigma0: 0,
    shortlist: 2,
    batches: [80],
    threads: 1,
    align: { box, shiftRange: 1, bandLimit: 0.3 },
  };
  return { images, options };
}

describe.skipIf(!available)('class sums on the Slurm array tasks', () => {
  it('give the same state as in one process, and the tasks summed', { timeout: 600_000 }, async () => {
    const { images, options } = await smallRun();
    const local = await runScale(images, options);
    const executor = await createSlurmExecutor({
      dir: join(mkdtempSync(join(tmpdir(), 'ackmeans-slurm-sums-')), 'slurm'),
      shards: 3,
      pollMs: 200,
      shareSums: false, // the tasks sum (the coordinator only when none runs): the path under test
      aheadGraceMs: 120_000, // on a loaded machine the tasks may take more than 3 s to start
    });
    try {
      const viaSlurm = await runScale(images, { ...options, executor });
      expect(viaSlurm.assignment).toEqual(local.assignment);
      expect(viaSlurm.references).toEqual(local.references);
      expect((viaSlurm.state as ScaleState).shiftX).toEqual((local.state as ScaleState).shiftX);
      // one batch + three full passes, each iteration's sums on the array submitted ahead
      expect(executor.sumsTimings.length).toBe(4);
      const byTasks = executor.sumsTimings.reduce((s, t) => s + t.byTasks, 0);
      expect(byTasks, JSON.stringify(executor.sumsTimings)).toBeGreaterThan(0);
    } finally {
      await executor.close();
    }
  });

  it(
    'a pass on given candidates (kept classes, no coarse stage) is the same on the tasks',
    { timeout: 600_000 },
    async () => {
      const { images, options } = await smallRun();
      const { box } = options.align;
      const n = images.length / (box * box);
      const references = images.slice(0, 4 * box * box);
      const own = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? (i + 2) % 4 : -1));
      const given = Int32Array.from({ length: 2 * n }, (_, q) =>
        q % 2 === 0 ? (q / 2) % 4 : q % 3 === 0 ? -1 : 3,
      );
      const fine = { ...options.align, threads: 1 };
      const local = await candidatePass(images, references, own, 2, fine, 0.15, undefined, undefined, given);
      expect(local.m).toBe(3);
      const executor = await createSlurmExecutor({
        dir: join(mkdtempSync(join(tmpdir(), 'ackmeans-slurm-given-')), 'slurm'),
        shards: 3,
        pollMs: 200,
        ahead: false,
      });
      try {
        const viaSlurm = await executor.candidatePass(
          images,
          references,
          own,
          2,
          fine,
          0.15,
          undefined,
          undefined,
          given,
        );
        expect(viaSlurm).toEqual(local);
      } finally {
        await executor.close();
      }
    },
  );

  it(
    'a chunk whose claimant dies without a result is summed by the coordinator',
    { timeout: 600_000 },
    async () => {
      const { images, options } = await smallRun();
      const short = { ...options, batches: [], maxIter: 2 };
      const local = await runScale(images, short);
      const dir = mkdtempSync(join(tmpdir(), 'ackmeans-slurm-orphan-'));
      // Task 1 of the first array submitted ahead claims chunk 1 and exits 1 without its sums
      // (as a task killed mid-chunk); task 0 of that array starts only after (so it cannot take
      // chunk 1 first). Every other task is the real one.
      const wrapper = join(dir, 'task.mjs');
      writeFileSync(
        wrapper,
        `import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const args = process.argv.slice(2);
const [passDir, task] = args.slice(-2);
const died = ${JSON.stringify(join(dir, 'died'))};
if (args.includes('--wait') && !existsSync(died)) {
  if (task === '1') {
    writeFileSync(join(passDir, 'claim-1'), process.env.SLURM_ARRAY_JOB_ID + '_' + process.env.SLURM_ARRAY_TASK_ID);
    writeFileSync(died, 'x');
    process.exit(1);
  }
  const until = Date.now() + 300000;
  while (!existsSync(died) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
await import(${JSON.stringify(entry)});
`,
      );
      const executor = await createSlurmExecutor({
        dir: join(dir, 'slurm'),
        shards: 3,
        pollMs: 200,
        shareSums: false,
        ackmeans: [process.execPath, wrapper],
      });
      try {
        const viaSlurm = await runScale(images, { ...short, executor });
        expect(existsSync(join(dir, 'died')), 'the wrapper played its part').toBe(true);
        expect(viaSlurm.assignment).toEqual(local.assignment);
        expect(viaSlurm.references).toEqual(local.references);
        expect(
          executor.sumsTimings[0].byCoordinator,
          JSON.stringify(executor.sumsTimings),
        ).toBeGreaterThanOrEqual(1);
      } finally {
        await executor.close();
      }
    },
  );
});
