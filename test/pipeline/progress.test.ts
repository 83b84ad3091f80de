import { describe, expect, it } from 'vitest';
import { type ClassifyProgress, ProgressTracker, sizeCv } from '../../src/pipeline/progress.js';

describe('ProgressTracker', () => {
  it('reports the iteration in progress while clustering and the last finished one afterwards', () => {
    const seen: ClassifyProgress[] = [];
    const t = new ProgressTracker(10, (p) => seen.push(p));
    t.update('preprocess', 0.5);
    t.update('align', 0);
    t.iterationDone(0, 1, [5, 5]); // the initial assignment
    t.update('align', 0.5);
    expect(seen.at(-1)).toMatchObject({ stage: 'align', iteration: 1, sigma: 1 });
    t.iterationDone(1, 0.2, [4, 6]);
    t.iterationDone(2, 0.005, [5, 5]);
    t.update('average', 0);
    expect(seen.at(-1)).toMatchObject({ stage: 'average', iteration: 2, sigma: 0.005, sizeCv: 0 });
    const fractions = seen.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.every((f) => f >= 0 && f <= 1)).toBe(true);
  });

  it('computes the coefficient of variation of class sizes', () => {
    expect(sizeCv([5, 5, 5])).toBe(0);
    expect(sizeCv([2, 4])).toBeCloseTo(1 / 3, 12);
    expect(sizeCv([0, 0])).toBe(0);
  });
});
