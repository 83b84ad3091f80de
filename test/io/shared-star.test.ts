/**
 * Every STAR file and particle set in ../shared/data, checked against facts from the data
 * README and from the files themselves (block names, rows and columns counted by grep).
 */
import { expect, it } from 'vitest';
import { formatStar, openParticles, parseStar, readCs, readMrc, readStar } from '../../src/io/index.js';
import { csMetadata } from '../../src/io/particles-cs.js';
import { describeShared, sharedFile } from '../helpers/shared.js';
import { expectSameFloats } from './fixtures.js';

// file, [block, rows, columns] per block
const STARS: [string, [string, number, number][]][] = [
  [
    'particles/empiar10028-sample/sample_particles_relion31.star',
    [
      ['optics', 2, 8],
      ['particles', 17, 26],
    ],
  ],
  ['particles/empiar10028-sample/sample_relion_data.star', [['model_class_1', 17, 29]]],
  ['particles/empiar10028-sample/metadata_only_3796rows.star', [['', 3796, 29]]],
  ['particles/empiar10076-7/empiar_10076_7.star', [['', 7, 10]]],
  [
    'particles/relion31/relion31.star',
    [
      ['optics', 1, 9],
      ['particles', 5, 26],
    ],
  ],
  [
    'particles/relion31/relion31.6opticsgroups.star',
    [
      ['optics', 6, 18],
      ['particles', 139, 23],
    ],
  ],
  [
    'particles/trpv1-empiar10059/trpv1_small_stack.star',
    [
      ['optics', 1, 8],
      ['particles', 10, 14],
    ],
  ],
  ['projections/toy/toy_projections.star', [['images', 1000, 9]]],
  ['projections/ribosome70s-relion/rln_proj_65.star', [['particles', 5, 7]]],
  [
    'projections/ribosome70s-relion/rln_proj_65_centered.star',
    [
      ['optics', 1, 7],
      ['particles', 4, 9],
    ],
  ],
  [
    'projections/ribosome70s-relion/rln_proj_65_shifted.star',
    [
      ['optics', 1, 7],
      ['particles', 4, 7],
    ],
  ],
];

