/**
 * `ackmeans classify` then `ackmeans select --auto` on a small simulated mix (phantom views plus
 * pure-noise images) laid out as a RELION project, both run as child processes from the
 * project folder: the noise is dropped, the particles are kept, the written STAR's image names
 * resolve and every column is kept.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readMrc, readStar, StarBlock, StarFile, writeMrc, writeStar } from '../../src/io/index.js';
import { Rng } from '../../src/random.js';
import { simulateStack } from './simulate.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/** Runs the CLI from source in `cwd`; the test fails on a non-zero exit (message in the error). */
async function ackmeans(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', tsx, join(root, 'src/cli.ts'), ...args],
    // a hung child is killed (and the test fails) after 5 minutes, far above any run under load
    { cwd, timeout: 300_000 },
  );
  return stdout;
}

const REAL = 48;
const NOISE = 24;

describe('select --auto', () => {
  it('drops a pure-noise class and keeps the particles, from a RELION project folder', async () => {
    const project = mkdtempSync(join(tmpdir(), 'ack-auto-'));
    mkdirSync(join(project, 'sim'));
    const sim = await simulateStack(join(project, 'sim'), { perView: 12, snr: 2, ctf: true, seed: 5 });
    // Extract/job002: the 48 particles, then 24 images of pure noise of the same variance
    const { data, header } = await readMrc(sim.stack);
    const D = sim.box * sim.box;
    let variance = 0;
    for (const v of data) variance += v * v;
    variance /= data.length;
    const images = new Float32Array((REAL + NOISE) * D);
    images.set(data);
    const rng = new Rng(11);
    for (let i = REAL * D; i < images.length; i++) images[i] = Math.sqrt(variance) * rng.normal();
    const extract = join(project, 'Extract', 'job002');
    mkdirSync(extract, { recursive: true });
    await writeMrc(join(extract, 'particles.mrcs'), images, {
      nx: sim.box,
      ny: sim.box,
      nz: REAL + NOISE,
      pixelSize: header.pixelSize ?? sim.pixelSize,
      stack: true,
    });
    const star = await readStar(sim.star);
    const rows = star.block('particles')!;
    const n = REAL + NOISE;
    const column = (name: string, fill: number) =>
      Float64Array.from({ length: n }, (_, i) => (i < REAL ? rows.numeric(name)![i] : fill));
    const particles = StarBlock.fromColumns('particles', {
      // project-relative, as RELION writes them
      rlnImageName: Array.from(
        { length: n },
        (_, i) => `${String(i + 1).padStart(6, '0')}@Extract/job002/particles.mrcs`,
      ),
      rlnOpticsGroup: new Float64Array(n).fill(1),
      rlnOriginXAngst: column('rlnOriginXAngst', 0),
      rlnOriginYAngst: column('rlnOriginYAngst', 0),
      rlnDefocusU: column('rlnDefocusU', 12000),
      rlnDefocusV: column('rlnDefocusV', 11800),
      rlnDefocusAngle: column('rlnDefocusAngle', 30),
      simTruth: Float64Array.from({ length: n }, (_, i) => (i < REAL ? 1 : 0)),
    });
    particles.version = '# version 30001';
    await writeStar(join(extract, 'particles.star'), new StarFile([star.block('optics')!, particles]));

    await ackmeans(
      project,
      'classify',
      'Extract/job002/particles.star',
      '-k',
      '5',
      '--max-iter',
      '8',
      '--seed',
      '3',
      '-o',
      'Class2D/job003',
    );
    mkdirSync(join(project, 'Select', 'job004'), { recursive: true });
    const out = JSON.parse(
      await ackmeans(
        project,
        'select',
        'Class2D/job003/run_data.star',
        '--auto',
        '-o',
        'Select/job004/particles.star',
        '--json',
      ),
    ) as {
      particles: number;
      classes: number[];
      table: string;
      decisions: { accepted: boolean; reasons: string[] }[];
    };

    const selected = (await readStar(join(project, 'Select/job004/particles.star'))).block('particles')!;
    // every column kept (the input's own and the classification's)
    for (const c of ['simTruth', 'rlnDefocusU', 'rlnClassNumber', 'rlnAnglePsi'])
      expect(selected.has(c)).toBe(true);
    // the image names resolve from the project folder
    const names = selected.strings('rlnImageName')!;
    for (const stack of new Set(names.map((s) => s.slice(s.indexOf('@') + 1))))
      expect(existsSync(resolve(project, stack))).toBe(true);
    const truth = selected.numeric('simTruth')!;
    const real = truth.filter((t) => t === 1).length;
    expect(real).toBeGreaterThanOrEqual(0.9 * REAL);
    expect(truth.length - real).toBeLessThanOrEqual(0.1 * NOISE);
    // every rejected class says why; the table is written
    for (const d of out.decisions) if (!d.accepted) expect(d.reasons.length).toBeGreaterThan(0);
    expect(readFileSync(resolve(project, out.table), 'utf8')).toMatch(/^class\tparticles/);
    // the run's report marks the rejected classes and shows members of every class
    const html = readFileSync(join(project, 'Class2D/job003/report.html'), 'utf8');
    const rejected = out.decisions.filter((d) => !d.accepted).length;
    expect(html.match(/class="tile rejected"/g)?.length ?? 0).toBe(rejected);
    expect(html.match(/class="member"/g)?.length).toBe(5 * 6);
  }, 600_000);
});
