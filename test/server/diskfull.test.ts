/**
 * A full disk (issue 14): the server's work directory on a small tmpfs. An upload that runs out of
 * space is a 507 and leaves nothing behind; a job running while the disk fills fails with a clear
 * reason (whether its outputs or the job store could not be written), the server keeps serving,
 * and once space is freed the next job runs. Needs `mount -t tmpfs` (root); skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { open, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/serve.js';
import { client, removeDir, startFakeServer, tempDir, writeSpec } from './helpers.js';

const base = await tempDir('diskfull');
const mnt = join(base, 'mnt');
await mkdir(mnt);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]).status === 0;
if (!mounted)
  console.warn('diskfull.test: skipped: cannot mount a tmpfs here (needs root and mount -t tmpfs)');

let server: RunningServer;
let api: ReturnType<typeof client>;
const filler = join(mnt, 'filler');

/** Writes `filler` until the file system is full. */
async function fillDisk(): Promise<void> {
  const f = await open(filler, 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await f.write(chunk);
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await f.close().catch(() => {});
  }
}

beforeAll(async () => {
  if (!mounted) return;
  const root = join(base, 'data');
  await mkdir(root);
  await writeSpec(root, 'slow.star', { particles: 20, box: 32, iterationMs: 150 });
  await writeSpec(root, 'quick.star', { particles: 20, box: 32 });
  server = await startFakeServer({
    workDir: join(mnt, 'work'),
    dataRoots: [root],
    limits: { maxUploadBytes: 64 * 1024 * 1024 },
  });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
  if (mounted) spawnSync('umount', ['-l', mnt]);
  await removeDir(base);
});

describe.skipIf(!mounted)('a full disk', () => {
  it('answers an upload that runs out of space with 507 and keeps nothing of it', async () => {
    const before = await readdir(join(mnt, 'work', 'uploads'));
    const r = await api.post('/v1/uploads?name=big.mrcs', new Uint8Array(8 * 1024 * 1024));
    expect(r.status).toBe(507);
    expect(r.body).toEqual({
      error: "the server's disk is full: the upload was not stored",
      code: 'ERR_NO_SPACE',
    });
    expect(await readdir(join(mnt, 'work', 'uploads'))).toEqual(before);
  });

  it('fails a job running while the disk fills, with the reason, and keeps serving', async () => {
    const r = await api.post<{ id: string }>('/v1/jobs', {
      input: 'slow.star',
      params: { k: 2, maxIter: 60 },
    });
    expect(r.status).toBe(201);
    await api.waitFor(r.body.id, (j) => j.state === 'running' && (j.progress?.iteration as number) >= 1);
    await fillDisk();
    // The server answers while the disk is full…
    for (let i = 0; i < 5; i++) expect((await api.get('/v1/health')).status).toBe(200);
    // …and once space is back, the job's end is recorded (retried if the store could not write).
    await new Promise((res) => setTimeout(res, 1500));
    await rm(filler);
    const job = await api.waitFinal(r.body.id, 60_000);
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/^the server's disk is full: /);
    const next = await api.post<{ id: string }>('/v1/jobs', { input: 'quick.star', params: { k: 2 } });
    expect(next.status).toBe(201);
    expect((await api.waitFinal(next.body.id, 60_000)).state).toBe('succeeded');
  });
});
