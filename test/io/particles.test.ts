import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, openParticles, parseStar, writeMrc, writeSpider } from '../../src/io/index.js';
import { splitImageNames } from '../../src/io/particles-star.js';
import { Rng } from '../../src/random.js';
import { tempDir } from './fixtures.js';

const dir = tempDir();
const box = 8;
const px = box * box;
const rng = new Rng(5);
const a = Float32Array.from({ length: 5 * px }, () => rng.normal());
const b = Float32Array.from({ length: 3 * px }, () => rng.normal());
const image = (stack: Float32Array, n1: number) => stack.subarray((n1 - 1) * px, n1 * px);

const OPTICS = `data_optics
loop_
_rlnOpticsGroup
_rlnImagePixelSize
_rlnVoltage
_rlnSphericalAberration
_rlnAmplitudeContrast
_rlnImageSize
1 1.5 300 2.7 0.1 ${box}
2 1.5 200 2.0 0.07 ${box}
`;

function star(rows: string[], optics = OPTICS): string {
  return `${optics}
data_particles
loop_
_rlnImageName
_rlnOpticsGroup
_rlnDefocusU
_rlnDefocusV
_rlnDefocusAngle
_rlnAngleRot
_rlnOriginXAngst
_rlnOriginYAngst
_rlnClassNumber
_myExtra
${rows.map((r, k) => `${r} ${(k % 2) + 1} ${10000 + k} ${11000 + k} ${k * 10} ${k} ${k * 0.5} ${-k} ${k + 1} keep${k}`).join('\n')}
`;
}

function writeStarFile(name: string, rows: string[], optics?: string): string {
  const path = join(dir, name);
  writeFileSync(path, star(rows, optics));
  return path;
}

beforeAll(async () => {
  mkdirSync(join(dir, 'stacks'), { recursive: true });
  await writeMrc(join(dir, 'stacks', 'a.mrcs'), a, { nx: box, ny: box, nz: 5, pixelSize: 1 });
  await writeMrc(join(dir, 'stacks', 'b.mrcs'), b, { nx: box, ny: box, nz: 3 });
});

