/**
 * A check of an output folder before anything creates it: Node's recursive mkdir loops forever
 * under /proc (and /sys), and a path through a file fails with a raw ENOTDIR.
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { AckmeansError } from '../errors.js';

/** Kernel file systems no output can be written into. */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

/**
 * Checks that `dir` can be an output folder: its nearest existing ancestor (symbolic links
 * resolved) is a folder and not inside /proc, /sys or /dev. Throws an AckmeansError
 * `ERR_OUTPUT_DIR` naming the folder and the reason.
 */
export async function checkOutputDir(dir: string): Promise<void> {
  const wanted = resolve(dir);
  let existing = wanted;
  for (;;) {
    const st = await stat(existing).catch(() => undefined);
    if (st) {
      if (!st.isDirectory())
        throw new AckmeansError(
          'ERR_OUTPUT_DIR',
          `ackmeans: cannot use ${wanted} as the output folder: ${existing} is not a folder`,
          { file: wanted },
        );
      break;
    }
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const real = await realpath(existing).catch(() => existing);
  const inside = VIRTUAL_ROOTS.find((root) => {
    const r = relative(root, real);
    return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== real);
  });
  if (inside)
    throw new AckmeansError(
      'ERR_OUTPUT_DIR',
      `ackmeans: cannot use ${wanted} as the output folder: it is inside ${inside}, a kernel file system`,
      { file: wanted },
    );
}
