/**
 * A lock file holding the pid of the process that owns something (a server's work directory, a
 * classification's output folder). Created with O_EXCL, so of two processes only one gets it; a
 * lock left by a process that died (even by `kill -9`) is taken over, a live one is refused.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AckmeansError } from '../errors.js';

/** True when a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid written in a lock file, if the file exists and holds one. */
export function lockOwner(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Lock files this process holds (a pid alone cannot tell two holders in one process apart). */
const heldHere = new Set<string>();

/** True when `file` is a lock held by a live process (this one included, for locks it took). */
export function lockHeld(file: string): boolean {
  const pid = lockOwner(file);
  if (pid === undefined) return false;
  return pid === process.pid ? heldHere.has(resolve(file)) : processAlive(pid);
}

/**
 * Takes the lock `file`; returns its release function.
 * @param refused the error to throw when a live process (its pid given) holds the lock.
 */
export function takePidLock(file: string, refused: (pid: number) => AckmeansError): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      const key = resolve(file);
      heldHere.add(key);
      return () => {
        heldHere.delete(key);
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (lockHeld(file)) throw refused(lockOwner(file)!);
    rmSync(file, { force: true });
  }
  throw refused(lockOwner(file) ?? 0);
}
