/**
 * Stack references: the paths particle metadata (STAR `_rlnImageName`, cryoSPARC `blob/path`)
 * uses to name each particle's stack, how ackmeans finds the files they mean, and how it names
 * stacks in the STAR files it writes.
 *
 * Lookup ({@link locateStacks}), for a reference as written (after `remap`):
 *   1. relative to the current folder — RELION's convention: paths are relative to the project
 *      folder, where RELION programs run;
 *   2. relative to the metadata file's folder, then to each of the {@link PARENT_LEVELS} folders
 *      above it (a RELION `Select/job012/particles.star` naming `Extract/job008/…` read from
 *      elsewhere; a cryoSPARC `J15/J15_particles.cs` naming project-relative `J12/extract/…`);
 *   3. by its base name in the metadata file's folder (a folder moved as a whole).
 * An absolute reference is tried as written, then by step 3.
 *
 * Written paths ({@link outputStackPath}): relative to the current folder when the stack is
 * inside it (RELION's convention, so `relion_*` programs run there find it), absolute otherwise.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, normalize, relative, resolve, sep } from 'node:path';

/**
 * Particle metadata names each particle's stack by a path: this turns those paths into the list
 * of distinct stacks (in first-seen order) and each particle's index into it.
 */
export function indexStackReferences(paths: readonly string[]): {
  references: string[];
  stackIndex: Int32Array;
} {
  const references: string[] = [];
  const lookup = new Map<string, number>();
  const stackIndex = new Int32Array(paths.length);
  paths.forEach((ref, i) => {
    let s = lookup.get(ref);
    if (s === undefined) {
      s = references.length;
      references.push(ref);
      lookup.set(ref, s);
    }
    stackIndex[i] = s;
  });
  return { references, stackIndex };
}

/** How many folders above the metadata file's folder relative references are looked for in. */
export const PARENT_LEVELS = 4;

/**
 * A reference after `remap`: an exact entry (the path as written, normalised, or its base name)
 * wins; otherwise the longest folder prefix (a key ending in `/`) is replaced. Undefined when no
 * entry applies.
 */
export function remapReference(ref: string, remap: Readonly<Record<string, string>>): string | undefined {
  const exact = remap[ref] ?? remap[normalize(ref)] ?? remap[basename(ref)];
  if (exact !== undefined) return exact;
  let best: string | undefined;
  for (const key of Object.keys(remap))
    if (key.endsWith('/') && ref.startsWith(key) && (best === undefined || key.length > best.length))
      best = key;
  if (best === undefined) return undefined;
  const target = remap[best];
  return target.endsWith('/') || target.endsWith(sep)
    ? target + ref.slice(best.length)
    : `${target}/${ref.slice(best.length)}`;
}

/** The files a reference may mean, in lookup order (see the module documentation). */
export function candidatePaths(ref: string, fileDir: string, cwd: string): string[] {
  const out: string[] = [];
  if (isAbsolute(ref)) out.push(normalize(ref));
  else {
    out.push(resolve(cwd, ref));
    let dir = resolve(fileDir);
    for (let level = 0; level <= PARENT_LEVELS; level++) {
      out.push(resolve(dir, ref));
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  out.push(resolve(fileDir, basename(ref)));
  return [...new Set(out)];
}

/** Where a set of references was found (undefined = missing), and what was searched. */
export interface LocatedStacks {
  /** Per reference: the file found, or undefined. */
  paths: (string | undefined)[];
  /** Per reference: the reference after remapping (equal to it when no remap applied). */
  mapped: string[];
  /** A sentence naming the folders searched, for error messages. */
  searched: string;
}

const isFile = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isFile(),
    () => false,
  );

/**
 * Finds the file each reference means (see the module documentation), a few at a time.
 * @param fileDir the folder of the STAR/.cs file the references come from.
 */
export async function locateStacks(
  references: readonly string[],
  fileDir: string,
  remap: Readonly<Record<string, string>> = {},
  cwd: string = process.cwd(),
): Promise<LocatedStacks> {
  const mapped = references.map((r) => remapReference(r, remap) ?? r);
  const paths: (string | undefined)[] = new Array(references.length);
  let next = 0;
  const worker = async () => {
    while (next < references.length) {
      const i = next++;
      paths[i] = undefined;
      for (const c of candidatePaths(mapped[i], fileDir, cwd))
        if (await isFile(c)) {
          paths[i] = c;
          break;
        }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, references.length) }, worker));
  const searched =
    `looked for relative to the current folder ${cwd}, to ${resolve(fileDir)} and the ${PARENT_LEVELS} folders above it, ` +
    `and by base name in ${resolve(fileDir)}; point at moved files with --remap OLD=NEW or --remap OLD_DIR/=NEW_DIR/`;
  return { paths, mapped, searched };
}

/**
 * How a STAR file ackmeans writes names the stack at `path`: relative to `cwd` when inside it,
 * absolute otherwise (see the module documentation).
 */
export function outputStackPath(path: string, cwd: string = process.cwd()): string {
  const abs = resolve(cwd, path);
  const rel = relative(cwd, abs);
  const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  return rel !== '' && !outside ? rel : abs;
}

/** `_rlnImageName` of image `index` (0-based) of the stack at `path`: `000001@path`. */
export function imageName(index: number, path: string): string {
  return `${String(index + 1).padStart(6, '0')}@${path}`;
}
