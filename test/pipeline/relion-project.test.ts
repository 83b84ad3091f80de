import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStar, writeStar } from '../../src/io/index.js';
import { hasRelion } from '../helpers/relion.js';
import { simulateStack } from './simulate.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'cli.js');

/** Runs the built CLI from `cwd` (a RELION project folder). */
async function ackmeans(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [cli, ...args], { cwd });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const imageNames = async (path: string) =>
  (await readStar(path)).block('particles')!.strings('rlnImageName')!;

let project: string;

beforeAll(async () => {
  // a RELION project: stacks under Extract/, a particle file under Select/ naming them
  // relative to the project folder
  project = mkdtempSync(join(tmpdir(), 'ack-project-'));
  const movies = join(project, 'Extract/job008/Movies');
  mkdirSync(movies, { recursive: true });
  const sim = await simulateStack(mkdtempSync(join(tmpdir(), 'ack-sim-')), { perView: 8, snr: 2, seed: 4 });
  renameSync(sim.stack, join(movies, 'mic1.mrcs'));
  const star = await readStar(sim.star);
  const block = star.block('particles')!;
  block.setColumn(
    'rlnImageName',
    block.strings('rlnImageName')!.map((n) => `${n.split('@')[0]}@Extract/job008/Movies/mic1.mrcs`),
  );
  mkdirSync(join(project, 'Select/job012'), { recursive: true });
  await writeStar(join(project, 'Select/job012/particles.star'), star);
});

describe('a RELION project folder', () => {
  it('classify, select and re-classify from the project folder; outputs name stacks as RELION does', async () => {
    const args = ['-k', '4', '--max-iter', '3', '--threads', '2', '--quiet'];
    // RELION's option names, as a RELION user types them
    const first = await ackmeans(
      project,
      'classify',
      '--i',
      'Select/job012/particles.star',
      '--o',
      'Class2D/job013',
      '--K',
      '4',
      '--iter',
      '3',
      '--j',
      '2',
      '--quiet',
    );
    expect(first.code, first.stderr).toBe(0);
    const names = await imageNames(join(project, 'Class2D/job013/run_data.star'));
    expect(names.every((n) => n.endsWith('@Extract/job008/Movies/mic1.mrcs'))).toBe(true);
    const again = await ackmeans(
      project,
      'classify',
      'Class2D/job013/run_data.star',
      '-o',
      'Class2D/job014',
      ...args,
    );
    expect(again.code, again.stderr).toBe(0);
    const sel = await ackmeans(
      project,
      'select',
      'Class2D/job013/run_data.star',
      '--classes',
      '1,2',
      '-o',
      'Select/job015/particles.star',
    );
    expect(sel.code, sel.stderr).toBe(0);
    expect(
      (await imageNames(join(project, 'Select/job015/particles.star'))).every((n) =>
        n.endsWith('@Extract/job008/Movies/mic1.mrcs'),
      ),
    ).toBe(true);
    // the same file read from elsewhere (the test's folder) finds its stacks too
    const elsewhere = await ackmeans(root, 'info', join(project, 'Select/job015/particles.star'), '--json');
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    // a used output folder is refused
    const refused = await ackmeans(
      project,
      'classify',
      'Select/job012/particles.star',
      '-o',
      'Class2D/job013',
      ...args,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists .*--force/);
  }, 300_000);

  it.skipIf(!hasRelion)(
    'relion_stack_create reads run_data.star from the project folder, and ackmeans re-classifies its output',
    async () => {
      const out = await promisify(execFile)(
        'relion_stack_create',
        ['--i', 'Class2D/job013/run_data.star', '--o', 'Extract/stacked'],
        {
          cwd: project,
        },
      ).catch((err: { stdout: string; stderr: string }) => {
        throw new Error(`relion_stack_create failed:\n${err.stdout}\n${err.stderr}`);
      });
      expect(out.stderr).not.toMatch(/ERROR/);
      const r = await ackmeans(
        project,
        'classify',
        'Extract/stacked.star',
        '-o',
        'Class2D/job016',
        '-k',
        '4',
        '--max-iter',
        '3',
        '--threads',
        '2',
        '--quiet',
      );
      expect(r.code, r.stderr).toBe(0);
    },
    300_000,
  );
});
