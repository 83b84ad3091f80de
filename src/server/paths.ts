/**
 * Containment of client-supplied input paths in the server's data roots. A path is accepted only
 * if it has no `..` segment and its real path (symlinks resolved) lies inside the real path of a
 * data root, so neither `..` nor a symlink can lead outside.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { HttpError } from './errors.js';

/** True when `child` is `parent` or lies below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real paths of the data roots (each must exist and be a directory). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    let real: string;
    try {
      real = await realpath(resolve(root));
    } catch {
      throw new HttpError(500, 'ERR_SERVER_CONFIG', `data root ${root} does not exist`, { file: root });
    }
    if (!(await stat(real)).isDirectory())
      throw new HttpError(500, 'ERR_SERVER_CONFIG', `data root ${root} is not a directory`, { file: root });
    out.push(real);
  }
  return out;
}

/**
 * Resolves a client path against the data roots: an absolute path must lie in one of them, a
 * relative one is looked up in each root in turn. Returns the real path of an existing file.
 * Throws 403 (`ERR_PATH_FORBIDDEN`) for `..` segments or anything whose real path escapes the
 * roots, 404 (`ERR_NOT_FOUND`) when no root holds the file.
 */
export async function resolveInside(path: string, roots: readonly string[]): Promise<string> {
  if (path.length === 0 || path.includes('\0'))
    throw new HttpError(400, 'ERR_BAD_REQUEST', 'input path must be a non-empty string');
  if (path.split(/[\\/]+/).includes('..'))
    throw new HttpError(403, 'ERR_PATH_FORBIDDEN', `input path ${path} contains '..'`);
  if (roots.length === 0)
    throw new HttpError(403, 'ERR_PATH_FORBIDDEN', 'this server has no data root: upload the input instead');
  const candidates = isAbsolute(path) ? [resolve(path)] : roots.map((r) => join(r, path));
  let escaped = false;
  for (const candidate of candidates) {
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      continue;
    }
    if (!roots.some((root) => isInside(root, real))) {
      escaped = true;
      continue;
    }
    if (!(await stat(real)).isFile())
      throw new HttpError(400, 'ERR_BAD_REQUEST', `input ${path} is not a file`);
    return real;
  }
  if (escaped || (isAbsolute(path) && !roots.some((root) => isInside(root, resolve(path)))))
    throw new HttpError(403, 'ERR_PATH_FORBIDDEN', `input path ${path} is outside the data roots`);
  throw new HttpError(404, 'ERR_NOT_FOUND', `input ${path} not found under the data roots`);
}