describe('openParticles from STAR', () => {
  const order = [
    '2@stacks/a.mrcs',
    '000003@stacks/a.mrcs',
    '1@stacks/b.mrcs',
    '4@stacks/a.mrcs',
    '5@stacks/a.mrcs',
    '3@stacks/b.mrcs',
  ];
  const expected = [image(a, 2), image(a, 3), image(b, 1), image(a, 4), image(a, 5), image(b, 3)];

  it('gives metadata per particle (optics groups resolved) and images across stacks in particle order', async () => {
    const set = await openParticles(writeStarFile('p.star', order));
    try {
      expect([set.format, set.count, set.box, set.pixelSize]).toEqual(['star', 6, box, 1.5]); // STAR wins over header (1)
      expect(set.stacks.map((s) => s.split('/').pop())).toEqual(['a.mrcs', 'b.mrcs']);
      expect(Array.from(set.opticsGroup!)).toEqual([1, 2, 1, 2, 1, 2]);
      expect(Array.from(set.ctf!.voltage)).toEqual([300, 200, 300, 200, 300, 200]);
      expect(Array.from(set.ctf!.cs)).toEqual([2.7, 2, 2.7, 2, 2.7, 2]);
      expect(Array.from(set.ctf!.amplitudeContrast)).toEqual([0.1, 0.07, 0.1, 0.07, 0.1, 0.07]);
      expect(Array.from(set.ctf!.defocusV)).toEqual([11000, 11001, 11002, 11003, 11004, 11005]);
      expect(Array.from(set.ctf!.phaseShift)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(Array.from(set.poses!.rot!)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(Array.from(set.poses!.originYAngst!)).toEqual([0, -1, -2, -3, -4, -5]);
      expect(Array.from(set.poses!.classNumber!)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(set.star!.particlesBlock).toBe('particles');
      expect(set.star!.file.block('particles')!.strings('myExtra')![5]).toBe('keep5');
      const all = await set.readBatch(0, 6);
      expected.forEach((img, k) => expect(all.subarray(k * px, (k + 1) * px)).toEqual(img));
      const out = new Float32Array(4 * px);
      await set.readBatch(2, 3, out);
      expect(out.subarray(0, px)).toEqual(image(b, 1));
      expect(out.subarray(2 * px, 3 * px)).toEqual(image(a, 5));
      await expect(set.readBatch(5, 2)).rejects.toThrow(RangeError);
    } finally {
      await set.close();
    }
  });

  it('RELION 3.0 (no optics block): pixel size = DetectorPixelSize·10⁴ / Magnification; origins in px become Å', async () => {
    const path = join(dir, 'r30.star');
    writeFileSync(
      path,
      `data_\nloop_\n_rlnImageName\n_rlnDetectorPixelSize\n_rlnMagnification\n_rlnOriginX\n_rlnOriginY\n1@stacks/b.mrcs 5 25000 2 -1\n2@stacks/b.mrcs 5 25000 0 4\n`,
    );
    const set = await openParticles(path);
    expect(set.pixelSize).toBe(2);
    expect(set.ctf).toBeUndefined();
    expect(Array.from(set.poses!.originXAngst!)).toEqual([4, 0]);
    expect(Array.from(set.poses!.originYAngst!)).toEqual([-2, 8]);
    expect(await set.readBatch(1, 1)).toEqual(image(b, 2));
    await set.close();
  });

  it('lists every missing stack, by name, before reading anything', async () => {
    const path = writeStarFile('missing.star', [
      '1@stacks/a.mrcs',
      '1@gone/one.mrcs',
      '2@gone/two.mrcs',
      '3@gone/one.mrcs',
    ]);
    const err = await openParticles(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect(err).toMatchObject({ code: 'ERR_MISSING_STACKS', file: path });
    expect((err as Error).message).toMatch(
      /missing\.star: 2 referenced stack files are missing .*: gone\/one\.mrcs, gone\/two\.mrcs$/,
    );
  });

  it('remap points a broken reference (by path or base name) at the real file', async () => {
    const path = writeStarFile('remap.star', ['1@./old/batch.mrc', '3@./old/batch.mrc']);
    const set = await openParticles(path, { remap: { 'batch.mrc': join(dir, 'stacks', 'b.mrcs') } });
    expect(await set.readBatch(0, 2)).toEqual(Float32Array.from([...image(b, 1), ...image(b, 3)]));
    await set.close();
    const again = await openParticles(path, { remap: { './old/batch.mrc': join(dir, 'stacks', 'a.mrcs') } });
    expect(await again.readBatch(1, 1)).toEqual(image(a, 3));
    await again.close();
  });

  it('an image past the end of its stack → ERR_INDEX_RANGE naming the particle and stack', async () => {
    const path = writeStarFile('range.star', ['1@stacks/a.mrcs', '4@stacks/b.mrcs']);
    await expect(openParticles(path)).rejects.toMatchObject({
      code: 'ERR_INDEX_RANGE',
      message: /particle 2 → image 4 of b\.mrcs \(3 images\)/,
    });
  });

  it('mixed pixel sizes are an error unless permissive; a box disagreeing with the metadata is an error', async () => {
    const optics = OPTICS.replace('2 1.5 200', '2 1.7 200');
    const path = writeStarFile('mixed.star', ['1@stacks/a.mrcs', '2@stacks/a.mrcs'], optics);
    await expect(openParticles(path)).rejects.toMatchObject({ code: 'ERR_PIXEL_SIZE_MIXED' });
    const set = await openParticles(path, { permissive: true });
    expect(set.pixelSize).toBe(1.5);
    expect(set.warnings.join()).toMatch(/different pixel sizes/);
    await set.close();
    const wrongBox = writeStarFile('box.star', ['1@stacks/a.mrcs'], OPTICS.replaceAll(` ${box}\n`, ' 16\n'));
    await expect(openParticles(wrongBox)).rejects.toMatchObject({ code: 'ERR_BOX_MISMATCH' });
  });

  it('malformed image names → ERR_STAR_IMAGE_NAME; no image column → ERR_STAR_NO_PARTICLES', async () => {
    await expect(openParticles(writeStarFile('name.star', ['stacks/a.mrcs']))).rejects.toMatchObject({
      code: 'ERR_STAR_IMAGE_NAME',
    });
    const path = join(dir, 'none.star');
    writeFileSync(path, 'data_x\nloop_\n_rlnDefocusU\n1\n');
    await expect(openParticles(path)).rejects.toMatchObject({ code: 'ERR_STAR_NO_PARTICLES' });
  });
});

describe('splitImageNames', () => {
  const names = [
    '000003@b.mrcs',
    '1@a.mrcs',
    '0000000002@a.mrcs', // 10 digits: read through the general path
    '2@@a.mrcs',
    '"5@b c.mrcs"',
    '000001@b.mrcs',
  ];
  const parsed = (cells: string[]) =>
    parseStar(`data_p\nloop_\n_rlnImageName\n${cells.join('\n')}\n`, 'p.star').block('p')!;

  it('splits a compact column read from a file exactly as the same names as strings', () => {
    const block = parsed(names);
    const fromText = splitImageNames(block.textColumn('rlnImageName')!, 'p.star');
    expect(fromText).toEqual(splitImageNames(block.strings('rlnImageName')!, 'p.star'));
    expect(fromText.references).toEqual(['b.mrcs', 'a.mrcs', '@a.mrcs', 'b c.mrcs']);
    expect(Array.from(fromText.imageIndex)).toEqual([2, 0, 1, 1, 4, 0]);
    expect(Array.from(fromText.stackIndex)).toEqual([0, 1, 1, 2, 3, 0]);
  });

  it('gives the same errors for a compact column', () => {
    for (const [bad, code] of [
      ['0@a.mrcs', 'ERR_STAR_IMAGE_NAME'],
      ['000@a.mrcs', 'ERR_STAR_IMAGE_NAME'],
      ['x@a.mrcs', 'ERR_STAR_IMAGE_NAME'],
      ['4294967297@a.mrcs', 'ERR_INDEX_RANGE'],
    ]) {
      const column = parsed(['1@a.mrcs', bad]).textColumn('rlnImageName')!;
      expect(() => splitImageNames(column, 'p.star')).toThrow(
        expect.objectContaining({ code, message: expect.stringContaining(`row 2: _rlnImageName "${bad}"`) }),
      );
    }
  });
});

describe('openParticles from bare stacks', () => {
  it('an MRC stack: every image, header pixel size', async () => {
    const set = await openParticles(join(dir, 'stacks', 'a.mrcs'));
    expect([set.format, set.count, set.box, set.pixelSize, set.ctf]).toEqual(['mrc', 5, box, 1, undefined]);
    expect(await set.readBatch(0, 5)).toEqual(a);
    await set.close();
  });

  it('a SPIDER stack', async () => {
    await writeSpider(join(dir, 'stacks', 'c.stk'), b, { nx: box, ny: box, stack: true });
    const set = await openParticles(join(dir, 'stacks', 'c.stk'));
    expect([set.format, set.count]).toEqual(['spider', 3]);
    expect(await set.readBatch(1, 2)).toEqual(b.subarray(px));
    await set.close();
  });
});
