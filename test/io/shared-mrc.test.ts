/**
 * Every MRC file in ../shared/data, checked against facts from the data README and values read
 * independently (numpy.memmap of the float32 data after the 1024-byte header).
 */
import { expect, it } from 'vitest';
import { openStack, readMrc, readMrcHeader } from '../../src/io/index.js';
import { describeShared, sharedFile } from '../helpers/shared.js';
import { expectSameFloats } from './fixtures.js';

// file, [nx, ny, nz], pixel size (undefined = none in header), isStack, [first, middle, last] value, mean
const FILES: [string, number[], number | undefined, boolean, number[], number][] = [
  [
    'maps/ribosome70s_65px.mrc',
    [65, 65, 65],
    undefined,
    false,
    [-2.5746061282916344e-7, -1.6312507796101272e-5, 0],
    1.6258796904367045e-6,
  ],
  ['maps/groel_emd1080.mrc', [100, 100, 100], 2.7, false, [0, 0, 0], 0.08132880926132202],
  ['maps/betagal.mrc', [100, 100, 100], 3.54, true, [3.656462286016904e-5], NaN],
  [
    'maps/ribosome80s_4ug0.mrc',
    [80, 80, 80],
    4.0,
    false,
    [5.4722804634366184e-6, 1.1282245395705104e-6, 5.7728320825845e-6],
    0.0002619270817376673,
  ],
  ['maps/trpv1.mrc', [48, 48, 48], 4.88, true, [0, 0, 0], 0.007772233337163925],
  [
    'mrc-edge-cases/EMD-3197.map',
    [20, 20, 20],
    11.4,
    false,
    [-1.8013091087341309, -0.6863722801208496, 1.3078573942184448],
    0.7836120128631592,
  ],
  [
    'particles/trpv1-empiar10059/trpv1_small_stack.mrcs',
    [48, 48, 10],
    4.88,
    true,
    [-7.553009986877441, 2.027796506881714, -2.1299498081207275],
    0.16835658252239227,
  ],
  [
    'particles/empiar10076-7/empiar_10076_7.mrc',
    [320, 320, 7],
    undefined,
    false,
    [0.6822134256362915, 0.7461519241333008, 1.2681007385253906],
    -0.003434370504692197,
  ],
  [
    'particles/relion31/relion31.mrcs',
    [256, 256, 5],
    1,
    true,
    [0.28542500734329224, -1.0647358894348145, -0.8011943101882935],
    0.010766173712909222,
  ],
  ['particles/empiar10028-sample/sample.mrcs', [200, 200, 17], undefined, true, [], NaN],
  ['projections/toy/toy_projections.mrcs', [30, 30, 1000], 1, true, [0, 0, 0], 0.20015849173069],
  ['projections/toy/toymodel_small_nocenter.mrc', [30, 30, 30], 1, true, [], NaN],
  [
    'projections/ribosome70s-relion/rln_proj_65.mrcs',
    [65, 65, 5],
    undefined,
    true,
    [1.4752095921721775e-5, 0.002438589232042432, -2.2960441583563806e-6],
    8.9383298472967e-5,
  ],
  ['projections/ribosome70s-relion/rln_proj_65_centered.mrcs', [65, 65, 4], 1, true, [], NaN],
  ['projections/ribosome70s-relion/rln_proj_65_shifted.mrcs', [65, 65, 4], 1, true, [], NaN],
];

describeShared('shared data: MRC files', () => {
  for (const [file, dims, pixelSize, isStack, values, mean] of FILES)
    it(file, async () => {
      const m = await readMrc(sharedFile(file));
      expect([m.nx, m.ny, m.nz]).toEqual(dims);
      if (pixelSize === undefined) expect(m.pixelSize).toBeUndefined();
      else expect(m.pixelSize).toBeCloseTo(pixelSize, 4);
      expect(m.header.isStack).toBe(isStack);
      const n = m.data.length;
      if (values.length === 3) expect([m.data[0], m.data[n >> 1], m.data[n - 1]]).toEqual(values);
      if (values.length === 1) expect(m.data[12345]).toBe(values[0]);
      if (!Number.isNaN(mean)) expect(m.data.reduce((a, b) => a + b, 0) / n).toBeCloseTo(mean, 6);
    });

  it('EMD-3001.map: axis order (3,1,2), ispg 4, 160-byte extended header, mx ≠ nx', async () => {
    const m = await readMrc(sharedFile('mrc-edge-cases/EMD-3001.map'));
    const h = m.header;
    expect([h.nx, h.ny, h.nz, h.mapc, h.mapr, h.maps, h.ispg, h.nsymbt, h.mx]).toEqual([
      73, 43, 25, 3, 1, 2, 4, 160, 40,
    ]);
    expect([m.nx, m.ny, m.nz]).toEqual([43, 25, 73]); // columns are z, rows x, sections y
    expect(m.pixelSize).toBeCloseTo(17.93 / 40, 4);
    // numpy: fromfile(offset=1184).reshape(25,43,73).transpose(2,0,1).ravel()[12345]
    expect(m.data[12345]).toBe(-0.07290708273649216);
  });

  it('EMD-3197.map: nxstart = −2', async () => {
    const h = await readMrcHeader(sharedFile('mrc-edge-cases/EMD-3197.map'));
    expect([h.nxstart, h.nystart, h.nzstart]).toEqual([-2, 0, 0]);
    expect(h.littleEndian).toBe(true);
  });

  it('toy_projections.mrcs: an old-style header (no MAP stamp, no machine stamp) still reads', async () => {
    const h = await readMrcHeader(sharedFile('projections/toy/toy_projections.mrcs'));
    expect(h.map).not.toBe('MAP ');
    expect(h.warnings.join()).toMatch(/MAP/);
  });

  it('sample.mrcs as a lazy stack: images 3 and 4 match the whole-file read', async () => {
    const path = sharedFile('particles/empiar10028-sample/sample.mrcs');
    const stack = await openStack(path);
    const whole = (await readMrc(path)).data;
    expectSameFloats(await stack.readBatch(3, 2), whole.subarray(3 * 40000, 5 * 40000));
    expect(stack.readBatchSync(16, 1)[0]).toBe(whole[16 * 40000]);
    expect(whole[3 * 40000]).toBe(Math.fround(-0.4712979));
    await stack.close();
  });
});
