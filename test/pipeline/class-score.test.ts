import { describe, expect, it } from 'vitest';
import { ctfCorrectedAverages } from '../../src/align/average.js';
import {
  accepted,
  centreOffset,
  DEFAULT_MIN_SCORE,
  edgeLikeness,
  FEATURES,
  type FeatureName,
  judgeClass,
  scoreClasses,
} from '../../src/pipeline/class-score.js';
import { Rng } from '../../src/random.js';

const BOX = 48;
const RADIUS = 18;
const MEMBERS = 60;
const C = BOX / 2;

/**
 * A particle-like blob centred at (C + dx, C + dy): a Gaussian body (σ 5 px) with three sharp
 * details (σ 1.2 px) 6 px from its centre, all of amplitude 3.
 */
function blob(dx: number, dy: number): Float32Array {
  const out = new Float32Array(BOX * BOX);
  const parts = [
    [0, 0, 5],
    [6, 0, 1.2],
    [-3, 5.2, 1.2],
    [-3, -5.2, 1.2],
  ];
  for (let y = 0; y < BOX; y++)
    for (let x = 0; x < BOX; x++)
      for (const [px, py, s] of parts)
        out[y * BOX + x] += 3 * Math.exp(-((x - C - dx - px) ** 2 + (y - C - dy - py) ** 2) / (2 * s * s));
  return out;
}

/** A smooth step (carbon-edge-like) of height 1.5 across the line x·cos a + y·sin a = 4. */
function edge(a: number): Float32Array {
  const out = new Float32Array(BOX * BOX);
  for (let y = 0; y < BOX; y++)
    for (let x = 0; x < BOX; x++)
      out[y * BOX + x] = 1.5 * Math.tanh(((x - C) * Math.cos(a) + (y - C) * Math.sin(a) - 4) / 2);
  return out;
}

/**
 * Four constructed classes of MEMBERS noisy images each (noise σ 1), already aligned: a centred
 * blob, pure noise, the blob 13 px off centre, an edge; averaged and scored by the production code.
 */
async function constructedClasses() {
  const rng = new Rng(7);
  const D = BOX * BOX;
  const truths = [blob(0, 0), new Float32Array(D), blob(9, 9.2), edge(0.6)];
  const n = truths.length * MEMBERS;
  const images = new Float32Array(n * D);
  const assignment = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = i % truths.length;
    assignment[i] = j;
    for (let p = 0; p < D; p++) images[i * D + p] = truths[j][p] + rng.normal();
  }
  const zero = new Float32Array(n);
  const avg = await ctfCorrectedAverages(
    images,
    BOX,
    assignment,
    truths.length,
    { psi: zero, shiftX: zero, shiftY: zero, mirror: new Uint8Array(n) },
    { pixelSize: 3, correction: 'none' },
  );
  const [clean, noise, offCentre, stripe] = scoreClasses(avg, RADIUS);
  return { clean, noise, offCentre, stripe };
}

describe('class score', () => {
  it('weights sum to 1 and the score is the sum of the contributions', () => {
    const names = Object.keys(FEATURES) as FeatureName[];
    expect(names.reduce((s, f) => s + FEATURES[f].weight, 0)).toBeCloseTo(1, 12);
    const values = { resolution: 8, halves: 0.6, particleSsnr: 0.5, contrast: 30, edge: 0.5, centring: 0.4 };
    const s = judgeClass(values, 100, 1000, 64);
    expect(s.score).toBeCloseTo(
      names.reduce((a, f) => a + s.features[f].contribution, 0),
      12,
    );
    for (const f of names) {
      expect(s.features[f].contribution).toBeCloseTo(s.features[f].weight * s.features[f].goodness, 12);
      expect(s.features[f].goodness).toBeGreaterThanOrEqual(0);
      expect(s.features[f].goodness).toBeLessThanOrEqual(1);
    }
    // too small a class is gated whatever its features
    expect(judgeClass(values, 3, 1000, 64).gated).toContain('size');
  });

  it('edge likeness: 1 for a pure 1-D profile, small for a round blob', () => {
    // a profile along 30° (one of the 36 directions): every band is constant
    const D = BOX * BOX;
    const ramp = new Float32Array(D);
    const t = Math.PI / 6;
    for (let y = 0; y < BOX; y++)
      for (let x = 0; x < BOX; x++)
        ramp[y * BOX + x] = Math.round((x - C) * Math.cos(t) + (y - C) * Math.sin(t)) ** 3;
    expect(edgeLikeness(ramp, BOX)).toBeCloseTo(1, 10);
    expect(edgeLikeness(blob(0, 0), BOX)).toBeLessThan(0.5);
  });

  it('centre of mass of a shifted blob is the shift', () => {
    const { dx, dy } = centreOffset(blob(3, -2), BOX, RADIUS);
    expect(dx).toBeCloseTo(3, 1);
    expect(dy).toBeCloseTo(-2, 1);
  });

  it('a clean centred blob is accepted, noise, an off-centre blob and an edge are not', async () => {
    const { clean, noise, offCentre, stripe } = await constructedClasses();
    // the clean blob: every feature good, no reason to drop it
    expect(clean.score).toBeGreaterThan(0.9);
    expect(clean.reasons).toEqual([]);
    expect(accepted(clean)).toBe(true);

    // pure noise: halves disagree, no signal per particle; gated and below the default
    expect(Math.abs(noise.features.halves.value)).toBeLessThan(0.3);
    expect(noise.features.particleSsnr.value).toBeLessThan(0.2);
    expect(noise.gated).toContain('particleSsnr');
    expect(noise.score).toBeLessThan(DEFAULT_MIN_SCORE);
    expect(accepted(noise)).toBe(false);

    // off centre by 13 px (0.72 radii): penalised on centring, and only there
    expect(offCentre.features.centring.value).toBeGreaterThan(0.55);
    expect(offCentre.features.centring.goodness).toBeLessThan(clean.features.centring.goodness - 0.4);
    expect(offCentre.reasons.some((r) => /off centre/.test(r))).toBe(true);
    expect(offCentre.features.particleSsnr.goodness).toBe(1);
    expect(accepted(offCentre)).toBe(false);

    // an edge: a 1-D profile explains almost all of it
    expect(stripe.features.edge.value).toBeGreaterThan(0.85);
    expect(stripe.gated).toContain('edge');
    expect(stripe.reasons.some((r) => /edge/.test(r))).toBe(true);
    expect(accepted(stripe)).toBe(false);
  });
});
