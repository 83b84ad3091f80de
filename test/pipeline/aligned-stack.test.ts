import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StarBlock, StarFile, readMrc, writeMrc, writeStar } from '../../src/io/index.js';
import { writeAlignedStack } from '../../src/pipeline/aligned-stack.js';
import { applyRelionPose } from '../../src/pipeline/relion.js';

const box = 32;
const px = 2;

/** An asymmetric image: an off-centre blob and a bar (a mirror of it is a different image). */
function pattern(k: number): Float32Array {
  const img = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const blob = Math.exp(-((x - 20 - k) ** 2 + (y - 12) ** 2) / 6);
      img[y * box + x] = blob + (x > 8 && x < 14 && y > 10 && y < 24 ? 1 : 0);
    }
  return img;
}

describe('ackmeans stack (aligned particles)', () => {
  it('applies ψ, the origins and the mirror of every row, as the RELION convention says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ack-aligned-'));
    const poses = [
      { psi: 0, originX: 0, originY: 0, mirror: false },
      { psi: 37, originX: 1.5, originY: -2, mirror: false },
      { psi: -120, originX: -3, originY: 0.5, mirror: true },
      { psi: 200, originX: 0, originY: 2, mirror: true },
    ];
    const raw = new Float32Array(poses.length * box * box);
    poses.forEach((_, i) => raw.set(pattern(i), i * box * box));
    await writeMrc(join(dir, 'raw.mrcs'), raw, { nx: box, ny: box, nz: poses.length, pixelSize: px });
    const optics = StarBlock.fromColumns('optics', {
      rlnOpticsGroup: [1],
      rlnImagePixelSize: [px],
      rlnImageSize: [box],
    });
    const particles = StarBlock.fromColumns('particles', {
      rlnImageName: poses.map((_, i) => `${i + 1}@raw.mrcs`),
      rlnOpticsGroup: poses.map(() => 1),
      rlnAnglePsi: poses.map((p) => p.psi),
      rlnOriginXAngst: poses.map((p) => p.originX * px),
      rlnOriginYAngst: poses.map((p) => p.originY * px),
      ackMirror: poses.map((p) => (p.mirror ? 1 : 0)),
    });
    await writeStar(join(dir, 'run_data.star'), new StarFile([optics, particles]));
    const out = join(dir, 'aligned.mrcs');
    expect(await writeAlignedStack(join(dir, 'run_data.star'), out, { batch: 3 })).toBe(poses.length);
    const aligned = await readMrc(out);
    expect([aligned.nx, aligned.nz, aligned.pixelSize]).toEqual([box, poses.length, px]);
    expect(aligned.header.labels[0]).toMatch(/aligned particles of run_data\.star/);
    poses.forEach((pose, i) => {
      const want = applyRelionPose(pattern(i), box, pose);
      const got = aligned.data.subarray(i * box * box, (i + 1) * box * box);
      let worst = 0;
      for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(got[j] - want[j]));
      expect(worst, `row ${i + 1}`).toBeLessThan(1e-4);
    });
  });

  it('refuses a STAR file without poses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ack-aligned-'));
    await writeMrc(join(dir, 'raw.mrcs'), pattern(0), { nx: box, ny: box, nz: 1 });
    await writeStar(
      join(dir, 'p.star'),
      new StarFile([StarBlock.fromColumns('particles', { rlnImageName: ['1@raw.mrcs'] })]),
    );
    await expect(writeAlignedStack(join(dir, 'p.star'), join(dir, 'a.mrcs'))).rejects.toMatchObject({
      code: 'ERR_NO_POSES',
    });
  });
});
