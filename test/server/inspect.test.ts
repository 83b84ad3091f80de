/**
 * What the server reads from a real input before queueing it (io's openParticles): count, box,
 * pixel size and the stacks a STAR file names, which must lie inside the data roots too.
 */
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBenchStack } from '../../scripts/bench/util-stack.js';
import { inspectInput } from '../../src/server/inspect.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { client, fakeServerOptions, removeDir, tempDir } from './helpers.js';

let dir: string;
let root: string;
let outside: string;
let server: RunningServer;
let api: ReturnType<typeof client>;

function star(stack: string, n: number): string {
  const rows = Array.from({ length: n }, (_, i) => `${String(i + 1).padStart(6, '0')}@${stack}`);
  return `data_particles\n\nloop_\n_rlnImageName #1\n${rows.join('\n')}\n`;
}

beforeAll(async () => {
  dir = await tempDir('inspect');
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeBenchStack(root, 12, 16, 'inside.mrcs');
  await writeBenchStack(outside, 12, 16, 'secret.mrcs');
  await writeFile(join(root, 'good.star'), star('inside.mrcs', 10));
  await writeFile(join(root, 'escape.star'), star(join(outside, 'secret.mrcs'), 10));
  await writeFile(join(root, 'dotdot.star'), star('../outside/secret.mrcs', 10));
  await symlink(join(outside, 'secret.mrcs'), join(root, 'link.mrcs'));
  await writeFile(join(root, 'via-link.star'), star('link.mrcs', 10));
  await writeFile(join(root, 'missing.star'), star('nowhere.mrcs', 3));
  await writeFile(join(root, 'garbage.mrcs'), 'not an MRC file');
  const options = fakeServerOptions({ workDir: join(dir, 'work'), dataRoots: [root] });
  server = await startServer({ ...options, inspect: undefined });
  api = client(server.url);
  realRoot = await realpath(root);
});
afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

const rules = () => ({ allowed: [realRoot], maxParticles: 1000 });
let realRoot: string;

describe('inspectInput', () => {
  it('reads count, box, pixel size and the real stack paths', async () => {
    const stack = await realpath(join(root, 'inside.mrcs'));
    expect(await inspectInput(join(root, 'inside.mrcs'), rules())).toEqual({
      particles: 12,
      box: 16,
      pixelSize: 4,
      hasCtf: false,
      files: [stack],
    });
    expect(await inspectInput(join(root, 'good.star'), rules())).toMatchObject({
      particles: 10,
      box: 16,
      files: [stack],
    });
  });
});

describe('submission of real inputs', () => {
  it('accepts stacks and STAR files inside the data roots', async () => {
    for (const input of ['inside.mrcs', 'good.star']) {
      const r = await api.post('/v1/jobs', { input, params: { k: 2 } });
      expect(r.status).toBe(201);
    }
  });

  it('refuses STAR files naming stacks outside the data roots (403)', async () => {
    for (const input of ['escape.star', 'dotdot.star', 'via-link.star']) {
      const r = await api.post('/v1/jobs', { input, params: { k: 2 } });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: 'ERR_PATH_FORBIDDEN' });
    }
  });

  it('refuses k > n and unreadable inputs (422) with the reason', async () => {
    const k = await api.post('/v1/jobs', { input: 'good.star', params: { k: 11 } });
    expect(k.status).toBe(422);
    expect(k.body.error).toBe('k = 11 is more than the 10 particles of the input');
    for (const input of ['missing.star', 'garbage.mrcs']) {
      const r = await api.post('/v1/jobs', { input, params: { k: 2 } });
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ code: 'ERR_INPUT' });
      expect(r.body.error).not.toMatch(/\n/);
    }
  });
});
