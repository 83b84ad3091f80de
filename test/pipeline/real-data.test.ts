import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readMrc, readStar } from '../../src/io/index.js';
import { runClassification } from '../../src/pipeline/run.js';
import { hasRelion, relion } from '../helpers/relion.js';
import { describeShared, sharedFile } from '../helpers/shared.js';

const cases: Array<{ name: string; input: string; k: number; remap?: Record<string, string> }> = [
  {
    name: 'TRPV1, 10 particles of 48 px, RELION 3.1 with input origins, moved stack',
    input: sharedFile('particles/trpv1-empiar10059/trpv1_small_stack.star'),
    k: 2,
    remap: { 'batch_0_restacked.mrc': sharedFile('particles/trpv1-empiar10059/trpv1_small_stack.mrcs') },
  },
  {
    name: 'Pf80S, 17 particles of 200 px (cropped to 64), RELION 3.1, 2 optics groups',
    input: sharedFile('particles/empiar10028-sample/sample_particles_relion31.star'),
    k: 3,
  },
  {
    name: '50S, 7 particles of 320 px from a cryoSPARC .cs',
    input: sharedFile('particles/empiar10076-7/empiar_10076_7.cs'),
    k: 2,
  },
];

describeShared('classify on the real particles in ../shared/data', () => {
  for (const c of cases)
    it(`${c.name}: runs, and the outputs re-read cleanly${hasRelion ? ' (and RELION reads them)' : ''}`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'ack-real-'));
      const summary = await runClassification(
        c.input,
        out,
        { k: c.k, maxIter: 5, threads: 2 },
        c.remap ? { remap: c.remap } : {},
      );
      const data = (await readStar(join(out, 'run_data.star'))).blocks.find((b) => b.has('rlnClassNumber'))!;
      expect(data.rowCount + summary.quarantined).toBe(
        summary.sizes.reduce((a, b) => a + b, 0) + summary.quarantined,
      );
      const classes = await readMrc(join(out, 'run_classes.mrcs'));
      expect(classes.header.nz).toBe(c.k);
      expect(classes.data.every(Number.isFinite)).toBe(true);
      if (hasRelion) {
        relion('relion_star_handler', ['--i', join(out, 'run_data.star'), '--o', join(out, 'check.star')]);
        const stats = relion('relion_image_handler', ['--i', join(out, 'run_classes.mrcs'), '--stats']);
        expect(stats).toMatch(/avg|mean|min/i);
      }
    });
});
