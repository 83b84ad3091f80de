import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StarBlock, StarFile, readMrc, writeMrc, writeStar } from '../../src/io/index.js';
import { applyPoses } from '../../src/align/apply.js';
import { applyRelionPose, engineToRelion } from '../../src/pipeline/relion.js';
import { slowApply } from '../align/reference.js';
import { describeRelion, relion } from '../helpers/relion.js';
import { pearson } from '../helpers/stats.js';

const box = 32;

/** An asymmetric test image: an off-centre blob and a bar. */
function pattern(): Float32Array {
  const img = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const blob = Math.exp(-((x - 20) ** 2 + (y - 12) ** 2) / 6);
      const bar = x > 8 && x < 14 && y > 10 && y < 24 ? 1 : 0;
      img[y * box + x] = blob + bar;
    }
  return img;
}

describe('RELION pose convention', () => {
  it('translates before rotating, and mirrors y last', () => {
    const img = pattern();
    const shifted = applyRelionPose(img, box, { psi: 0, originX: 2, originY: -1, mirror: false });
    // content at (x, y) moves to (x + 2, y − 1)
    expect(shifted[(12 - 1) * box + 22]).toBeCloseTo(img[12 * box + 20], 6);
    const rotated = applyRelionPose(img, box, { psi: 90, originX: 0, originY: 0, mirror: false });
    // R(90°) maps (dx, dy) = (4, −4) around the centre (16, 16) to (4, 4)
    expect(rotated[20 * box + 20]).toBeCloseTo(img[12 * box + 20], 5);
    const mirrored = applyRelionPose(img, box, { psi: 30, originX: 1, originY: 2, mirror: true });
    const plain = applyRelionPose(img, box, { psi: 30, originX: 1, originY: 2, mirror: false });
    for (let y = 1; y < box; y++)
      for (let x = 0; x < box; x++) expect(mirrored[y * box + x]).toBe(plain[(box - y) * box + x]);
  });

  it('converts engine shifts (working pixels) to Å and adds the input origin', () => {
    expect(engineToRelion({ psi: 12, shiftX: 1.5, shiftY: -2, mirror: true }, 4, { x: 3, y: 1 })).toEqual({
      psi: 12,
      originXAngst: 9,
      originYAngst: -7,
      mirror: true,
    });
  });
});

describeRelion('RELION 3.1 applies our poses as we do', () => {
  it('relion_stack_create --apply_transformation reproduces applyRelionPose', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ack-relion-'));
    const img = pattern();
    await writeMrc(join(dir, 'in.mrcs'), img, { nx: box, ny: box, nz: 1, pixelSize: 1.5, stack: true });
    const optics = StarBlock.fromColumns('optics', {
      rlnOpticsGroup: [1],
      rlnOpticsGroupName: ['g1'],
      rlnImagePixelSize: [1.5],
      rlnImageSize: [box],
      rlnImageDimensionality: [2],
      rlnVoltage: [300],
      rlnSphericalAberration: [2.7],
      rlnAmplitudeContrast: [0.1],
    });
    const pose = { psi: 30, originX: 3, originY: -2, mirror: false };
    const particles = StarBlock.fromColumns('particles', {
      rlnImageName: [`000001@${join(dir, 'in.mrcs')}`],
      rlnOpticsGroup: [1],
      rlnAnglePsi: [pose.psi],
      rlnOriginXAngst: [pose.originX * 1.5],
      rlnOriginYAngst: [pose.originY * 1.5],
    });
    optics.version = particles.version = '# version 30001';
    await writeStar(join(dir, 'in.star'), new StarFile([optics, particles]));
    relion('relion_stack_create', [
      '--i',
      join(dir, 'in.star'),
      '--o',
      join(dir, 'out'),
      '--apply_transformation',
    ]);
    const theirs = (await readMrc(join(dir, 'out.mrcs'))).data;
    expect(pearson(theirs, applyRelionPose(img, box, pose))).toBeGreaterThan(0.999);
    // and the opposite rotation sense does not match
    expect(pearson(theirs, applyRelionPose(img, box, { ...pose, psi: -30 }))).toBeLessThan(0.9);
  });
});

describe('applyPoses (the batched pose application of the pipelines)', () => {
  it('equals the RELION convention written out, image by image', async () => {
    const img = pattern();
    const poses = {
      psi: Float32Array.of(0, 33.3, 271.5),
      shiftX: Float32Array.of(0, 1.5, -2),
      shiftY: Float32Array.of(0, -1, 0.25),
      mirror: Uint8Array.of(0, 1, 0),
      score: new Float32Array(3),
    };
    const stack = new Float32Array(3 * box * box);
    for (let i = 0; i < 3; i++) stack.set(img, i * box * box);
    const out = await applyPoses(stack, box, poses);
    for (let i = 0; i < 3; i++) {
      const ref = slowApply(img, box, {
        psi: poses.psi[i],
        shiftX: poses.shiftX[i],
        shiftY: poses.shiftY[i],
        mirror: poses.mirror[i] === 1,
      });
      for (let p = 0; p < box * box; p++) expect(out[i * box * box + p]).toBeCloseTo(ref[p], 5);
    }
  });
});
