import { describe, expect, it } from 'vitest';
import { evaluateClasses, type Evaluation } from '../../src/eval/metrics.js';
import { AngleAccumulator } from '../../src/eval/histogram.js';
import { Rng } from '../../src/random.js';
import { acosDistance, randomClasses, simulateViews } from './views.js';

/** Slow reference: every within-class pair by arccos, sorted for the exact median. */
function reference(rot: Float64Array, tilt: Float64Array, classes: Int32Array, mirror: boolean) {
  const d: number[] = [];
  for (let i = 0; i < classes.length; i++)
    for (let j = 0; j < i; j++)
      if (classes[i] === classes[j]) d.push(acosDistance(rot[i], tilt[i], rot[j], tilt[j], mirror));
  d.sort((a, b) => a - b);
  const max = mirror ? 90 : 180;
  const hist = new Float64Array(max);
  for (const x of d) hist[Math.min(max - 1, Math.floor(x))] += 1 / d.length;
  const m = d.length >> 1;
  const median = d.length % 2 ? d[m] : (d[m - 1] + d[m]) / 2;
  const under = (t: number) => d.filter((x) => x < t).length / d.length;
  return { pairs: d.length, hist, median, under };
}

function expectMatchesReference(e: Evaluation, rot: Float64Array, tilt: Float64Array, classes: Int32Array) {
  for (const mirror of [false, true]) {
    const ref = reference(rot, tilt, classes, mirror);
    const got = mirror ? e.mirror : e.direct;
    expect(e.pairs).toBe(ref.pairs);
    expect(got.histogram.length).toBe(ref.hist.length);
    // arccos and atan2 may put a pair sitting on a bin edge in neighbouring bins: allow one pair.
    for (let b = 0; b < ref.hist.length; b++)
      expect(Math.abs(got.histogram[b] - ref.hist[b])).toBeLessThan(1.5 / ref.pairs);
    expect(Math.abs(got.median - ref.median)).toBeLessThan(0.01);
    for (const t of [10, 15, 20] as const) expect(got.fractionUnder[t]).toBeCloseTo(ref.under(t), 4);
  }
}

