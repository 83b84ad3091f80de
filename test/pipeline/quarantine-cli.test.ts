import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMrc, readStar, writeMrc, writeStar } from '../../src/io/index.js';
import { runClassification } from '../../src/pipeline/run.js';
import { describeRelion, relion } from '../helpers/relion.js';
import { type SimulatedStack, simulateStack } from './simulate.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'ack-quarantine-'));
let sim: SimulatedStack;
let out: string;

beforeAll(async () => {
  sim = await simulateStack(tmp(), { perView: 6, snr: 5, seed: 9 });
  // poison three particles: a NaN, a constant image, a wild value
  const stack = await readMrc(sim.stack);
  const px = sim.box * sim.box;
  stack.data[3] = NaN;
  stack.data.fill(0.25, px, 2 * px);
  stack.data[5 * px + 17] = 1e9;
  await writeMrc(sim.stack, stack.data, {
    nx: sim.box,
    ny: sim.box,
    nz: stack.header.nz,
    pixelSize: sim.pixelSize,
    stack: true,
  });
  // and two by their metadata: a NaN origin (particle 3), a NaN defocus (particle 8)
  const star = await readStar(sim.star);
  const particles = star.block('particles')!;
  const ox = Float64Array.from(particles.numeric('rlnOriginXAngst')!);
  ox[2] = NaN;
  particles.setColumn('rlnOriginXAngst', ox);
  const defocus = new Float64Array(particles.rowCount).fill(15000);
  defocus[7] = NaN;
  particles.setColumn('rlnDefocusU', defocus);
  await writeStar(sim.star, star);
  out = tmp();
  await runClassification(sim.star, out, { k: 4, maxIter: 4, threads: 2 });
});

describe('quarantine', () => {
  it('lists NaN, constant and out-of-range images and NaN origins/CTFs in report.json and leaves them out of run_data.star', async () => {
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.quarantined).toEqual([
      { index: 0, reason: 'non-finite', particle: 1 },
      { index: 1, reason: 'constant', particle: 2 },
      { index: 2, reason: 'bad-origin', detail: expect.stringContaining('NaN'), particle: 3 },
      { index: 5, reason: 'out-of-range', particle: 6 },
      { index: 7, reason: 'bad-ctf', detail: 'defocusU NaN is not finite', particle: 8 },
    ]);
    const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
    expect(data.rowCount).toBe(sim.view.length - 5);
    const names = data.strings('rlnImageName')!;
    for (const bad of ['000001@', '000002@', '000003@', '000006@', '000008@'])
      expect(names.some((n) => n.startsWith(bad))).toBe(false);
    const averages = await readMrc(join(out, 'run_classes.mrcs'));
    expect(averages.data.every(Number.isFinite)).toBe(true);
  });
});

describeRelion('RELION 3.1 reads the outputs', () => {
  it('relion_star_handler reads run_data.star (custom columns kept) and relion_image_handler the class averages', async () => {
    relion('relion_star_handler', ['--i', join(out, 'run_data.star'), '--o', join(out, 'relion_copy.star')]);
    const copy = (await readStar(join(out, 'relion_copy.star'))).block('particles')!;
    expect(copy.rowCount).toBe(sim.view.length - 5);
    for (const c of ['rlnClassNumber', 'rlnAnglePsi', 'rlnOriginXAngst', 'ackMirror', 'ackScore'])
      expect(copy.has(c), c).toBe(true);
    const stats = relion('relion_image_handler', ['--i', join(out, 'run_classes.mrcs'), '--stats']);
    expect(stats.trim().split('\n').length).toBeGreaterThanOrEqual(4);
  });
});
