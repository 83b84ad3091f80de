import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateFiles } from '../../src/eval/evaluate.js';
import { evaluateClasses } from '../../src/eval/metrics.js';
import { PER, truthViews, VIEWS, writeResult, writeTruth } from './star-fixtures.js';
import { randomClasses } from './views.js';

const dir = mkdtempSync(join(tmpdir(), 'ackmeans-evaluate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const v = truthViews();
const n = VIEWS * PER;
/** The values of `a` in result-row order (result row r holds truth particle order[r]). */
const pick = <T extends Float64Array | Int32Array>(a: T, order: Int32Array) =>
  a.map((_, r) => a[order[r]]) as T;

describe('evaluateFiles', () => {
  it('a perfect classification by view id, rows shuffled: matched by image name, ARI 1', async () => {
    const truth = await writeTruth(dir, v);
    const { path, order } = await writeResult(join(dir, 'perfect.star'), v.viewIds, { shuffle: 5 });
    const e = await evaluateFiles(truth, path);
    expect(e.ari).toBeCloseTo(1, 14);
    expect(e.n).toBe(n);
    expect(e.k).toBe(VIEWS);
    expect(e.sizeCv).toBe(0);
    const ids = pick(v.viewIds, order);
    expect(e).toEqual(
      evaluateClasses({
        rot: pick(v.rot, order),
        tilt: pick(v.tilt, order),
        classes: ids,
        k: VIEWS,
        viewIds: ids,
      }),
    );
  });

  it('a random classification gives what evaluateClasses gives on the matched arrays', async () => {
    const truth = await writeTruth(dir, v);
    const classes = randomClasses(n, 8, 2);
    const { path, order } = await writeResult(join(dir, 'random.star'), classes, { shuffle: 6 });
    const e = await evaluateFiles(truth, path, { classes: 9, binWidth: 2 });
    const expected = evaluateClasses(
      {
        rot: pick(v.rot, order),
        tilt: pick(v.tilt, order),
        classes: pick(classes, order),
        k: 9,
        viewIds: pick(v.viewIds, order),
      },
      { binWidth: 2 },
    );
    expect(e).toEqual(expected);
    expect(e.emptyClasses).toBeGreaterThanOrEqual(1);
    expect(Math.abs(e.ari!)).toBeLessThan(0.1);
  });

  it('falls back to row order without image names, and leaves out the ARI without a view column', async () => {
    const sub = mkdtempSync(join(dir, 'rows-'));
    const truth = await writeTruth(sub, v, { names: false });
    const { path } = await writeResult(join(sub, 'r.star'), v.viewIds, { names: false });
    const e = await evaluateFiles(truth, path, { viewColumn: 'rlnAnglePsi' });
    expect(e.ari).toBeCloseTo(0, 14); // psi is 0 for all: one group
    expect(e.direct.median).toBe(evaluateClasses({ ...v, classes: v.viewIds, k: VIEWS }).direct.median);
    const short = await writeResult(join(sub, 'short.star'), v.viewIds.subarray(0, 10), { names: false });
    await expect(evaluateFiles(truth, short.path)).rejects.toMatchObject({
      code: 'ERR_EVAL_MATCH',
      message: expect.stringMatching(/truth.star has no _rlnImageName and the files have 120 and 10 rows/),
    });
  });

  it('rejects bad files with a code, the file and the problem', async () => {
    const truth = await writeTruth(dir, v);
    const zero = await writeResult(join(dir, 'zero.star'), v.viewIds, {
      classNumbers: [0, ...Array(n - 1).fill(1)],
    });
    await expect(evaluateFiles(truth, zero.path)).rejects.toMatchObject({
      code: 'ERR_STAR_VALUE',
      file: zero.path,
      message: expect.stringMatching(/zero.star: _rlnClassNumber of row 1 is 0, not an integer in 1..1/),
    });
    // A result without class numbers.
    await expect(evaluateFiles(truth, truth)).rejects.toMatchObject({ code: 'ERR_STAR_COLUMN' });
    // A "truth" without angles.
    await expect(evaluateFiles(zero.path, zero.path)).rejects.toMatchObject({
      code: 'ERR_STAR_COLUMN',
      message: expect.stringMatching(/zero.star: no particle table with _rlnAngleRot, _rlnAngleTilt/),
    });
    const ok = await writeResult(join(dir, 'ok.star'), v.viewIds);
    await expect(evaluateFiles(truth, ok.path, { viewColumn: 'nope' })).rejects.toMatchObject({
      code: 'ERR_STAR_COLUMN',
      message: expect.stringMatching(/column _nope is missing/),
    });
    await expect(evaluateFiles(join(dir, 'absent.star'), zero.path)).rejects.toMatchObject({
      code: 'ERR_FILE_NOT_FOUND',
    });
    await expect(evaluateFiles('', zero.path)).rejects.toThrow(TypeError);
  });

  it('rejects result particles that are not in the truth', async () => {
    const truth = await writeTruth(dir, {
      rot: v.rot.subarray(0, 50),
      tilt: v.tilt.subarray(0, 50),
      viewIds: v.viewIds.subarray(0, 50),
    });
    const { path } = await writeResult(join(dir, 'more.star'), v.viewIds);
    await expect(evaluateFiles(truth, path)).rejects.toMatchObject({
      code: 'ERR_EVAL_MATCH',
      message: expect.stringMatching(
        /more.star: image 000051@particles.mrcs \(row 51\) is not in truth.star/,
      ),
    });
  });
});
