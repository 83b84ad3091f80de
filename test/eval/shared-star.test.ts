import { expect, it } from 'vitest';
import { evaluateFiles } from '../../src/eval/evaluate.js';
import { evaluateClasses } from '../../src/eval/metrics.js';
import { readStar } from '../../src/io/star.js';
import { describeShared, sharedFile } from '../helpers/shared.js';

describeShared('evaluateFiles on a real RELION 3.0 STAR file (3796 particles)', () => {
  const file = sharedFile('particles', 'empiar10028-sample', 'metadata_only_3796rows.star');

  it('evaluates its own classes against its own angles, as evaluateClasses does on its columns', async () => {
    const sampling = { maxPairsPerClass: 200_000 }; // one class of 3796: 7.2·10⁶ pairs, sampled
    const e = await evaluateFiles(file, file, sampling);
    const block = (await readStar(file)).blocks.find((b) => b.has('rlnClassNumber'))!;
    const classNumbers = block.numeric('rlnClassNumber')!;
    const k = Math.max(...classNumbers);
    expect(e.n).toBe(3796);
    expect(e.k).toBe(k);
    expect(e.sizes.reduce((a, s) => a + s, 0)).toBe(3796);
    expect(e.ari).toBeUndefined(); // no view column
    const expected = evaluateClasses(
      {
        rot: block.numeric('rlnAngleRot')!,
        tilt: block.numeric('rlnAngleTilt')!,
        classes: Int32Array.from(classNumbers, (c) => c - 1),
        k,
      },
      sampling,
    );
    expect(e.sampledClasses).toBe(1);
    expect(e).toEqual(expected);
    expect(e.mirror.median).toBeGreaterThan(0);
    expect(e.mirror.median).toBeLessThan(90);
  });
});
