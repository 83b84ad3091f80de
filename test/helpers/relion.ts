/** RELION 3.1 command-line tools, when installed (tests that use them skip otherwise). */
import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';

/** True when `relion_star_handler` runs on this machine. */
export const hasRelion = (() => {
  const r = spawnSync('relion_star_handler', ['--version'], { encoding: 'utf8' });
  return r.error === undefined;
})();

/** Runs a RELION program; throws with its output when it fails. */
export function relion(program: string, args: string[]): string {
  const r = spawnSync(program, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(`${program} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `describe` when RELION is installed; otherwise a skipped suite that says why. */
export function describeRelion(name: string, body: () => void): void {
  if (hasRelion) describe(name, body);
  else describe.skip(`${name} (skipped: RELION 3.1 is not installed; apt-get install relion)`, body);
}
