/**
 * Layers (issue 11): `import('ackmeans')` and `ackmeans --version` load neither the job server
 * (fastify, better-sqlite3) nor the report (vega); those come with the `ackmeans/server` and
 * `ackmeans/report` entry points. Each case runs the built package (dist/) in a child process with
 * a module hook that records every module it loads.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ackmeans-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The hook appends each loaded module's URL to $ACKMEANS_TRACE (ES modules and the CommonJS
// modules they import); require.cache adds the CommonJS modules those require in turn.
const hook = join(dir, 'hook.mjs');
writeFileSync(
  hook,
  `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.ACKMEANS_TRACE, url + '\\n');
  return next(url, context);
}
`,
);
const registerHook = join(dir, 'register.mjs');
writeFileSync(
  registerHook,
  `import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
register(${JSON.stringify(pathToFileURL(hook).href)});
process.on('exit', () => {
  const cache = Object.keys(createRequire(import.meta.url).cache);
  appendFileSync(process.env.ACKMEANS_TRACE, cache.join('\\n') + '\\n');
});
`,
);

let runs = 0;
/** The packages (folders under node_modules) a child process loaded. */
async function packagesLoaded(args: string[]): Promise<Set<string>> {
  const trace = join(dir, `trace-${runs++}.txt`);
  writeFileSync(trace, '');
  await promisify(execFile)(process.execPath, ['--import', registerHook, ...args], {
    cwd: root,
    env: { ...process.env, ACKMEANS_TRACE: trace },
    timeout: 300_000,
  });
  const names = new Set<string>();
  for (const m of readFileSync(trace, 'utf8').matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g))
    names.add(m[1]);
  return names;
}

const importing = (what: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(what)})`];
const HEAVY = ['fastify', 'better-sqlite3', 'vega'];

describe('entry points load only what they need', () => {
  it('dist/ is built', () => {
    expect(existsSync(join(root, 'dist/index.js')), 'run npm run build:ts first').toBe(true);
  });

  it("import('ackmeans') loads neither the server nor the report", { timeout: 600_000 }, async () => {
    const loaded = await packagesLoaded(importing('ackmeans'));
    expect(loaded.has('zod')).toBe(true); // the trace sees packages at all
    for (const name of HEAVY) expect(loaded.has(name), name).toBe(false);
  });

  it('ackmeans --version loads neither the server nor the report', { timeout: 600_000 }, async () => {
    const loaded = await packagesLoaded(['dist/cli.js', '--version']);
    expect(loaded.has('commander')).toBe(true);
    for (const name of HEAVY) expect(loaded.has(name), name).toBe(false);
  });

  it("'ackmeans/server' and 'ackmeans/report' do load them", { timeout: 600_000 }, async () => {
    const server = await packagesLoaded(importing('ackmeans/server'));
    expect(server.has('fastify')).toBe(true);
    expect(server.has('better-sqlite3')).toBe(true);
    const report = await packagesLoaded(importing('ackmeans/report'));
    expect(report.has('vega')).toBe(true);
  });
});
