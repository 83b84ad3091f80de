/**
 * Helpers shared by the CLI commands: one clear line on failure, a non-zero exit.
 */
import { InvalidArgumentError } from 'commander';
import { describeError } from '../errors.js';

export { describeError };

/** Exit codes: 1 = the job or input failed, 2 = the command line is wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Wraps a command action: errors print `ackmeans: <one line>` on stderr and set a non-zero exit
 * code (2 for TypeError/RangeError, which are argument mistakes). Set ACKMEANS_DEBUG=1 to see stacks.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const line = describeError(err);
      process.stderr.write(`ackmeans: ${line.replace(/^ackmeans:\s*/, '')}\n`);
      if (process.env.ACKMEANS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err instanceof TypeError || err instanceof RangeError ? EXIT_USAGE : EXIT_FAILURE;
    }
  };
}

/** Parses a CLI integer option, naming the option in the error (a usage error: exit code 2). */
export function parseIntOption(name: string) {
  return (value: string): number => {
    const v = Number(value);
    if (!Number.isInteger(v)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
    return v;
  };
}

/** Parses a CLI number option, naming the option in the error. */
export function parseNumberOption(name: string) {
  return (value: string): number => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v))
      throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    return v;
  };
}
