/**
 * The real cryo-EM files in ../shared/data (beside the repository, never copied into it).
 * Tests that need them use `describeShared`, which skips with a message when they are absent.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe } from 'vitest';

/** Absolute path of ../shared/data. */
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data', import.meta.url));

/** True when ../shared/data is present. */
export const hasSharedData = existsSync(SHARED_DATA);

/** Path of a file under ../shared/data. */
export function sharedFile(...parts: string[]): string {
  return join(SHARED_DATA, ...parts);
}

/** `describe` when ../shared/data is present; otherwise a skipped suite that says why. */
export function describeShared(name: string, body: () => void): void {
  if (hasSharedData) describe(name, body);
  else describe.skip(`${name} (skipped: ../shared/data is absent)`, body);
}