describeShared('shared data: STAR files', () => {
  for (const [file, blocks] of STARS)
    it(`${file}: blocks, rows, columns; every value survives a write/read round trip`, async () => {
      const star = await readStar(sharedFile(file));
      expect(star.blocks.map((b) => [b.name, b.rowCount, b.columns.length])).toEqual(blocks);
      const again = parseStar(formatStar(star), 'again.star');
      for (const b of star.blocks)
        for (const c of b.columns) expect(again.block(b.name)!.strings(c)).toEqual(b.strings(c));
    });

  it('typed columns: numbers as Float64Array, names as strings, Zernike lists kept as text', async () => {
    const star = await readStar(sharedFile('particles/relion31/relion31.6opticsgroups.star'));
    const optics = star.block('optics')!;
    expect(Array.from(optics.numeric('rlnImagePixelSize')!)).toEqual([1.25, 1.24, 1.25, 1.25, 1.24, 1.25]);
    expect(optics.strings('rlnOpticsGroupName')![0]).toBe('opticsGroup5');
    expect(optics.numeric('rlnOddZernike')).toBeUndefined();
    expect(optics.strings('rlnOddZernike')![0]).toMatch(/^\[1\.70554063513,1\.2131261042,/);
  });
});

describeShared('shared data: particle sets', () => {
  const first = async (path: string) => (await readMrc(path)).data[0];

  it('empiar10028 RELION 3.1: 17 particles, 200 px, 1.4 Å/px from optics, 2 optics groups (300 and 200 kV)', async () => {
    const set = await openParticles(
      sharedFile('particles/empiar10028-sample/sample_particles_relion31.star'),
    );
    expect([set.count, set.box, set.pixelSize]).toEqual([17, 200, 1.4]);
    expect(Array.from(set.opticsGroup!)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(set.ctf!.voltage[0]).toBe(300);
    expect(set.ctf!.voltage[16]).toBe(200);
    expect(set.ctf!.defocusU[0]).toBe(21186.804688);
    expect(set.poses!.psi![0]).toBe(71.118492);
    const images = await set.readBatch(0, 17);
    expect(images[0]).toBe(await first(sharedFile('particles/empiar10028-sample/sample.mrcs')));
    await set.close();
  });

  it('empiar10028 RELION 3.0: pixel size 5·10⁴ / 37369.207031 = 1.338 Å', async () => {
    const set = await openParticles(sharedFile('particles/empiar10028-sample/sample_relion_data.star'));
    expect(set.count).toBe(17);
    expect(set.pixelSize).toBeCloseTo(1.338, 4);
    expect(set.opticsGroup).toBeUndefined();
    expect(set.ctf!.cs[0]).toBe(2.7);
    await set.close();
  });

  it('TRPV1: the broken stack path is reported, and remap fixes it; 10 particles, 48 px, 4.88 Å', async () => {
    const path = sharedFile('particles/trpv1-empiar10059/trpv1_small_stack.star');
    await expect(openParticles(path)).rejects.toMatchObject({
      code: 'ERR_MISSING_STACKS',
      message: /batch_0_restacked\.mrc/,
    });
    const stack = sharedFile('particles/trpv1-empiar10059/trpv1_small_stack.mrcs');
    const set = await openParticles(path, { remap: { 'batch_0_restacked.mrc': stack } });
    expect([set.count, set.box, set.pixelSize]).toEqual([10, 48, 4.88]);
    expect(set.opticsGroup![0]).toBe(7);
    expect(set.ctf!.cs[0]).toBe(2);
    const last = await set.readBatch(9, 1);
    expect(last[48 * 48 - 1]).toBe(-2.1299498081207275); // numpy: last float of the stack
    await set.close();
  });

  it('empiar10076: the STAR and the .cs describe the same 7 particles (CTF converted to RELION units)', async () => {
    const fromStar = await openParticles(sharedFile('particles/empiar10076-7/empiar_10076_7.star'));
    const fromCs = await openParticles(sharedFile('particles/empiar10076-7/empiar_10076_7.cs'));
    for (const set of [fromStar, fromCs]) {
      expect([set.count, set.box]).toEqual([7, 320]);
      expect(set.pixelSize).toBeCloseTo(1.31, 4);
    }
    expect(fromCs.format).toBe('cs');
    const s = fromStar.ctf!;
    const c = fromCs.ctf!;
    for (let i = 0; i < 7; i++) {
      expect(c.defocusU[i]).toBeCloseTo(s.defocusU[i], 1);
      expect(c.defocusV[i]).toBeCloseTo(s.defocusV[i], 1);
      expect(c.defocusAngle[i]).toBeCloseTo(s.defocusAngle[i], 4); // radians → degrees
      expect([c.voltage[i], c.amplitudeContrast[i]]).toEqual([300, Math.fround(0.07)]);
      expect(c.cs[i]).toBeCloseTo(2.7, 6);
    }
    expectSameFloats(await fromCs.readBatch(0, 7), await fromStar.readBatch(0, 7));
    await fromStar.close();
    await fromCs.close();
  });

  it('relion31: STAR says 2.806 Å/px, the header says 1: the STAR wins', async () => {
    const set = await openParticles(sharedFile('particles/relion31/relion31.star'));
    expect([set.count, set.box, set.pixelSize]).toEqual([5, 256, 2.806]);
    await set.close();
  });

  it('metadata without images: every missing stack is named', async () => {
    const err = await openParticles(sharedFile('particles/relion31/relion31.6opticsgroups.star')).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ERR_MISSING_STACKS' });
  });

  it('cryoSPARC 2D alignments: classes become 1-based, pose radians become degrees, shifts px → Å', async () => {
    const path = sharedFile('cryosparc/cryosparc_J2_particles_exported.cs');
    const meta = csMetadata(await readCs(path), '/nowhere');
    expect(Array.from(meta.poses!.classNumber!.subarray(0, 5))).toEqual([5, 2, 2, 1, 2]);
    expect(meta.poses!.psi![0]).toBeCloseTo((Math.fround(5.8985004) * 180) / Math.PI, 10);
    expect(meta.poses!.originYAngst![0]).toBeCloseTo(12 * 1.3450001, 5);
    expect(meta.references[0]).toBe('J1/imported/000090334788266266069_18jam15b_0345_ali_DW.mrcs'); // '>' stripped
    const err = await openParticles(path).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_MISSING_STACKS',
      message: /J1\/imported\/000090334788266266069_18jam15b_0345_ali_DW\.mrcs/,
    });
  });

  it('toy projections: 1000 images of 30 px, CTF fields present, header pixel size', async () => {
    const set = await openParticles(sharedFile('projections/toy/toy_projections.star'));
    expect([set.count, set.box, set.pixelSize]).toEqual([1000, 30, 1]);
    expect(set.ctf!.phaseShift[0]).toBe(90);
    await set.close();
  });
});
