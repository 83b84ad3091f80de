import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeFile, validateFile, writeMrc, writeSpiderDoc } from '../../src/io/index.js';
import { register as registerInfo } from '../../src/cli/info.js';
import { register as registerValidate } from '../../src/cli/validate.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir, writeRawMrc } from './fixtures.js';

const dir = tempDir();

/** Runs `ackmeans info|validate` in this process (child processes are slow under load). */
const cli = (...args: string[]) =>
  runCommand(
    (program) => {
      registerInfo(program);
      registerValidate(program);
    },
    ...args,
  );

const good = join(dir, 'good.mrcs');
const star = join(dir, 'set.star');

beforeAll(async () => {
  await writeMrc(
    good,
    Float32Array.from({ length: 3 * 16 }, (_, k) => Math.sin(k)),
    { nx: 4, ny: 4, nz: 3, pixelSize: 1.5 },
  );
  writeFileSync(
    star,
    'data_\nloop_\n_rlnImageName\n_rlnDefocusU\n_rlnVoltage\n_rlnSphericalAberration\n_rlnAmplitudeContrast\n_rlnImagePixelSize\n' +
      '1@good.mrcs 10000 300 2.7 0.1 1.5\n3@good.mrcs 12000 300 2.7 0.1 1.5\n',
  );
});

describe('validateFile', () => {
  it('a clean MRC stack and the STAR that uses it have no problems', async () => {
    expect(await validateFile(good)).toEqual([]);
    expect(await validateFile(star)).toEqual([]);
  });

  it('lists every problem of an MRC file, not just the first', async () => {
    // Hand-built: stats all 0 (dmax = dmin = 0 claims the data are constant), a bad space group, extra bytes.
    const path = writeRawMrc(join(dir, 'odd.mrc'), { nx: 4, ny: 4, nz: 2, mode: 2, ispg: 999, extra: 4 });
    const problems = await validateFile(path);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/4 bytes longer/),
        expect.stringMatching(/ispg = 999/),
        expect.stringMatching(/dmax 0 but the data maximum is 31/),
      ]),
    );
  });

  it('reports unreadable files and missing stacks as problems', async () => {
    writeFileSync(join(dir, 'junk.mrc'), 'not an mrc'.repeat(200));
    expect((await validateFile(join(dir, 'junk.mrc')))[0]).toMatch(/not an MRC file/);
    const missing = join(dir, 'missing.star');
    writeFileSync(missing, 'data_\nloop_\n_rlnImageName\n1@a.mrcs\n1@b.mrcs\n');
    expect(await validateFile(missing)).toEqual([
      expect.stringMatching(/2 referenced stack files are missing .*: a\.mrcs, b\.mrcs/),
    ]);
    writeFileSync(join(dir, 'bad.star'), 'data_\nloop_\n_a\n_b\n1\n');
    expect(await validateFile(join(dir, 'bad.star'))).toEqual([
      expect.stringMatching(/line 5: row has 1 values/),
    ]);
  });

  it('checks CTF values', async () => {
    const path = join(dir, 'ctf.star');
    writeFileSync(
      path,
      'data_\nloop_\n_rlnImageName\n_rlnDefocusU\n_rlnVoltage\n_rlnSphericalAberration\n_rlnAmplitudeContrast\n_rlnImagePixelSize\n1@good.mrcs 1e4 300 2.7 0.1 1.5\n2@good.mrcs 1e4 -300 2.7 1.5 1.5\n3@good.mrcs 1e4 0 2.7 0.1 1.5\n',
    );
    const problems = await validateFile(path);
    expect(problems).toEqual([
      'voltage is outside (0, 1000] kV for 2 particle(s), first #2: -300',
      'amplitude contrast is outside [0, 1) for 1 particle(s), first #2: 1.5',
    ]);
  });
});

describe('describeFile', () => {
  it('summarises MRC stacks, STAR files and SPIDER documents', async () => {
    const m = await describeFile(good);
    expect(m.kind).toBe('mrc');
    expect(m.header).toMatchObject({ nx: 4, ny: 4, nz: 3, isStack: true });
    expect(m.particles).toMatchObject({ count: 3, box: 4 });
    const s = await describeFile(star);
    expect(s.blocks).toEqual([{ name: '', loop: true, rows: 2, columns: expect.any(Array) }]);
    expect(s.particles!.ctf!.defocusU).toEqual({ min: 10000, max: 12000 });
    await writeSpiderDoc(join(dir, 'doc.dat'), [
      [1, 2],
      [3, 4],
    ]);
    expect(await describeFile(join(dir, 'doc.dat'))).toMatchObject({ kind: 'spider-doc', rows: 2 });
  });
});

describe('ackmeans info / validate', () => {
  it('info prints a human summary, or JSON', async () => {
    const text = await cli('info', star);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/particles {4}2 of 4 × 4 px, 1\.5 Å\/px, in 1 stack/);
    expect(text.stdout).toMatch(/defocus {6}U 10000 … 12000 Å/);
    const json = await cli('info', good, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'mrc',
      header: { nx: 4, mode: 2 },
      particles: { count: 3 },
    });
  });

  it('validate: exit 0 when clean, 1 with every problem listed otherwise; one-line errors', async () => {
    const ok = await cli('validate', good, star);
    expect([ok.code, ok.stdout]).toEqual([0, 'good.mrcs: ok\nset.star: ok\n']);
    const bad = await cli('validate', join(dir, 'missing.star'), '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problems[0]).toMatch(/a\.mrcs, b\.mrcs/);
    const remapped = await cli(
      'validate',
      join(dir, 'missing.star'),
      '--remap',
      `a.mrcs=${good}`,
      '--remap',
      `b.mrcs=${good}`,
    );
    expect([remapped.code, remapped.stdout]).toEqual([0, 'missing.star: ok\n']); // header pixel size used
    // warnings (nversion 0, stale statistics) alone: exit 0; --strict counts them as errors
    const stale = writeRawMrc(join(dir, 'stale.mrcs'), { nx: 4, ny: 4, nz: 2, mode: 2, ispg: 0 });
    const lenient = await cli('validate', stale, '--json');
    expect(lenient.code).toBe(0);
    const found = JSON.parse(lenient.stdout) as { errors: string[]; warnings: string[] };
    expect(found.errors).toEqual([]);
    expect(found.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/dmax 0 but the data maximum/)]),
    );
    const text = await cli('validate', stale);
    expect([text.code, text.stdout]).toEqual([0, expect.stringMatching(/^stale\.mrcs: warning: /)]);
    const strict = await cli('validate', '--strict', stale);
    expect(strict.code).toBe(1);
    expect(strict.stdout).not.toMatch(/warning:/);
    const absent = await cli('info', join(dir, 'absent.mrc'));
    expect(absent.code).toBe(1);
    expect(absent.stderr).toBe('ackmeans: absent.mrc: no such file\n');
  });
});
