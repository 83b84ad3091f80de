import { describe, expect, it } from 'vitest';
import { createAlignmentSource } from '../../src/align/source.js';
import { rng } from '../helpers/random.js';
import { addNoise, randomBlobs, renderTransformed, stack } from './synthetic.js';
import { pearson } from '../helpers/stats.js';

const box = 40;
const particles = [randomBlobs(5, 10, 31), randomBlobs(5, 10, 32)].map((blobs) => ({ blobs }));
const r = rng(33);
const truth = Int32Array.from({ length: 16 }, (_, i) => i % 2);
const params = [...truth].map(() => ({
  psi: 360 * r(),
  shiftX: Math.round(2 * r() - 1),
  shiftY: Math.round(2 * r() - 1),
  mirror: r() < 0.5,
}));
const images = stack(
  [...truth].map((c, i) => addNoise(renderTransformed(particles[c].blobs, box, params[i]), 5, 50 + i)),
);

describe('createAlignmentSource', () => {
  it('classifies by alignment: table, assignment, aligned class averages that match the particles', async () => {
    const source = createAlignmentSource(images, { box, shiftRange: 1 });
    expect(source.dim).toBe(box * box);
    expect(source.n).toBe(16);
    expect(() => source.parametersFor(truth)).toThrow(/table/);
    const refs = await source.initialReferences(Int32Array.from([0, 1]));
    expect(refs.subarray(0, box * box)).toEqual(images.subarray(0, box * box));
    const table = await source.table(refs, { threads: 2 });
    expect(table.length).toBe(32);
    const assignment = Int32Array.from({ length: 16 }, (_, i) => (table[2 * i] <= table[2 * i + 1] ? 0 : 1));
    expect(assignment).toEqual(truth);
    const averages = await source.average(assignment, 2, refs, {});
    // Averages are in the frame of the initial references (images 0 and 1): compare with the
    // noise-free particle in that frame.
    const own = source.parametersFor(assignment);
    for (let j = 0; j < 2; j++) {
      expect(own.score[j]).toBe(table[2 * j + j]);
      const avg = averages.subarray(j * box * box, (j + 1) * box * box);
      expect(pearson(avg, renderTransformed(particles[j].blobs, box, params[j]))).toBeGreaterThan(0.95);
    }
    expect(source.lastAverages?.sizes).toEqual(Int32Array.from([8, 8]));
    expect(source.lastAlignment?.psi.length).toBe(32);
  });

  it('keeps the previous reference for an empty class', async () => {
    const source = createAlignmentSource(images, { box, shiftRange: 0 });
    const refs = await source.initialReferences(Int32Array.from([0, 1, 2]));
    await source.table(refs, {});
    const averages = await source.average(new Int32Array(16), 3, refs, {});
    expect(averages.subarray(box * box)).toEqual(refs.subarray(box * box));
  });
});
