import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerChecker } from '../../src/server/auth.js';
import { HttpError } from '../../src/server/errors.js';
import { isInside, realRoots, resolveInside } from '../../src/server/paths.js';
import { JobStore } from '../../src/server/store.js';
import { removeDir, tempDir } from './helpers.js';

function status(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return (err as HttpError).status;
  }
  return undefined;
}

async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  return p.then(
    () => undefined,
    (err: HttpError) => err.status,
  );
}

describe('bearerChecker', () => {
  const check = bearerChecker('s3cret-token');
  it('accepts the token and rejects everything else with 401', () => {
    expect(status(() => check('Bearer s3cret-token'))).toBeUndefined();
    expect(status(() => check('bearer   s3cret-token'))).toBeUndefined();
    for (const h of [
      undefined,
      '',
      'Bearer',
      'Bearer s3cret-tokem',
      'Bearer s3cret-token-longer',
      'Basic s3cret-token',
    ])
      expect(status(() => check(h))).toBe(401);
  });
  it('refuses short server tokens', () => {
    expect(() => bearerChecker('short')).toThrow(RangeError);
  });
});

describe('data-root containment', () => {
  let dir: string;
  let roots: string[];
  beforeAll(async () => {
    dir = await tempDir('paths');
    await mkdir(join(dir, 'root', 'sub'), { recursive: true });
    await mkdir(join(dir, 'outside'));
    await writeFile(join(dir, 'root', 'sub', 'a.star'), 'x');
    await writeFile(join(dir, 'outside', 'secret.star'), 'x');
    await symlink(join(dir, 'outside', 'secret.star'), join(dir, 'root', 'link.star'));
    await symlink(join(dir, 'outside'), join(dir, 'root', 'dirlink'));
    await symlink(join(dir, 'root', 'sub', 'a.star'), join(dir, 'root', 'inner.star'));
    roots = await realRoots([join(dir, 'root')]);
  });
  afterAll(() => removeDir(dir));

  it('isInside compares whole path segments', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
  });

  it('resolves relative and absolute paths inside a root, and symlinks that stay inside', async () => {
    const real = join(roots[0], 'sub', 'a.star');
    expect(await resolveInside('sub/a.star', roots)).toBe(real);
    expect(await resolveInside(join(dir, 'root', 'sub', 'a.star'), roots)).toBe(real);
    expect(await resolveInside('inner.star', roots)).toBe(real);
  });

  it('rejects .., symlink escapes and absolute paths outside with 403; unknown files with 404', async () => {
    expect(await statusOf(resolveInside('sub/../sub/a.star', roots))).toBe(403);
    expect(await statusOf(resolveInside('../outside/secret.star', roots))).toBe(403);
    expect(await statusOf(resolveInside('link.star', roots))).toBe(403);
    expect(await statusOf(resolveInside('dirlink/secret.star', roots))).toBe(403);
    expect(await statusOf(resolveInside(join(dir, 'outside', 'secret.star'), roots))).toBe(403);
    expect(await statusOf(resolveInside('/etc/passwd', roots))).toBe(403);
    expect(await statusOf(resolveInside('sub/missing.star', roots))).toBe(404);
    expect(await statusOf(resolveInside('sub', roots))).toBe(400);
    expect(await statusOf(resolveInside('sub/a.star', []))).toBe(403);
  });
});

describe('JobStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('store');
  });
  afterAll(() => removeDir(dir));

  it('claims each queued job once, oldest first, and finishes it once', () => {
    const store = new JobStore(join(dir, 'a.db'));
    const a = store.insert({ input: '/x', params: { k: 2 }, particles: 10, box: 8 });
    const b = store.insert({ input: '/y', params: { k: 3 }, particles: 10, box: 8 });
    expect(store.claimNext()?.id).toBe(a.id);
    expect(store.claimNext()?.id).toBe(b.id);
    expect(store.claimNext()).toBeUndefined();
    expect(store.get(a.id)?.attempts).toBe(1);
    expect(store.finish(a.id, 'succeeded', { summary: { ok: 1 } })).toBe(true);
    expect(store.finish(a.id, 'failed', { error: 'late' })).toBe(false);
    expect(store.get(a.id)).toMatchObject({ state: 'succeeded', summary: { ok: 1 }, error: null });
    expect(store.counts()).toMatchObject({ succeeded: 1, running: 1, queued: 0 });
    store.close();
  });

  it('recovers running jobs to the front of the queue, keeps the trace, and cancels those asked to stop', () => {
    const file = join(dir, 'b.db');
    let store = new JobStore(file);
    const a = store.insert({ input: '/x', params: { k: 2 }, particles: 10, box: 8 });
    const b = store.insert({ input: '/x', params: { k: 2 }, particles: 10, box: 8 });
    const c = store.insert({ input: '/x', params: { k: 2 }, particles: 10, box: 8 });
    store.claimNext();
    store.claimNext();
    store.setPid(a.id, 4242);
    store.addIteration(a.id, 'classes:0', { s: 0.5 });
    store.addIteration(a.id, 'classes:1', { s: 0.2 });
    store.addIteration(a.id, 'classes:1', { s: 0.1 });
    store.requestCancel(b.id);
    store.close();
    store = new JobStore(file);
    expect(store.recover()).toEqual([
      { id: a.id, pid: 4242 },
      { id: b.id, pid: null },
    ]);
    expect(store.get(b.id)?.state).toBe('cancelled');
    expect(store.trace(a.id)).toEqual([{ s: 0.5 }, { s: 0.1 }]);
    const again = store.claimNext();
    expect(again?.id).toBe(a.id);
    expect(again?.attempts).toBe(2);
    expect(store.claimNext()?.id).toBe(c.id);
    store.close();
  });

  it('cancels queued jobs at once but not running ones', () => {
    const store = new JobStore(join(dir, 'c.db'));
    const a = store.insert({ input: '/x', params: { k: 2 }, particles: 10, box: 8 });
    const b = store.insert({ input: '/x', params: { k: 2 }, particles: 10, box: 8 });
    store.claimNext();
    expect(store.cancelQueued(a.id)).toBe(false);
    expect(store.cancelQueued(b.id)).toBe(true);
    expect(store.get(b.id)?.state).toBe('cancelled');
    expect(store.claimNext()).toBeUndefined();
    store.close();
  });
});
