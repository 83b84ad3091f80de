/**
 * A lock file holding the pid of the process that owns something (a server's work directory, a
 * classification's output folder) and that process's start time (Linux, from /proc). Created
 * with O_EXCL, so of two processes only one gets it. A lock left by a process that died (even by
 * `kill -9`) is taken over, and so is one whose pid now belongs to another process (pids are
 * reused: the start time differs; a lock written without a start time counts as held only while
 * its pid runs an ackmeans command line). A live holder is refused.
 *
 * Taking over is safe against two processes doing it at once: the stale file is renamed aside
 * under a name of our own and put back if what was renamed is not the stale lock examined.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** Start time of process `pid` (clock ticks since boot, from /proc), or undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readLock(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pid written in a lock file, if the file exists and holds one. */
export function lockOwner(file: string): number | undefined {
  const text = readLock(file);
  if (text === undefined) return undefined;
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Lock files this process holds (a pid alone cannot tell two holders in one process apart). */
const heldHere = new Set<string>();

/** Whether the lock text names a live holder (see the module documentation). */
function textHeld(file: string, text: string): boolean {
  const [pidText, started] = text.trim().split(/\s+/);
  const pid = Number.parseInt(pidText, 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return heldHere.has(resolve(file));
  if (!processAlive(pid)) return false;
  const now = processStartTime(pid);
  if (now === undefined) return true; // no /proc: trust the pid
  if (started !== undefined) return started === now;
  const cmdline = readLock(`/proc/${pid}/cmdline`) ?? '';
  return /ackmeans|cli\.[jt]s|launch\.[jt]s/.test(cmdline);
}

/** True when `file` is a lock held by a live process (this one included, for locks it took). */
export function lockHeld(file: string): boolean {
  const text = readLock(file);
  return text !== undefined && textHeld(file, text);
}

/**
 * Takes the lock `file`; returns its release function (which removes only its own lock).
 * @param refused the error to throw when a live process (its pid given) holds the lock.
 */
export function takePidLock(file: string, refused: (pid: number) => AckmeansError): () => void {
  const mine = `${`${process.pid} ${processStartTime(process.pid) ?? ''}`.trim()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      const key = resolve(file);
      heldHere.add(key);
      return () => {
        heldHere.delete(key);
        if (readLock(file) === mine) rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = readLock(file);
    if (text === undefined) continue; // released meanwhile
    if (textHeld(file, text)) throw refused(lockOwner(file) ?? 0);
    const aside = `${file}.${randomUUID()}.stale`;
    try {
      renameSync(file, aside);
    } catch {
      continue; // another process moved it first
    }
    if (readLock(aside) !== text) {
      // A fresh lock was written between our read and our rename: put it back.
      try {
        linkSync(aside, file);
      } catch {
        // a third process holds the lock now
      }
    }
    rmSync(aside, { force: true });
  }
  throw refused(lockOwner(file) ?? 0);
}
