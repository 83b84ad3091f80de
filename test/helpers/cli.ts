/** Runs the `ackmeans` CLI for command-line tests: from source in a child process, or in-process. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, CommanderError } from 'commander';
import { vi } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Resolves with the exit code and output (never rejects on a non-zero exit). */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      // a hung child is killed (and the test fails) after 5 minutes, far above any run under load
      { cwd: root, timeout: 300_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Runs one command in this process (fast under load): `register` adds it to a fresh program.
 * Exit code 2 for usage errors, as src/cli.ts maps them; otherwise process.exitCode.
 */
export async function runCommand(
  register: (program: Command) => void,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = new Command()
    .exitOverride()
    .configureOutput({ writeOut: (t) => (stdout += t), writeErr: (t) => (stderr += t) });
  register(program);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((t) => ((stdout += String(t)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((t) => ((stderr += String(t)), true));
  try {
    await program.parseAsync(['node', 'ackmeans', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { code: 2, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}