describe('evaluateClasses', () => {
  it('matches the all-pairs arccos reference on a random classification', () => {
    const v = simulateViews(12, 25, 6, 1);
    const classes = randomClasses(v.rot.length, 15, 2);
    const e = evaluateClasses({ ...v, classes, k: 15 });
    expectMatchesReference(e, v.rot, v.tilt, classes);
  });

  it('a perfect assignment by view id: ARI 1, equal sizes, distances from the generated spread', () => {
    const sigma = 3;
    const v = simulateViews(100, 60, sigma, 4);
    const e = evaluateClasses({ ...v, classes: v.viewIds, k: 100 });
    expect(e.ari).toBeCloseTo(1, 14);
    expect(e.sizeCv).toBe(0);
    expect(e.emptyClasses).toBe(0);
    expect(e.singletonClasses).toBe(0);
    expect(Array.from(new Set(e.sizes))).toEqual([60]);
    expect(e.pairs).toBe(100 * ((60 * 59) / 2));
    // Two members offset by independent 2D Gaussians of σ per axis: their distance is Rayleigh
    // with scale σ√2 (small angles), median 2σ√ln2, P(d < x) = 1 − exp(−x²/4σ²).
    expect(e.direct.median).toBeGreaterThan(2 * sigma * Math.sqrt(Math.LN2) * 0.95);
    expect(e.direct.median).toBeLessThan(2 * sigma * Math.sqrt(Math.LN2) * 1.05);
    for (const t of [10, 15, 20] as const) {
      expect(e.direct.fractionUnder[t]).toBeCloseTo(1 - Math.exp(-(t * t) / (4 * sigma * sigma)), 2);
      expect(e.mirror.fractionUnder[t]).toBe(e.direct.fractionUnder[t]);
    }
    expect(e.direct.mean).toBeCloseTo(sigma * Math.sqrt(Math.PI), 0);
  });

  it('a random assignment gives the distribution of distances between random views', () => {
    // Views uniform on the half sphere: with mirror equivalence, cos d = |v1·v2| is uniform on
    // [0, 1], so the density is sin d (median 60°) whatever the classes.
    const v = simulateViews(2000, 1, 0, 5);
    const e = evaluateClasses({ ...v, classes: randomClasses(2000, 20, 6), k: 20, viewIds: v.viewIds });
    expect(Math.abs(e.ari!)).toBeLessThan(0.01);
    expect(e.mirror.median).toBeGreaterThan(57);
    expect(e.mirror.median).toBeLessThan(63);
    let tv = 0;
    const r = Math.PI / 180;
    for (let b = 0; b < 90; b++)
      tv += Math.abs(e.mirror.histogram[b] - (Math.cos(b * r) - Math.cos((b + 1) * r)));
    expect(tv / 2).toBeLessThan(0.05);
    expect(e.mirror.fractionUnder[10]).toBeCloseTo(1 - Math.cos(10 * r), 2);
  });

  it('histograms sum to 1, and 2° bins are sums of 1° bins', () => {
    const v = simulateViews(20, 20, 10, 7);
    const classes = randomClasses(400, 10, 8);
    const e1 = evaluateClasses({ ...v, classes, k: 10 });
    const e2 = evaluateClasses({ ...v, classes, k: 10 }, { binWidth: 2 });
    for (const e of [e1, e2]) {
      expect(e.direct.histogram.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 12);
      expect(e.mirror.histogram.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 12);
    }
    expect(e2.direct.histogram.length).toBe(90);
    expect(e2.mirror.histogram.length).toBe(45);
    for (let b = 0; b < 45; b++)
      expect(e2.mirror.histogram[b]).toBeCloseTo(
        e1.mirror.histogram[2 * b] + e1.mirror.histogram[2 * b + 1],
        12,
      );
  });

  it('counts empty and single-member classes and has no pairs when every class has ≤ 1 member', () => {
    const v = simulateViews(3, 1, 0, 9);
    const e = evaluateClasses({ ...v, classes: Int32Array.from([0, 2, 4]), k: 5 });
    expect(e.emptyClasses).toBe(2);
    expect(e.singletonClasses).toBe(3);
    expect(e.pairs).toBe(0);
    expect(e.direct.median).toBeNaN();
    expect(e.direct.histogram.every((x) => x === 0)).toBe(true);
  });

  it('samples pairs of very large classes deterministically, close to the exact result', () => {
    const v = simulateViews(40, 30, 8, 10);
    const classes = randomClasses(1200, 2, 11);
    const exact = evaluateClasses({ ...v, classes, k: 2 });
    const sampled = evaluateClasses({ ...v, classes, k: 2 }, { maxPairsPerClass: 50000 });
    expect(exact.sampledClasses).toBe(0);
    expect(sampled.sampledClasses).toBe(2);
    expect(sampled.pairs).toBe(exact.pairs);
    expect(Math.abs(sampled.mirror.median - exact.mirror.median)).toBeLessThan(1);
    expect(sampled.mirror.fractionUnder[20]).toBeCloseTo(exact.mirror.fractionUnder[20], 2);
    const again = evaluateClasses({ ...v, classes, k: 2 }, { maxPairsPerClass: 50000 });
    expect(again).toEqual(sampled);
  });

  it('rejects bad input with errors that name the problem', () => {
    const v = simulateViews(2, 2, 1, 12);
    const classes = Int32Array.from([0, 0, 1, 1]);
    expect(() => evaluateClasses({ ...v, classes: [0, 0, 1, 1] as unknown as Int32Array, k: 2 })).toThrow(
      /classes must be an Int32Array/,
    );
    expect(() => evaluateClasses({ ...v, classes, k: 1 })).toThrow(/classes\[2\] = 1 is outside \[0, 1\)/);
    expect(() => evaluateClasses({ ...v, classes, k: 0 })).toThrow(/k must be >= 1/);
    expect(() => evaluateClasses({ ...v, tilt: new Float64Array(3), classes, k: 2 })).toThrow(
      /tilt has 3 values/,
    );
    expect(() => evaluateClasses({ ...v, rot: Float64Array.from([0, NaN, 0, 0]), classes, k: 2 })).toThrow(
      /angles of image 1 are not finite/,
    );
    expect(() => evaluateClasses({ ...v, classes, k: 2 }, { binWidth: 3 })).toThrow(
      /binWidth must be 1 or 2/,
    );
  });
});

describe('AngleAccumulator', () => {
  it('gives the exact median for repeated values and within 0.01° otherwise', () => {
    const acc = new AngleAccumulator(180);
    for (let i = 0; i < 5; i++) acc.add(0, 1);
    expect(acc.stats(1).median).toBe(0);
    const rng = new Rng(13);
    const values = Array.from({ length: 10001 }, () => rng.uniform(0, 180));
    const acc2 = new AngleAccumulator(180);
    for (const x of values) acc2.add(x, 1);
    values.sort((a, b) => a - b);
    expect(Math.abs(acc2.stats(1).median - values[5000])).toBeLessThan(0.01);
    expect(acc2.stats(1).mean).toBeCloseTo(values.reduce((a, x) => a + x, 0) / values.length, 9);
  });
});
