/**
 * One server per work directory: `<work-dir>/server.pid` holds the pid of the server using it. A
 * lock left by a server that died (even by `kill -9`) is taken over; a live one is refused.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckmeansError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the work-directory lock; returns its release function. */
export function lockWorkDir(workDir: string): () => void {
  const file = join(workDir, 'server.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid))
      throw new AckmeansError(
        'ERR_WORKDIR_LOCKED',
        `work directory ${workDir} is in use by server pid ${pid}`,
        {
          file,
        },
      );
    rmSync(file, { force: true });
  }
  throw new AckmeansError('ERR_WORKDIR_LOCKED', `could not lock work directory ${workDir}`, { file });
}
