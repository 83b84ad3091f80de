import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError, openParticles, writeMrc } from '../../src/io/index.js';
import {
  candidatePaths,
  locateStacks,
  outputStackPath,
  remapReference,
} from '../../src/io/stack-references.js';
import { tempDir } from './fixtures.js';

const box = 8;

async function stack(path: string, n = 2): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  await writeMrc(path, new Float32Array(n * box * box).fill(1), { nx: box, ny: box, nz: n, stack: true });
}

const starNaming = (...refs: string[]) =>
  `data_particles\nloop_\n_rlnImageName\n${refs.map((r) => `1@${r}`).join('\n')}\n`;

describe('stack references', () => {
  it('remaps exact paths, base names and the longest folder prefix', () => {
    const remap = { 'a.mrcs': '/x/a.mrcs', 'old/': 'new/', 'old/deep/': '/elsewhere/' };
    expect(remapReference('dir/a.mrcs', remap)).toBe('/x/a.mrcs');
    expect(remapReference('old/b.mrcs', remap)).toBe('new/b.mrcs');
    expect(remapReference('old/deep/c.mrcs', remap)).toBe('/elsewhere/c.mrcs');
    expect(remapReference('other/c.mrcs', remap)).toBeUndefined();
    expect(remapReference('old/b.mrcs', { 'old/': 'new' })).toBe('new/b.mrcs');
  });

  it('looks in the current folder first, then the file folder and the folders above it, then by base name', () => {
    expect(candidatePaths('E/s.mrcs', '/p/Select/job1', '/cwd')).toEqual([
      '/cwd/E/s.mrcs',
      '/p/Select/job1/E/s.mrcs',
      '/p/Select/E/s.mrcs',
      '/p/E/s.mrcs',
      '/E/s.mrcs',
      '/p/Select/job1/s.mrcs',
    ]);
    expect(candidatePaths('/abs/s.mrcs', '/p', '/cwd')).toEqual(['/abs/s.mrcs', '/p/s.mrcs']);
  });

  it('writes paths relative to the current folder inside it, absolute outside it', () => {
    expect(outputStackPath('/cwd/E/s.mrcs', '/cwd')).toBe('E/s.mrcs');
    expect(outputStackPath('E/s.mrcs', '/cwd')).toBe('E/s.mrcs');
    expect(outputStackPath('/other/s.mrcs', '/cwd')).toBe('/other/s.mrcs');
    expect(outputStackPath('/cwd/..x/s.mrcs', '/cwd')).toBe('..x/s.mrcs');
  });

  it('finds the stacks of a RELION project file from the project folder and from elsewhere', async () => {
    const project = tempDir();
    await stack(join(project, 'Extract/job008/Movies/m1.mrcs'));
    await stack(join(project, 'Extract/job008/Movies/m2.mrcs'));
    mkdirSync(join(project, 'Select/job012'), { recursive: true });
    const file = join(project, 'Select/job012/particles.star');
    writeFileSync(file, starNaming('Extract/job008/Movies/m1.mrcs', 'Extract/job008/Movies/m2.mrcs'));
    const fromProject = await locateStacks(
      ['Extract/job008/Movies/m1.mrcs', 'Extract/job008/Movies/m2.mrcs'],
      join(project, 'Select/job012'),
      {},
      project,
    );
    expect(fromProject.paths).toEqual([
      join(project, 'Extract/job008/Movies/m1.mrcs'),
      join(project, 'Extract/job008/Movies/m2.mrcs'),
    ]);
    // from the test's folder (not the project): found two folders above the STAR file
    const set = await openParticles(relative(process.cwd(), file));
    expect(set.stacks).toEqual(fromProject.paths);
    await set.close();
  });

  it('finds stacks beside the STAR file, and applies folder remapping', async () => {
    const dir = tempDir();
    await stack(join(dir, 'here.mrcs'));
    await stack(join(dir, 'moved/s.mrcs'));
    writeFileSync(join(dir, 'p.star'), starNaming('here.mrcs', '/gone/away/s.mrcs'));
    await expect(openParticles(join(dir, 'p.star'))).rejects.toThrow(/away\/s.mrcs/);
    const set = await openParticles(join(dir, 'p.star'), { remap: { '/gone/away/': `${dir}/moved/` } });
    expect(set.stacks).toEqual([join(dir, 'here.mrcs'), join(dir, 'moved/s.mrcs')]);
    await set.close();
  });

  it('the missing-stack error names the folders searched and --remap', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.star'), starNaming('nowhere/s.mrcs'));
    const err = await openParticles(join(dir, 'p.star')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    const message = (err as FormatError).message;
    expect((err as FormatError).code).toBe('ERR_MISSING_STACKS');
    expect(message).toContain(process.cwd());
    expect(message).toContain(resolve(dir));
    expect(message).toContain('--remap OLD_DIR/=NEW_DIR/');
  });

  it('a mistyped input says "no such file"; a 3D map is refused', async () => {
    const dir = tempDir();
    for (const name of ['typo.star', 'typo.mrcs', 'typo.cs'])
      await expect(openParticles(join(dir, name))).rejects.toMatchObject({
        code: 'ERR_FILE_NOT_FOUND',
        message: expect.stringContaining('no such file') as unknown,
      });
    await writeMrc(join(dir, 'map.mrc'), new Float32Array(box ** 3), { nx: box, ny: box, nz: box });
    await expect(openParticles(join(dir, 'map.mrc'))).rejects.toMatchObject({
      code: 'ERR_NOT_IMAGES',
      message: expect.stringContaining('3D map') as unknown,
    });
    await writeMrc(join(dir, 'images.mrcs'), new Float32Array(box ** 3), { nx: box, ny: box, nz: box });
    const set = await openParticles(join(dir, 'images.mrcs'));
    expect(set.count).toBe(box);
    await set.close();
  });
});
