/**
 * Runs a server in a child process, so a test can kill it with SIGKILL: either the test-worker
 * launcher (fixtures/launch.ts) or the real command line (`ackmeans serve`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TOKEN } from './helpers.js';

const LAUNCH = fileURLToPath(new URL('./fixtures/launch.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** A server process. */
export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

function launch(args: string[], urlOf: (line: string) => string | undefined): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ACKMEANS_TOKEN: TOKEN },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const url = urlOf(line);
      if (url) resolve({ url, pid: child.pid!, child, exited });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
}

/** Starts `fixtures/launch.ts` (the test worker) with these options; resolves once it listens. */
export function launchServer(options: Record<string, unknown>): Promise<ServerProcess> {
  return launch([LAUNCH, JSON.stringify(options)], (line) => (JSON.parse(line) as { url: string }).url);
}

/** Starts `ackmeans serve <args>` (token from the environment); resolves once it listens. */
export function launchCli(args: string[]): Promise<ServerProcess> {
  return launch([CLI, 'serve', '--port', '0', ...args], (line) => /listening on (\S+)/.exec(line)?.[1]);
}
