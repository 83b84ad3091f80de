/**
 * `npm run bench -- NAME [--json] [options]`: runs scripts/bench/NAME.ts and prints its figures.
 * Each benchmark exports `run(args: string[]): Promise<Record<string, unknown>>` and a
 * `describe` line; with --json only the returned object is printed (one JSON line).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./bench/', import.meta.url));
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('util'))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${names.join('|')}> [--json] [options]\n`);
  process.exit(2);
}
const mod = (await import(`./bench/${name}.ts`)) as {
  run: (args: string[], log: (line: string) => void) => Promise<Record<string, unknown>>;
};
const json = args.includes('--json');
const log = json ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
const result = await mod.run(
  args.filter((a) => a !== '--json'),
  log,
);
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
