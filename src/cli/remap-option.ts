/**
 * The `--remap OLD=NEW` / `--remap OLD_DIR/=NEW_DIR/` option shared by commands that open particle sets.
 */
import type { Command } from 'commander';

/** Collects repeated `--remap OLD=NEW` values into a record. */
function collectRemap(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new RangeError(`--remap must be OLD=NEW, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Adds `--remap OLD=NEW` (repeatable) to `command`. */
export function remapOption(command: Command): Command {
  return command.option(
    '--remap <old=new>',
    'use file NEW wherever the metadata references stack OLD (a path as written, or a base name), or folder NEW_DIR/ for references starting with OLD_DIR/; repeatable',
    collectRemap,
  );
}
