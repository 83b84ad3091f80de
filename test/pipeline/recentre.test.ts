import { describe, expect, it } from 'vitest';
import { ctfCorrectedAverages, type ImageParameters } from '../../src/align/average.js';
import { recentredPoses } from '../../src/pipeline/averages.js';
import { centreOffset } from '../../src/pipeline/class-score.js';
import { Rng } from '../../src/random.js';

const BOX = 48;
const C = BOX / 2;
const RADIUS = 18;
const N = 24;
/** Where the class's density sits in the aligned frame: off centre by D. */
const D = [6, -4];

/** The off-centre template: an asymmetric pair of Gaussian blobs about c + D. */
function template(x: number, y: number): number {
  const u = x - C - D[0];
  const v = y - C - D[1];
  return Math.exp(-(u * u + v * v) / 18) + 0.6 * Math.exp(-((u - 4) ** 2 + (v + 1) ** 2) / 6);
}

/**
 * Raw images whose alignment with random poses (ψ, mirror, shift) gives the template: with
 * aligned(p) = x(c + M·(p − c) − s), M = R(−ψ)·F^mirror, x(q) = T(c + M⁻¹·(q + s − c)) and
 * M⁻¹ = F^mirror·R(ψ).
 */
function rawClass() {
  const rng = new Rng(5);
  const psi = new Float32Array(N);
  const shiftX = new Float32Array(N);
  const shiftY = new Float32Array(N);
  const mirror = new Uint8Array(N);
  const images = new Float32Array(N * BOX * BOX);
  for (let i = 0; i < N; i++) {
    psi[i] = rng.uniform(0, 360);
    mirror[i] = i % 2;
    shiftX[i] = rng.uniform(-3, 3);
    shiftY[i] = rng.uniform(-3, 3);
    const t = (psi[i] * Math.PI) / 180;
    for (let y = 0; y < BOX; y++)
      for (let x = 0; x < BOX; x++) {
        const qx = x + shiftX[i] - C;
        const qy = y + shiftY[i] - C;
        // R(ψ)·q, then F^mirror
        const rx = Math.cos(t) * qx - Math.sin(t) * qy;
        const ry = Math.sin(t) * qx + Math.cos(t) * qy;
        images[i * BOX * BOX + y * BOX + x] = template(C + rx, C + (mirror[i] ? -ry : ry));
      }
  }
  return { images, poses: { psi, shiftX, shiftY, mirror, score: new Float32Array(N) } };
}

describe('recentre', () => {
  it("moves an off-centre class average's centre of mass to the box centre through the members' shifts", async () => {
    const { images, poses } = rawClass();
    const assignment = new Int32Array(N);
    const average = (p: ImageParameters) =>
      ctfCorrectedAverages(images, BOX, assignment, 1, p, { pixelSize: 2, correction: 'none' });
    const before = await average(poses);
    const c0 = centreOffset(before.averages, BOX, RADIUS);
    // the members agree: the average is the off-centre template
    // (the second blob pulls the centre of mass by 3.6/21.6 of (4, −1))
    expect(Math.hypot(c0.dx - D[0] - 0.67, c0.dy - D[1] + 0.17)).toBeLessThan(0.5);

    // shifts at a working box of half the size: the offsets scale by 1/2
    const half = recentredPoses(
      before,
      assignment,
      { ...poses, shiftX: poses.shiftX.map((s) => s / 2), shiftY: poses.shiftY.map((s) => s / 2) },
      BOX / 2,
      RADIUS,
    );
    const r = recentredPoses(before, assignment, poses, BOX, RADIUS);
    expect(r.offsets[0]).toBeCloseTo(c0.dx, 10);
    expect(r.offsets[1]).toBeCloseTo(c0.dy, 10);
    for (let i = 0; i < N; i++) expect(half.poses.shiftX[i]).toBeCloseTo(r.poses.shiftX[i] / 2, 4);

    const after = await average(r.poses);
    const c1 = centreOffset(after.averages, BOX, RADIUS);
    expect(Math.hypot(c1.dx, c1.dy)).toBeLessThan(0.3);
    // the same image, moved: its power is kept (nothing blurred by a wrong sign for some members)
    const power = (a: Float32Array) => a.reduce((s, v) => s + v * v, 0);
    expect(power(after.averages) / power(before.averages)).toBeGreaterThan(0.97);
    // ψ, mirror and scores are untouched
    expect(r.poses.psi).toBe(poses.psi);
    expect(r.poses.mirror).toBe(poses.mirror);
  });
});
