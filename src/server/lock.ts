/**
 * One server per work directory: `<work-dir>/server.pid` holds the pid (and start time) of the
 * server using it. A lock left by a server that died (even by `kill -9`), or naming a pid that now
 * belongs to another process, is taken over; a live one is refused (io/pid-lock.ts).
 */
import { join } from 'node:path';
import { AckmeansError } from '../errors.js';
import { takePidLock } from '../io/pid-lock.js';

/** Takes the work-directory lock; returns its release function. */
export function lockWorkDir(workDir: string): () => void {
  const file = join(workDir, 'server.pid');
  return takePidLock(
    file,
    (pid) =>
      new AckmeansError('ERR_WORKDIR_LOCKED', `work directory ${workDir} is in use by server pid ${pid}`, {
        file,
      }),
  );
}
