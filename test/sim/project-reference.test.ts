import { expect, it } from 'vitest';
import { readMrc, readStar } from '../../src/io/index.js';
import { project, projectMatrices } from '../../src/sim/project.js';
import { readNpyFloat32 } from '../helpers/npy.js';
import { describeShared, sharedFile } from '../helpers/shared.js';
import { pearson } from '../helpers/stats.js';

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
    const vol = await readMrc(`${dir}/toymodel_small_nocenter.mrc`);
    const rot = readNpyFloat32(`${dir}/toy_angles.rot.npy`);
    const want = await readMrc(`${dir}/toy_projections.mrcs`);
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
      const vol = await readMrc(mapFile);
      const star = await readStar(`${dir}/${name}.star`);
      const particles = star.block('particles');
      if (!particles) throw new Error(`${name}.star has no data_particles block`);
      const want = await readMrc(`${dir}/${name}.mrcs`);
      // The shifted set gives its origins in pixels (_rlnOriginX/Y) at 1 Å/px.
      const col = (label: string) => {
        const c = particles.numeric(label) ?? particles.numeric(label.replace('Angst', ''));
        if (!c) throw new Error(`${name}.star has no ${label}`);
        return c;
      };
      const got = await project(
        vol.data,
        65,
        { rot: col('rlnAngleRot'), tilt: col('rlnAngleTilt'), psi: col('rlnAnglePsi') },
        {
          imageCentre: 33,
          pixelSize: 1,
          ...(shifted ? { originXAngst: col('rlnOriginXAngst'), originYAngst: col('rlnOriginYAngst') } : {}),
        },
      );
      const r = correlations(got, want.data, 65 * 65);
      expect(r).toHaveLength(particles.rowCount);
      for (const x of r) expect(x).toBeGreaterThanOrEqual(shifted ? 0.98 : 0.995);
    });
  }
});
