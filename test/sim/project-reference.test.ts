import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { project, projectMatrices } from '../../src/sim/project.js';
import { readMrcFloat32 } from '../helpers/mrc.js';
import { readNpyFloat32 } from '../helpers/npy.js';
import { describeShared, sharedFile } from '../helpers/shared.js';
import { pearson } from '../helpers/stats.js';

/** Data rows of a small STAR file (the lines naming an image), split on blanks. */
function starRows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes('@'))
    .map((l) => l.trim().split(/\s+/));
}

function correlations(got: Float32Array, want: Float32Array, pixels: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < want.length / pixels; i++)
    out.push(
      pearson(got.subarray(i * pixels, (i + 1) * pixels), want.subarray(i * pixels, (i + 1) * pixels)),
    );
  return out;
}

describeShared('projector against the shared toy projections', () => {
  it('reproduces 1000 trilinear line integrals at R_iᵀ·(x, y, z) + 15 (r ≥ 0.999 on each)', async () => {
    const dir = sharedFile('projections', 'toy');
    const vol = readMrcFloat32(`${dir}/toymodel_small_nocenter.mrc`);
    const rot = readNpyFloat32(`${dir}/toy_angles.rot.npy`);
    const want = readMrcFloat32(`${dir}/toy_projections.mrcs`);
    const n = rot.shape[0];
    const m = new Float64Array(9 * n);
    for (let i = 0; i < n; i++)
      for (let r = 0; r < 3; r++)
        for (let c = 0; c < 3; c++) m[9 * i + 3 * r + c] = rot.data[9 * i + 3 * c + r];
    const got = await projectMatrices(vol.data, vol.nx, m);
    const r = correlations(got, want.data, 30 * 30);
    expect(r).toHaveLength(1000);
    expect(Math.min(...r)).toBeGreaterThanOrEqual(0.999);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < got.length; i++) {
      scale = Math.max(scale, Math.abs(want.data[i]));
      worst = Math.max(worst, Math.abs(got[i] - want.data[i]));
    }
    expect(worst / scale).toBeLessThan(1e-4);
  });
});

describeShared("projector against RELION's projections of the 70S ribosome", () => {
  const dir = sharedFile('projections', 'ribosome70s-relion');
  const mapFile = sharedFile('maps', 'ribosome70s_65px.mrc');
  const cases = [
    ['rln_proj_65', false],
    ['rln_proj_65_centered', false],
    ['rln_proj_65_shifted', true],
  ] as const;
  for (const [name, shifted] of cases) {
    // RELION's projections of this odd (65) box have their image centre at pixel 33 = ⌈N/2⌉ (the
    // map's centre is 32 = ⌊N/2⌋): with 33 every image reaches r ≈ 0.999, with 32.5 only 0.83–0.99.
    // The shifted set loses a little more (r ≥ 0.98): RELION shifts circularly in Fourier space,
    // so density pushed out of one edge comes back at the other; a real-space shift drops it.
    it(`${name}: r ≥ ${shifted ? 0.98 : 0.995} on every image (issue: ≥ 0.93)`, async () => {
      const vol = readMrcFloat32(mapFile);
      const rows = starRows(`${dir}/${name}.star`);
      const want = readMrcFloat32(`${dir}/${name}.mrcs`);
      const col = (k: number) => Float64Array.from(rows, (r) => Number(r[k]));
      const got = await project(
        vol.data,
        65,
        { rot: col(0), tilt: col(1), psi: col(2) },
        {
          imageCentre: 33,
          pixelSize: 1,
          ...(shifted ? { originXAngst: col(3), originYAngst: col(4) } : {}),
        },
      );
      const r = correlations(got, want.data, 65 * 65);
      expect(r).toHaveLength(rows.length);
      for (const x of r) expect(x).toBeGreaterThanOrEqual(shifted ? 0.98 : 0.995);
    });
  }
});
