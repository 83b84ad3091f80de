/**
 * One server per work directory: `<work-dir>/server.pid` holds the pid of the server using it and
 * that process's start time (Linux: from /proc). A lock whose process is gone (even after
 * `kill -9`) or whose pid now belongs to another process (pids are reused: the start time
 * differs, or — for a lock without a start time — the process is not an ackmeans server) is
 * taken over; a lock held by a live server is refused.
 *
 * Taking over is safe against two servers starting at once: the stale file is first renamed to
 * a name of our own, and put back if what we renamed was not the stale lock we examined.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckmeansError } from '../errors.js';

/** Start time of process `pid` (clock ticks since boot; Linux), or undefined. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock text names a live server (not a dead one, not another process). */
function holderAlive(text: string): { pid: number; live: boolean } {
  const [pidText, started] = text.trim().split(/\s+/);
  const pid = Number.parseInt(pidText, 10);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !alive(pid)) return { pid, live: false };
  const now = processStartTime(pid);
  if (now === undefined) return { pid, live: true }; // no /proc: trust the pid
  if (started !== undefined) return { pid, live: started === now };
  // An older lock without a start time: live only if the process looks like an ackmeans server.
  const cmdline = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  })();
  return { pid, live: /ackmeans|serve|cli\.[jt]s|launch/.test(cmdline) };
}

/** Takes the work-directory lock; returns its release function. */
export function lockWorkDir(workDir: string): () => void {
  const file = join(workDir, 'server.pid');
  const mine = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim() + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      return () => {
        // Release only our own lock.
        try {
          if (readFileSync(file, 'utf8') === mine) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // released meanwhile
    }
    const holder = holderAlive(text);
    if (holder.live)
      throw new AckmeansError(
        'ERR_WORKDIR_LOCKED',
        `work directory ${workDir} is in use by server pid ${holder.pid}`,
        {
          file,
        },
      );
    // Stale: move it aside under our own name, and check that it is what we examined.
    const aside = `${file}.${randomUUID()}.stale`;
    try {
      renameSync(file, aside);
    } catch {
      continue; // someone else took it over first
    }
    const moved = readFileSync(aside, 'utf8');
    if (moved !== text) {
      // A new lock was written between our read and our rename: put it back, unless replaced.
      try {
        linkSync(aside, file);
      } catch {
        // a third server holds the lock now
      }
    }
    rmSync(aside, { force: true });
  }
  throw new AckmeansError('ERR_WORKDIR_LOCKED', `could not lock work directory ${workDir}`, { file });
}
