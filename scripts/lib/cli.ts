/**
 * Command-line plumbing shared by `scripts/compare-relion` and `scripts/reproduce-paper`:
 * list options, running a commander program as a script (one-line errors, exit codes 1 and 2).
 */
import { type Command, CommanderError, InvalidArgumentError, type OptionValues } from 'commander';
import { fileURLToPath } from 'node:url';
import { describeError, EXIT_FAILURE, EXIT_USAGE } from '../../src/cli/common.js';
import { parseSnr } from '../../src/cli/simulate.js';

/** Parses "a,b,c" where every item must be one of `allowed`; keeps the given order, drops repeats. */
export function parseChoices<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value.split(',').map((s) => s.trim().toLowerCase());
    const bad = items.find((s) => !allowed.includes(s as T));
    if (bad !== undefined || items.length === 0)
      throw new InvalidArgumentError(
        `${name} takes a comma-separated list of ${allowed.join(', ')}; got "${value}"`,
      );
    return [...new Set(items)] as T[];
  };
}

/** Parses a comma-separated list of SNRs ("1/3,1/10,1/30" or "0.1"). */
export function parseSnrList(value: string): number[] {
  return value.split(',').map((s) => parseSnr(s));
}

/** An SNR as people write it: 1/30 rather than 0.0333. */
export function formatSnr(snr: number): string {
  const inverse = 1 / snr;
  return snr < 1 && Math.abs(inverse - Math.round(inverse)) < 1e-9 ? `1/${Math.round(inverse)}` : String(snr);
}

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === process.argv[1];
}

/**
 * Parses `argv` (the arguments after the script name) with `command` (its options only, no
 * action) and returns its option values. @throws CommanderError for a usage error or --help.
 */
export function parseOptions<T>(command: Command, argv: readonly string[]): T {
  command.exitOverride().configureOutput({ writeErr: () => {} });
  command.parse([...argv], { from: 'user' });
  return command.opts<T & OptionValues>();
}

/**
 * Runs a script's `main`: a usage error prints `<name>: <message>` and exits with 2 (--help
 * prints the help and exits with 0), a failure prints `<name>: <one line>` and exits with 1
 * (ACKMEANS_DEBUG=1 prints the stack).
 */
export async function runScript(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
      process.stderr.write(`${name}: ${err.message.replace(/^error: /, '')}\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`${name}: ${describeError(err)}\n`);
    if (process.env.ACKMEANS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(err instanceof TypeError || err instanceof RangeError ? EXIT_USAGE : EXIT_FAILURE);
  }
}
