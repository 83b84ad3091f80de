import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from '../../src/eval/ari.js';
import { evaluateOracle, oracleClasses } from '../../src/eval/oracle.js';
import { Rng } from '../../src/random.js';

/** `groups` tight groups of directions (spread `spread`°) about well-separated centres. */
function groups(count: number, per: number, spread: number, seed: number) {
  const rng = new Rng(seed);
  const n = count * per;
  const rot = new Float64Array(n);
  const tilt = new Float64Array(n);
  const views = new Int32Array(n);
  for (let g = 0; g < count; g++)
    for (let m = 0; m < per; m++) {
      const i = g * per + m;
      rot[i] = (360 * g) / count + spread * rng.normal();
      tilt[i] = 60 + spread * rng.normal();
      views[i] = g;
    }
  return { rot, tilt, views };
}

describe('oracle', () => {
  it('recovers well-separated groups of true directions exactly', async () => {
    const { rot, tilt, views } = groups(6, 15, 2, 3);
    const classes = await oracleClasses(rot, tilt, 6);
    expect(adjustedRandIndex(classes, views)).toBe(1);
    const e = await evaluateOracle(rot, tilt, 6, { viewIds: views });
    expect(e.ari).toBe(1);
    expect(e.mirror.median).toBeLessThan(6);
  });

  it('treats a view and its opposite as one direction', async () => {
    // images 10..19 are the opposites of images 0..9 (rot + 180°, 180° − tilt)
    const { rot, tilt } = groups(2, 10, 1, 5);
    for (let i = 10; i < 20; i++) {
      rot[i] = rot[i - 10] + 180;
      tilt[i] = 180 - tilt[i - 10];
    }
    const classes = await oracleClasses(rot, tilt, 2);
    // image i + 10 looks along exactly the opposite direction of image i: the same point
    for (let i = 0; i < 10; i++) expect(classes[i + 10]).toBe(classes[i]);
    const e = await evaluateOracle(rot, tilt, 2);
    expect(e.mirror.median).toBeLessThan(3);
  });
});
