/**
 * The cryoSPARC round trip: a .cs input (cryoSPARC project layout, project-relative blob paths)
 * and a STAR input with `_ucsfUid` (pyem's csparc2star column) classified; run_particles.cs read
 * back by numpy itself (python3 + numpy; skipped with a message where absent) and by ackmeans.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CsWriteField, csFieldOf, readCs, writeCs } from '../../src/io/cs.js';
import { openParticles, readStar, writeStar } from '../../src/io/index.js';
import { CS_FILES, relionToCs } from '../../src/pipeline/cs-outputs.js';
import { runClassification } from '../../src/pipeline/run.js';
import { selectClasses } from '../../src/pipeline/select.js';
import { simulateStack } from './simulate.js';

/** python3 with numpy, or why not. */
function numpyProblem(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore', timeout: 60_000 });
    return undefined;
  } catch {
    return 'python3 with numpy is not installed (Debian: apt-get install python3-numpy)';
  }
}
const noNumpy = numpyProblem();
if (noNumpy) console.warn(`skipping the numpy read-back of run_particles.cs: ${noNumpy}`);

interface NumpyView {
  n: number;
  dtypes: Record<string, [string, number[]]>;
  uid: string[];
  cls: number[];
  pose: number[];
  shift: number[][];
  posterior: number[];
  path: string[];
}

