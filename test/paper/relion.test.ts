import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateFiles } from '../../src/eval/evaluate.js';
import { readStar, StarBlock, StarFile, writeStar } from '../../src/io/index.js';
import { phantom } from '../../src/sim/phantom.js';
import { simulate } from '../../src/sim/simulate.js';
import { readRelionResult, relionArgs, runRelion, writeRelionInput } from '../../scripts/lib/relion.js';
import { describeRelion } from '../helpers/relion.js';

const root = mkdtempSync(join(tmpdir(), 'ackmeans-relion-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('relionArgs', () => {
  it('asks for a 2D classification with the given classes, mask and CTF handling', () => {
    const args = relionArgs('in.star', 'out/run', { k: 20, diameter: 150, phaseFlipped: true, iter: 7 });
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(value('--i')).toBe('in.star');
    expect(value('--o')).toBe('out/run');
    expect(value('--K')).toBe('20');
    expect(value('--iter')).toBe('7');
    expect(value('--particle_diameter')).toBe('150');
    expect(value('--j')).toBe('2');
    expect(args).toContain('--ctf');
    expect(args).toContain('--ctf_phase_flipped');
    expect(args).not.toContain('--sym'); // 2D: no 3D options
    const plain = relionArgs('in.star', 'o/run', { k: 3, diameter: 100, ctf: false });
    expect(plain).not.toContain('--ctf');
    expect(plain).not.toContain('--ctf_phase_flipped');
  });

  it('rejects impossible settings, naming them', () => {
    expect(() => relionArgs('a', 'b', { k: 0, diameter: 100 })).toThrow(/k/);
    expect(() => relionArgs('a', 'b', { k: 2, diameter: -1 })).toThrow(/diameter/);
    expect(() => relionArgs('a', 'b', { k: 2, diameter: 100, iter: 1.5 })).toThrow(/iter/);
  });
});

describe('writeRelionInput', () => {
  it('drops the poses, origins and non-RELION columns and keeps the rest', async () => {
    const dir = join(root, 'input');
    mkdirSync(dir);
    const particles = StarBlock.fromColumns('particles', {
      rlnImageName: ['000001@s.mrcs', '000002@s.mrcs'],
      rlnAngleRot: [10, 20],
      rlnAngleTilt: [30, 40],
      rlnAnglePsi: [1, 2],
      rlnOriginXAngst: [0.5, 0],
      rlnOriginYAngst: [0, 0.5],
      rlnDefocusU: [10000, 12000],
      rlnOpticsGroup: [1, 1],
      ackmeansViewId: [1, 2],
    });
    const optics = StarBlock.fromColumns('optics', { rlnOpticsGroup: [1], rlnImagePixelSize: [3] });
    await writeStar(join(dir, 'truth.star'), new StarFile([optics, particles]));
    await writeRelionInput(join(dir, 'truth.star'), join(dir, 'relion_in.star'));
    const out = await readStar(join(dir, 'relion_in.star'));
    expect(out.block('optics')!.columns).toEqual(['rlnOpticsGroup', 'rlnImagePixelSize']);
    const p = out.block('particles')!;
    expect(p.columns).toEqual(['rlnImageName', 'rlnDefocusU', 'rlnOpticsGroup']);
    expect(p.strings('rlnImageName')).toEqual(['000001@s.mrcs', '000002@s.mrcs']);
    await expect(writeRelionInput(join(dir, 'truth.star'), join(root, 'elsewhere.star'))).rejects.toThrow(
      /beside/,
    );
  });
});

/** A fake RELION output folder: model and data files of iterations 0..last. */
async function fakeRun(dir: string, last: number, distribution: number[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let it = 0; it <= last; it++) {
    const tag = String(it).padStart(3, '0');
    const general = StarBlock.fromColumns(
      'model_general',
      { rlnNrClasses: [distribution.length] },
      { loop: false },
    );
    const classes = StarBlock.fromColumns('model_classes', {
      rlnReferenceImage: distribution.map(
        (_, j) => `${String(j + 1).padStart(6, '0')}@run_it${tag}_classes.mrcs`,
      ),
      rlnClassDistribution: distribution,
    });
    const model = join(dir, `run_it${tag}_model.star`);
    await writeStar(model, new StarFile([general, classes]));
    utimesSync(model, 1000 + 10 * it, 1000 + 10 * it); // 10 s per iteration
    const data = StarBlock.fromColumns('particles', {
      rlnImageName: ['000001@s.mrcs', '000002@s.mrcs', '000003@s.mrcs'],
      rlnClassNumber: [1, 1, 2],
    });
    await writeStar(join(dir, `run_it${tag}_data.star`), new StarFile([data]));
  }
}

describe('readRelionResult', () => {
  it('reads the last iteration, its class distribution and the time per iteration', async () => {
    const dir = join(root, 'fake');
    await fakeRun(dir, 3, [0.25, 0.75]);
    const r = await readRelionResult(join(dir, 'run'));
    expect(r.iteration).toBe(3);
    expect(r.dataStar).toBe(join(dir, 'run_it003_data.star'));
    expect(r.modelStar).toBe(join(dir, 'run_it003_model.star'));
    expect(Array.from(r.classDistribution)).toEqual([0.25, 0.75]);
    expect(r.iterationSeconds).toEqual([10, 10, 10]);
  });

  it('fails with ERR_RELION_OUTPUT when no iteration finished', async () => {
    const dir = join(root, 'unfinished');
    await fakeRun(dir, 0, [1]);
    await expect(readRelionResult(join(dir, 'run'))).rejects.toMatchObject({ code: 'ERR_RELION_OUTPUT' });
  });
});

describeRelion('runRelion (a tiny real 2D classification)', () => {
  it('classifies a simulated set; its classes are read back and evaluated against the truth', async () => {
    const dir = join(root, 'real');
    const size = 32;
    const sim = await simulate(
      { map: { volume: phantom(size), size, pixelSize: 6 }, n: 40, views: 2, snr: 1, seed: 3, threads: 2 },
      dir,
    );
    const input = join(dir, 'relion_in.star');
    await writeRelionInput(sim.star, input);
    const run = await runRelion(input, join(dir, 'relion', 'run'), {
      k: 2,
      iter: 1,
      diameter: 150,
      threads: 2,
    });
    expect(run.iteration).toBe(1);
    expect(run.command).toMatch(/^relion_refine .*--K 2/);
    expect(run.seconds).toBeGreaterThan(0);
    expect(run.classDistribution.length).toBe(2);
    const sum = run.classDistribution.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 3);
    const e = await evaluateFiles(sim.star, run.dataStar, { classes: 2 });
    expect(e.n).toBe(40);
    expect(e.sizes.reduce((a, b) => a + b, 0)).toBe(40);
  }, 600_000);
});
