/**
 * Runs a server in a child process (fixtures/launch.ts), so a test can kill it with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const LAUNCH = fileURLToPath(new URL('./fixtures/launch.ts', import.meta.url));

/** A server process. */
export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** Starts `fixtures/launch.ts` with these options; resolves once it listens. */
export function launchServer(options: Record<string, unknown>, script = LAUNCH): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const { url } = JSON.parse(line) as { url: string };
      resolve({ url, pid: child.pid!, child, exited });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
}
