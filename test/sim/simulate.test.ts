import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyCtf, phaseFlip } from '../../src/ctf.js';
import { readMrc, readStar, writeMrc } from '../../src/io/index.js';
import { phantom } from '../../src/sim/phantom.js';
import { project } from '../../src/sim/project.js';
import { simulate, type SimulateOptions } from '../../src/sim/simulate.js';
import { meanImageVariance } from '../../src/sim/noise.js';

const root = mkdtempSync(join(tmpdir(), 'ackmeans-sim-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => join(root, `run${dirs++}`);

const size = 24;
const base: SimulateOptions = {
  map: { volume: phantom(size), size, pixelSize: 4 },
  n: 60,
  views: 6,
  spreadDeg: 8,
  snr: 0.5,
  defocus: [8000, 20000],
  astigmatism: 500,
  maxShiftPx: 2,
  seed: 11,
};

async function particles(star: string) {
  const file = await readStar(star);
  const block = file.block('particles');
  if (!block) throw new Error('no particles block');
  const col = (name: string) => {
    const c = block.numeric(name);
    if (!c) throw new Error(`no ${name}`);
    return c;
  };
  return { file, block, col };
}

/** The noiseless images re-made from the STAR file's own values. */
async function remake(star: string, flip: boolean): Promise<Float32Array> {
  const { col } = await particles(star);
  const proj = await project(
    phantom(size),
    size,
    { rot: col('rlnAngleRot'), tilt: col('rlnAngleTilt'), psi: col('rlnAnglePsi') },
    { pixelSize: 4, originXAngst: col('rlnOriginXAngst'), originYAngst: col('rlnOriginYAngst') },
  );
  const ctf = {
    defocusU: col('rlnDefocusU'),
    defocusV: col('rlnDefocusV'),
    defocusAngle: col('rlnDefocusAngle'),
    voltage: 300,
    cs: 2.7,
    amplitudeContrast: 0.1,
  };
  const modulated = await applyCtf(proj, size, 4, ctf);
  return flip ? phaseFlip(modulated, size, 4, ctf) : modulated;
}

describe('simulate', () => {
  it('writes a RELION 3.1 particle set whose images are the projections its STAR file describes', async () => {
    const out = fresh();
    const res = await simulate({ ...base, snr: Infinity }, out);
    expect(res).toMatchObject({ n: 60, box: size, pixelSize: 4, noiseSigma: 0 });
    const { file, block } = await particles(res.star);
    const optics = file.block('optics');
    expect(optics?.numeric('rlnImagePixelSize')?.[0]).toBe(4);
    expect(optics?.numeric('rlnImageSize')?.[0]).toBe(size);
    for (const c of [
      'rlnImageDimensionality',
      'rlnVoltage',
      'rlnSphericalAberration',
      'rlnAmplitudeContrast',
    ])
      expect(optics?.has(c)).toBe(true);
    expect(block.rowCount).toBe(60);
    // named as RELION does, resolvable from the current folder (absolute: the temp folder is outside it)
    expect(block.strings('rlnImageName')?.slice(0, 2)).toEqual([
      `000001@${res.stack}`,
      `000002@${res.stack}`,
    ]);
    for (const c of ['rlnPhaseShift', 'rlnOpticsGroup', 'rlnDefocusAngle']) expect(block.has(c)).toBe(true);
    const views = block.numeric('ackmeansViewId');
    expect(views && [...new Set(views)]).toEqual([1, 2, 3, 4, 5, 6]);
    const text = readFileSync(res.star, 'utf8');
    expect(text.startsWith('# version 30001\n\ndata_optics')).toBe(true);
    const stack = await readMrc(res.stack);
    expect([stack.nx, stack.ny, stack.nz, stack.pixelSize]).toEqual([size, size, 60, 4]);
    const want = await remake(res.star, false);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      scale = Math.max(scale, Math.abs(want[i]));
      worst = Math.max(worst, Math.abs(stack.data[i] - want[i]));
    }
    expect(worst / scale).toBeLessThan(1e-4);
  });

  it('adds noise of variance S/snr, S the mean whole-box variance of the CTF-modulated projections', async () => {
    const clean = await simulate({ ...base, snr: Infinity }, fresh());
    const noisy = await simulate({ ...base, snr: 0.5 }, fresh());
    const a = (await readMrc(clean.stack)).data;
    const b = (await readMrc(noisy.stack)).data;
    expect(noisy.signalVariance).toBeCloseTo(meanImageVariance(a, size * size), 6);
    expect(noisy.noiseSigma).toBeCloseTo(Math.sqrt(noisy.signalVariance / 0.5), 9);
    let s2 = 0;
    for (let i = 0; i < a.length; i++) s2 += (b[i] - a[i]) ** 2;
    const realisedSnr = noisy.signalVariance / (s2 / a.length);
    expect(Math.abs(realisedSnr / 0.5 - 1)).toBeLessThan(0.03);
  });

  it('phase-flips with the true CTFs when asked', async () => {
    const res = await simulate({ ...base, snr: Infinity, phaseFlip: true }, fresh());
    const got = (await readMrc(res.stack)).data;
    const want = await remake(res.star, true);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      scale = Math.max(scale, Math.abs(want[i]));
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
    }
    expect(worst / scale).toBeLessThan(1e-4);
  });

  it('gives byte-identical files for the same seed, whatever the thread count', async () => {
    const a = await simulate({ ...base, threads: 1 }, fresh());
    const b = await simulate({ ...base, threads: 2 }, fresh());
    const c = await simulate({ ...base, seed: 12 }, fresh());
    expect(readFileSync(a.stack).equals(readFileSync(b.stack))).toBe(true);
    // the STAR files differ only in the folder they name the stack in
    const named = (r: { star: string; stack: string }) =>
      readFileSync(r.star, 'utf8').replaceAll(dirname(r.stack), 'DIR');
    expect(named(a)).toBe(named(b));
    expect(readFileSync(a.stack).equals(readFileSync(c.stack))).toBe(false);
  });

  it('reads a map file, taking the pixel size from it or from the options', async () => {
    const dir = fresh();
    const mapFile = join(root, 'map.mrc');
    await writeMrc(mapFile, phantom(16), { nx: 16, ny: 16, nz: 16, pixelSize: 2.5 });
    const res = await simulate({ map: mapFile, n: 4, views: 2, seed: 1 }, dir);
    expect(res.pixelSize).toBeCloseTo(2.5, 5);
    expect(res.box).toBe(16);
    const given = await simulate({ map: mapFile, n: 4, views: 2, pixelSize: 3, box: 20 }, fresh());
    expect([given.pixelSize, given.box]).toEqual([3, 20]);
  });

  it('rejects bad input clearly', async () => {
    const flat = join(root, 'flat.mrc');
    await writeMrc(flat, new Float32Array(16 * 16 * 4), { nx: 16, ny: 16, nz: 4, pixelSize: 1 });
    await expect(simulate({ map: flat }, fresh())).rejects.toMatchObject({ code: 'ERR_SIM_MAP', file: flat });
    const noPixel = join(root, 'nopixel.mrc');
    await writeMrc(noPixel, phantom(16), { nx: 16, ny: 16, nz: 16 });
    await expect(simulate({ map: noPixel }, fresh())).rejects.toMatchObject({ code: 'ERR_SIM_PIXEL_SIZE' });
    await expect(simulate({ map: join(root, 'missing.mrc') }, fresh())).rejects.toMatchObject({
      code: 'ERR_FILE_NOT_FOUND',
    });
    await expect(simulate({ ...base, n: 0 }, fresh())).rejects.toThrow(/n must be/);
    await expect(simulate({ ...base, snr: 0 }, fresh())).rejects.toThrow(/snr/);
    await expect(simulate({ ...base, defocus: [20000, 10000] }, fresh())).rejects.toThrow(/defocus max/);
    await expect(simulate({ ...base, views: 100 }, fresh())).rejects.toThrow(/views/);
    await expect(simulate({ ...base, amplitudeContrast: 1 }, fresh())).rejects.toThrow(/amplitudeContrast/);
    await expect(simulate(base, '')).rejects.toThrow(/outDir/);
  });
});