/** What plain `numpy.load` sees in a .cs file. */
function numpyLoad(path: string): NumpyView {
  const script = `
import json, sys
import numpy as np
a = np.load(sys.argv[1])
d = {n: [a.dtype[n].base.str, list(a.dtype[n].shape)] for n in a.dtype.names}
print(json.dumps({
  "n": int(a.shape[0]), "dtypes": d,
  "uid": [str(int(u)) for u in a["uid"]],
  "cls": [int(c) for c in a["alignments2D/class"]],
  "pose": [float(p) for p in a["alignments2D/pose"]],
  "shift": [[float(s[0]), float(s[1])] for s in a["alignments2D/shift"]],
  "posterior": [float(p) for p in a["alignments2D/class_posterior"]],
  "path": [p.decode() for p in a["blob/path"]],
}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8', timeout: 120_000 }));
}

const PARAMS = { k: 4, maxIter: 3, seed: 3, threads: 2 };
let project: string;
let csInput: string;
let inputUids: bigint[];

beforeAll(async () => {
  // a cryoSPARC project: J12/extract/mic1.mrcs, J15/particles.cs naming it project-relative
  project = mkdtempSync(join(tmpdir(), 'ack-csproj-'));
  mkdirSync(join(project, 'J12/extract'), { recursive: true });
  mkdirSync(join(project, 'J15'), { recursive: true });
  const sim = await simulateStack(mkdtempSync(join(tmpdir(), 'ack-cssim-')), {
    perView: 10,
    ctf: true,
    seed: 5,
  });
  renameSync(sim.stack, join(project, 'J12/extract/mic1.mrcs'));
  const star = (await readStar(sim.star)).block('particles')!;
  const n = star.rowCount;
  const ox = star.numeric('rlnOriginXAngst')!;
  const oy = star.numeric('rlnOriginYAngst')!;
  inputUids = Array.from({ length: n }, (_, i) => 18446744073709551000n - BigInt(i * 7919));
  const fields: CsWriteField[] = [
    { name: 'uid', dtype: '<u8', values: BigUint64Array.from(inputUids) },
    { name: 'blob/path', dtype: '|S40', values: Array.from({ length: n }, () => 'J12/extract/mic1.mrcs') },
    { name: 'blob/idx', dtype: '<u4', values: Uint32Array.from({ length: n }, (_, i) => i) },
    { name: 'blob/shape', dtype: '<u4', shape: [2], values: new Uint32Array(2 * n).fill(sim.box) },
    { name: 'blob/psize_A', dtype: '<f4', values: new Float32Array(n).fill(sim.pixelSize) },
    { name: 'ctf/accel_kv', dtype: '<f4', values: new Float32Array(n).fill(300) },
    { name: 'ctf/cs_mm', dtype: '<f4', values: new Float32Array(n).fill(2.7) },
    { name: 'ctf/amp_contrast', dtype: '<f4', values: new Float32Array(n).fill(0.1) },
    { name: 'ctf/df1_A', dtype: '<f4', values: Float32Array.from(star.numeric('rlnDefocusU')!) },
    { name: 'ctf/df2_A', dtype: '<f4', values: Float32Array.from(star.numeric('rlnDefocusV')!) },
    { name: 'ctf/df_angle_rad', dtype: '<f4', values: new Float32Array(n).fill(Math.PI / 6) },
    {
      name: 'location/center_x_frac',
      dtype: '<f4',
      values: Float32Array.from({ length: n }, (_, i) => i / n),
    },
    // an earlier 2D job's alignment: its shifts centre the particles; its class is replaced
    { name: 'alignments2D/class', dtype: '<u4', values: new Uint32Array(n).fill(7) },
    { name: 'alignments2D/pose', dtype: '<f4', values: new Float32Array(n).fill(0.3) },
    {
      name: 'alignments2D/shift',
      dtype: '<f4',
      shape: [2],
      values: Float32Array.from({ length: 2 * n }, (_, j) => (j % 2 ? oy : ox)[j >> 1] / sim.pixelSize),
    },
    { name: 'alignments2D/psize_A', dtype: '<f4', values: new Float32Array(n).fill(sim.pixelSize) },
  ];
  csInput = join(project, 'J15/particles.cs');
  await writeCs(csInput, n, fields);
}, 120_000);

describe('cryoSPARC outputs', () => {
  it('a .cs input keeps uid and every field; run_particles.cs has the classes of run_data.star', async () => {
    const out = join(project, 'ackmeans-out');
    await runClassification(csInput, out, PARAMS);
    const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
    const classes = Array.from(data.numeric('rlnClassNumber')!, (c) => c - 1);
    expect(data.strings('ucsfUid')).toEqual(inputUids.slice(0, data.rowCount).map(String));

    const cs = await readCs(join(out, CS_FILES.particles));
    expect(cs.n).toBe(data.rowCount);
    expect(Array.from(cs.column('uid') as BigUint64Array)).toEqual(inputUids.slice(0, cs.n));
    expect(cs.strings('blob/path')![0]).toBe('J12/extract/mic1.mrcs'); // as the input wrote it
    expect(cs.numeric('location/center_x_frac')).toBeDefined();
    expect(Array.from(cs.numeric('alignments2D/class')!)).toEqual(classes);
    expect(cs.fields.filter((f) => f.name === 'alignments2D/class')).toHaveLength(1);
    const byName = Object.fromEntries(cs.fields.map((f) => [f.name, f]));
    expect(byName['alignments2D/class'].dtype).toBe('<u4');
    expect(byName['alignments2D/pose'].dtype).toBe('<f4');
    expect([byName['alignments2D/shift'].dtype, byName['alignments2D/shift'].shape]).toEqual(['<f4', [2]]);
    expect(Array.from(cs.numeric('alignments2D/class_posterior')!)).toEqual(new Array(cs.n).fill(1));

    // ψ and origins in run_data.star = pose and shift through the one mapping
    const psi = data.numeric('rlnAnglePsi')!;
    const ox = data.numeric('rlnOriginXAngst')!;
    const oy = data.numeric('rlnOriginYAngst')!;
    const pose = cs.numeric('alignments2D/pose')!;
    const shift = cs.numeric('alignments2D/shift')!;
    const psize = cs.numeric('alignments2D/psize_A')!;
    for (let r = 0; r < cs.n; r++) {
      const want = relionToCs(psi[r], ox[r], oy[r], psize[r]);
      expect(pose[r]).toBeCloseTo(want.pose, 5);
      expect(shift[2 * r]).toBeCloseTo(want.shiftX, 4);
      expect(shift[2 * r + 1]).toBeCloseTo(want.shiftY, 4);
    }

    // ackmeans reads its own .cs back to run_data.star's poses and classes
    const back = await openParticles(join(out, CS_FILES.particles));
    try {
      expect(Array.from(back.poses!.classNumber!)).toEqual(Array.from(data.numeric('rlnClassNumber')!));
      for (let r = 0; r < cs.n; r++) {
        expect(back.poses!.psi![r]).toBeCloseTo(psi[r], 3);
        expect(back.poses!.originXAngst![r]).toBeCloseTo(ox[r], 3);
      }
    } finally {
      await back.close();
    }

    const csg = readFileSync(join(out, CS_FILES.particlesGroup), 'utf8');
    for (const slot of ['alignments2D', 'blob', 'ctf', 'location'])
      expect(csg).toContain(
        `  ${slot}:\n    metafile: '>${CS_FILES.particles}'\n    num_items: ${cs.n}\n    type: particle.${slot}\n`,
      );
    expect(csg).not.toMatch(/ackmeans:\n/);
    const templates = await readCs(join(out, CS_FILES.classes));
    expect(templates.n).toBe(PARAMS.k);
    expect(templates.strings('blob/path')![0]).toBe(join(out, 'run_classes.mrcs'));
    expect(readFileSync(join(out, CS_FILES.classesGroup), 'utf8')).toContain('type: template.blob');
  }, 300_000);

  it.skipIf(noNumpy)(
    'numpy.load reads run_particles.cs: uids, dtypes, classes',
    async () => {
      const out = join(project, 'ackmeans-out');
      const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
      const view = numpyLoad(join(out, CS_FILES.particles));
      expect(view.n).toBe(data.rowCount);
      expect(view.uid).toEqual(inputUids.slice(0, view.n).map(String));
      expect(view.cls).toEqual(Array.from(data.numeric('rlnClassNumber')!, (c) => c - 1));
      expect(view.posterior).toEqual(new Array(view.n).fill(1));
      expect(view.dtypes.uid).toEqual(['<u8', []]);
      expect(view.dtypes['alignments2D/class']).toEqual(['<u4', []]);
      expect(view.dtypes['alignments2D/pose']).toEqual(['<f4', []]);
      expect(view.dtypes['alignments2D/shift']).toEqual(['<f4', [2]]);
      expect(view.dtypes['alignments2D/psize_A']).toEqual(['<f4', []]);
      expect(view.dtypes['blob/shape']).toEqual(['<u4', [2]]);
      expect(view.path[0]).toBe('J12/extract/mic1.mrcs');
    },
    120_000,
  );

  it('select keeps the .cs side: from run_particles.cs, and with cs: true beside a STAR output', async () => {
    const out = join(project, 'ackmeans-out');
    const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
    const classes = data.numeric('rlnClassNumber')!;
    const wanted = [...new Set(classes)].sort().slice(0, 2);
    const sel = mkdtempSync(join(tmpdir(), 'ack-cssel-'));
    const n = await selectClasses(join(out, 'run_data.star'), wanted, join(sel, 'sub.star'), { cs: true });
    const star = (await readStar(join(sel, 'sub.star'))).block('particles')!;
    const cs = await readCs(join(sel, 'sub.cs'));
    expect(cs.n).toBe(n);
    expect(Array.from(cs.column('uid') as BigUint64Array, String)).toEqual(star.strings('ucsfUid'));
    expect(readFileSync(join(sel, 'sub.csg'), 'utf8')).toContain(
      `metafile: '>sub.cs'\n    num_items: ${n}\n`,
    );
    const direct = await selectClasses(join(out, CS_FILES.particles), wanted, join(sel, 'direct.cs'));
    expect(direct).toBe(n);
    expect(readFileSync(join(sel, 'direct.cs')).equals(readFileSync(join(sel, 'sub.cs')))).toBe(true);
    await expect(selectClasses(join(out, 'run_data.star'), wanted, join(sel, 'x.cs'))).rejects.toThrow(
      /a \.cs output needs a \.cs input/,
    );
  }, 120_000);

  it("a .cs input's alignments2D shifts are the particles' starting origins (run_data.star adds to them)", async () => {
    const cs = await readCs(csInput);
    const moved = cs.fields.map((f) => {
      const field = csFieldOf(cs, f);
      if (f.name !== 'alignments2D/shift') return field;
      return {
        ...field,
        values: Float64Array.from(field.values as Float64Array, (v, j) => (j % 2 ? v : v + 20)),
      };
    });
    const input = join(project, 'J15/moved.cs');
    await writeCs(input, cs.n, moved);
    const out = join(project, 'ackmeans-moved');
    await runClassification(input, out, { ...PARAMS, k: 2, maxIter: 1 });
    const data = (await readStar(join(out, 'run_data.star'))).block('particles')!;
    const shift = cs.numeric('alignments2D/shift')!;
    const psize = cs.numeric('alignments2D/psize_A')![0];
    const ox = data.numeric('rlnOriginXAngst')!;
    const range = 2 * psize; // default shift range: 2 working pixels (working box = input box here)
    for (let r = 0; r < data.rowCount; r++)
      expect(Math.abs(ox[r] - (shift[2 * r] + 20) * psize)).toBeLessThanOrEqual(range + 1e-3);
  }, 300_000);

  it('a STAR input keeps its _ucsfUid in run_particles.cs; without one, uids are derived and stable', async () => {
    const sim = await simulateStack(mkdtempSync(join(tmpdir(), 'ack-csstar-')), {
      perView: 8,
      ctf: true,
      seed: 6,
    });
    const star = await readStar(sim.star);
    const block = star.block('particles')!;
    const uids = Array.from({ length: block.rowCount }, (_, i) => String(12345678901234567890n + BigInt(i)));
    block.setColumn('ucsfUid', uids);
    const withUids = sim.star.replace(/\.star$/, '_uids.star');
    await writeStar(withUids, star);
    const out = mkdtempSync(join(tmpdir(), 'ack-csstar-out-'));
    await runClassification(withUids, join(out, 'a'), PARAMS);
    const cs = await readCs(join(out, 'a', CS_FILES.particles));
    expect(Array.from(cs.column('uid') as BigUint64Array, String)).toEqual(uids.slice(0, cs.n));
    expect(cs.strings('blob/path')![0]).toBe(sim.stack); // absolute: cryoSPARC cannot know our folder
    expect(cs.numeric('ctf/df1_A')![0]).toBeCloseTo(block.numeric('rlnDefocusU')![0], 0);
    const data = (await readStar(join(out, 'a', 'run_data.star'))).block('particles')!;
    expect(Array.from(cs.numeric('alignments2D/class')!)).toEqual(
      Array.from(data.numeric('rlnClassNumber')!, (c) => c - 1),
    );
    if (!noNumpy) expect(numpyLoad(join(out, 'a', CS_FILES.particles)).uid).toEqual(uids.slice(0, cs.n));

    await runClassification(sim.star, join(out, 'b'), PARAMS);
    await runClassification(sim.star, join(out, 'c'), PARAMS);
    const b = readFileSync(join(out, 'b', CS_FILES.particles));
    expect(readFileSync(join(out, 'c', CS_FILES.particles)).equals(b)).toBe(true);
    const derived = (await readCs(join(out, 'b', CS_FILES.particles))).column('uid') as BigUint64Array;
    expect(new Set(derived).size).toBe(derived.length);
  }, 300_000);
});
