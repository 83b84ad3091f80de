/** The package version (package.json), as outputs record it (report.json, note.txt, .csg files, MRC labels). */
import { readFileSync } from 'node:fs';

export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
