/**
 * The failures of the red-team pass on `ackmeans serve` (issue 14), each reproduced on loopback
 * with the real input inspector and the test worker: upload swap after the check, probing outside
 * files through a STAR/.cs, content types, authentication headers, job views without server
 * paths or pids, deleting jobs and uploads, paging and the state filter, duplicate query
 * parameters and the upload quota.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBenchStack } from '../../scripts/bench/util-stack.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { client, fakeServerOptions, removeDir, tempDir, TOKEN } from './helpers.js';
import Database from 'better-sqlite3';

let dir: string;
let root: string;
let work: string;
let server: RunningServer;
let api: ReturnType<typeof client>;

function star(stacks: string[], n: number): string {
  const rows = Array.from({ length: n }, (_, i) => `${(i % 10) + 1}@${stacks[i % stacks.length]}`);
  return `data_particles\n\nloop_\n_rlnImageName #1\n${rows.join('\n')}\n`;
}

/** A minimal cryoSPARC .cs (numpy structured array): blob/path and blob/idx of `n` particles. */
function cs(stack: string, n: number): Uint8Array {
  const width = 128;
  let header = `{'descr': [('blob/path', '|S${width}'), ('blob/idx', '<u4')], 'fortran_order': False, 'shape': (${n},), }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1, ' ') + '\n';
  const item = width + 4;
  const out = new Uint8Array(10 + header.length + n * item);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  for (let i = 0; i < n; i++) {
    const at = 10 + header.length + i * item;
    out.set(Buffer.from(stack, 'latin1'), at);
    dv.setUint32(at + width, i % 10, true);
  }
  return out;
}

beforeAll(async () => {
  dir = await tempDir('hardening');
  root = join(dir, 'root');
  work = join(dir, 'work');
  await mkdir(root);
  await mkdir(join(dir, 'outside'));
  await writeBenchStack(root, 12, 16, 'inside.mrcs');
  await writeBenchStack(join(dir, 'outside'), 12, 16, 'secret.mrcs');
  await writeFile(join(root, 'passwd.star'), star(['/etc/passwd'], 3));
  await writeFile(join(root, 'nowhere.star'), star(['/nonexistent-dir/x.mrcs'], 3));
  await writeFile(join(root, 'outside.star'), star([join(dir, 'outside', 'secret.mrcs')], 3));
  await writeFile(join(root, 'passwd.cs'), cs('/etc/passwd', 3));
  await writeFile(join(root, 'nowhere.cs'), cs('/nonexistent-dir/x.mrcs', 3));
  await writeFile(join(root, 'inside.cs'), cs('inside.mrcs', 3));
  await writeFile(join(root, 'many.star'), star(['inside.mrcs'], 200));
  await writeFile(join(root, 'inside.star'), star(['inside.mrcs'], 10));
  const options = fakeServerOptions({
    workDir: work,
    dataRoots: [root],
    limits: { maxParticles: 100, maxUploadBytes: 200_000, uploadQuotaBytes: 30_000 },
  });
  server = await startServer({ ...options, inspect: undefined });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

describe('no probing outside files through a STAR or .cs file (403 before anything is opened)', () => {
  it('answers the same 403 for an existing outside file, a missing one and an outside stack', async () => {
    const bodies: unknown[] = [];
    for (const input of ['passwd.star', 'nowhere.star', 'outside.star', 'passwd.cs', 'nowhere.cs']) {
      const r = await api.post('/v1/jobs', { input, params: { k: 2 } });
      expect(r.status, input).toBe(403);
      expect(r.text).not.toMatch(/passwd|nonexistent|secret|size|mode|outside\//);
      bodies.push(r.body);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({
      error: 'the input names a stack file outside the data roots',
      code: 'ERR_PATH_FORBIDDEN',
    });
  });

  it('still accepts STAR and .cs files naming stacks inside the roots', async () => {
    for (const input of ['inside.star', 'inside.cs']) {
      const r = await api.post('/v1/jobs', { input, params: { k: 2 } });
      expect(r.status, input).toBe(201);
    }
  });

  it('refuses a STAR file above --max-particles while reading it (422)', async () => {
    const r = await api.post('/v1/jobs', { input: 'many.star', params: { k: 2 } });
    expect(r.status).toBe(422);
    expect(r.body.error).toBe("the input has more than 100 particles, this server's limit (--max-particles)");
  });
});

describe('uploads used by a job cannot be swapped', () => {
  it('keeps the checked files for the job: re-uploading a name is refused, deleting the upload does not matter', async () => {
    const stack = await readFile(join(root, 'inside.mrcs'));
    const a = await api.post<{ id: string }>('/v1/uploads?name=p.mrcs', new Uint8Array(stack));
    expect(a.status).toBe(201);
    const id = a.body.id;
    const s = await api.post(
      `/v1/uploads?name=p.star&id=${id}`,
      new TextEncoder().encode(star(['p.mrcs'], 10)),
    );
    expect(s.status).toBe(201);
    const job = await api.post<{ id: string; input: unknown }>('/v1/jobs', {
      input: { upload: id },
      params: { k: 2 },
    });
    expect(job.status).toBe(201);
    expect(job.body.input).toEqual({ upload: id });
    // The swap: a bigger stack under the same name (would bypass --max-particles) is refused…
    await writeBenchStack(dir, 150, 16, 'big.mrcs');
    const swap = await api.post(
      `/v1/uploads?name=p.mrcs&id=${id}`,
      new Uint8Array(await readFile(join(dir, 'big.mrcs'))),
    );
    expect(swap.status).toBe(409);
    expect(swap.body.code).toBe('ERR_UPLOAD_EXISTS');
    // …and the job runs on its own links to the checked files, whatever happens to the upload.
    expect((await api.del(`/v1/uploads/${id}`)).status).toBe(200);
    expect(existsSync(join(work, 'uploads', id))).toBe(false);
    const db = new Database(join(work, 'ackmeans.db'), { readonly: true });
    const row = db.prepare('SELECT input FROM jobs WHERE id = ?').get(job.body.id) as { input: string };
    db.close();
    expect(row.input.startsWith(join(work, 'jobs', job.body.id, '.input'))).toBe(true);
    // The worker gets the checked stack files, not a name to look up again.
    const remap = (db2: Database.Database) =>
      db2.prepare('SELECT remap FROM jobs WHERE id = ?').get(job.body.id) as { remap: string };
    const db2 = new Database(join(work, 'ackmeans.db'), { readonly: true });
    expect(JSON.parse(remap(db2).remap)).toEqual({
      'p.mrcs': join(await realpath(work), 'jobs', job.body.id, '.input', 'p.mrcs'),
    });
    db2.close();
    expect(await readFile(join(work, 'jobs', job.body.id, '.input', 'p.mrcs'))).toEqual(stack);
    // A submission from a deleted upload is a 404.
    expect((await api.post('/v1/jobs', { input: { upload: id }, params: { k: 2 } })).status).toBe(404);
  });

  it('a refused submission leaves no staged copy behind', async () => {
    const up = await api.post<{ id: string }>(
      '/v1/uploads?name=q.star',
      new TextEncoder().encode(star(['/etc/passwd'], 3)),
    );
    const before = await readdir(join(work, 'jobs'));
    const r = await api.post('/v1/jobs', { input: { upload: up.body.id }, params: { k: 2 } });
    expect(r.status).toBe(403);
    expect(await readdir(join(work, 'jobs'))).toEqual(before);
  });
});

describe('uploads: quota, failures, duplicate parameters', () => {
  it('answers 507 once the upload quota is used, and frees space on delete', async () => {
    const used: string[] = [];
    let last = 201;
    for (let i = 0; i < 10 && last === 201; i++) {
      const r = await api.post<{ id: string; code?: string }>(
        `/v1/uploads?name=f${i}.mrcs`,
        new Uint8Array(8000),
      );
      last = r.status;
      if (r.status === 201) used.push(r.body.id);
      else {
        expect(r.status).toBe(507);
        expect(r.body.code).toBe('ERR_QUOTA');
      }
    }
    expect(last).toBe(507);
    for (const id of used) expect((await api.del(`/v1/uploads/${id}`)).status).toBe(200);
    expect((await api.post('/v1/uploads?name=again.mrcs', new Uint8Array(8000))).status).toBe(201);
  });

  it('leaves no empty folder behind a failed upload', async () => {
    const before = await readdir(join(work, 'uploads'));
    expect((await api.post('/v1/uploads?name=big.mrcs', new Uint8Array(300_000))).status).toBe(413);
    expect((await api.post('/v1/uploads?name=big.mrcs', new Uint8Array(40_000))).status).toBe(507);
    expect(await readdir(join(work, 'uploads'))).toEqual(before);
  });

  it('refuses a duplicate id or name parameter instead of starting a new upload', async () => {
    const up = await api.post<{ id: string }>('/v1/uploads?name=d.mrcs', new Uint8Array(10));
    const before = await readdir(join(work, 'uploads'));
    const r = await api.post(`/v1/uploads?name=e.mrcs&id=${up.body.id}&id=${up.body.id}`, new Uint8Array(10));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/id .* once/);
    expect((await api.post('/v1/uploads?name=e.mrcs&name=f.mrcs', new Uint8Array(10))).status).toBe(400);
    expect(await readdir(join(work, 'uploads'))).toEqual(before);
  });
});

describe('requests and answers', () => {
  it('answers text/plain job bodies with 415 and a code', async () => {
    const r = await api.request(
      'POST',
      '/v1/jobs',
      JSON.stringify({ input: 'inside.star', params: { k: 2 } }),
      {
        'content-type': 'text/plain',
      },
    );
    expect(r.status).toBe(415);
    expect(r.body.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('sends WWW-Authenticate with 401', async () => {
    const res = await fetch(`${server.url}/v1/jobs`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ackmeans"');
  });

  it('names the input as the client gave it and shows no server paths or worker pids', async () => {
    const r = await api.post<{ id: string }>('/v1/jobs', { input: 'inside.star', params: { k: 2 } });
    const job = await api.waitFinal(r.body.id);
    const text = JSON.stringify(job);
    expect(job).not.toHaveProperty('pid');
    expect(job.input).toBe('inside.star');
    expect(text).not.toContain(dir);
    // The test worker cannot read a STAR file: its error names the file without the server path.
    expect(job.state).toBe('failed');
    expect(job.error).not.toContain(root);
  });

  it('gives a readable reason for a malformed input field', async () => {
    const r = await api.post('/v1/jobs', { input: 42, params: { k: 2 } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^input: must be a file path under a data root/);
  });
});

describe('jobs: delete, paging and the state filter', () => {
  it('lists a page of jobs of one state and deletes finished jobs with their files', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (await api.post<{ id: string }>('/v1/jobs', { input: 'inside.mrcs', params: { k: 2 } })).body.id,
      );
    for (const id of ids) await api.waitFinal(id);
    const all = await api.get<{ jobs: { id: string; state: string }[]; total: number }>('/v1/jobs');
    const failed = await api.get<{ jobs: { id: string; state: string }[]; total: number }>(
      '/v1/jobs?state=failed&limit=2&offset=1',
    );
    expect(failed.status).toBe(200);
    expect(failed.body.jobs.length).toBeLessThanOrEqual(2);
    expect(failed.body.jobs.every((j) => j.state === 'failed')).toBe(true);
    const failedIds = all.body.jobs.filter((j) => j.state === 'failed').map((j) => j.id);
    expect(failed.body.total).toBe(failedIds.length);
    expect(failed.body.jobs.map((j) => j.id)).toEqual(failedIds.slice(1, 3));
    expect((await api.get('/v1/jobs?state=bogus')).status).toBe(400);
    expect((await api.get('/v1/jobs?limit=0')).status).toBe(400);

    const del = await api.del(`/v1/jobs/${ids[0]}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ id: ids[0], deleted: true });
    expect((await api.get(`/v1/jobs/${ids[0]}`)).status).toBe(404);
    expect(existsSync(join(work, 'jobs', ids[0]))).toBe(false);
  });
});

describe('token file', () => {
  it('reads the token from a file', async () => {
    const file = join(dir, 'token');
    await writeFile(file, `${TOKEN}\n`);
    const options = fakeServerOptions({ workDir: join(dir, 'work-token'), dataRoots: [root] });
    const s = await startServer({ ...options, token: undefined, tokenFile: file });
    try {
      expect((await client(s.url).get('/v1/jobs')).status).toBe(200);
      expect((await client(s.url, 'wrong-token-123').get('/v1/jobs')).status).toBe(401);
    } finally {
      await s.close();
    }
  });
});
