/**
 * `openParticles`: one particle set from a STAR file, a cryoSPARC `.cs` file or a bare MRC /
 * SPIDER stack. Every referenced stack is checked up front — missing files are reported
 * together, by name, and so are images past the end of their stack — before any pixel is read.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { checkInt } from '../errors.js';
import { type CsFile, readCs } from './cs.js';
import { FormatError, checkRegularFile } from './errors.js';
import { readMrcHeader } from './mrc.js';
import type { OpenParticlesOptions, ParticleMetadata, ParticleSet } from './particle-types.js';
import { csMetadata } from './particles-cs.js';
import { starMetadata } from './particles-star.js';
import { locateStacks } from './stack-references.js';
import { StarFile, readStar } from './star.js';
import { imageFormat, openStack } from './stack-open.js';
import { StackPool } from './stack-pool.js';

export type * from './particle-types.js';

const LIST_LIMIT = 20;

function listed(items: string[]): string {
  const shown = items.slice(0, LIST_LIMIT).join(', ');
  return items.length > LIST_LIMIT ? `${shown}, … (${items.length} in all)` : shown;
}

/** Geometry of each stack, read from its header (a few files at a time). */
async function stackGeometry(paths: string[], permissive: boolean) {
  const out: { n: number; nx: number; ny: number; pixelSize: number | undefined }[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      const s = await openStack(paths[i], { permissive });
      out[i] = { n: s.n, nx: s.nx, ny: s.ny, pixelSize: s.pixelSize };
      await s.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, paths.length) }, worker));
  return out;
}

/** Refuses a bare MRC input that is a 3D map (not an image stack): it is not nz particle images. */
async function refuseVolume(path: string, permissive: boolean): Promise<void> {
  if ((await imageFormat(path)) !== 'mrc') return;
  const h = await readMrcHeader(path, { permissive });
  if (!h.isStack && h.nz > 1)
    throw new FormatError(
      'ERR_NOT_IMAGES',
      path,
      `is a 3D map (${h.nx}×${h.ny}×${h.nz}, space group ${h.ispg}), not a stack of particle images; if its sections really are particles, name it .mrcs`,
    );
}

async function metadataOf(path: string, parsed?: StarFile | CsFile): Promise<ParticleMetadata | undefined> {
  const ext = extname(path).toLowerCase();
  if (ext === '.star')
    return starMetadata(parsed instanceof StarFile ? parsed : await readStar(path), path, dirname(path));
  if (ext === '.cs')
    return csMetadata(parsed && !(parsed instanceof StarFile) ? parsed : await readCs(path), dirname(path));
  return undefined;
}

/**
 * Opens a particle set (see {@link ParticleSet}). Throws {@link FormatError}:
 * `ERR_MISSING_STACKS` (every missing stack, by name), `ERR_INDEX_RANGE` (images past the end of
 * their stack), `ERR_BOX_MISMATCH` (stacks of different or non-square sizes, or a size that
 * disagrees with the metadata), `ERR_PIXEL_SIZE_MIXED` (unless `permissive`), `ERR_PIXEL_SIZE`
 * (a pixel size that is not a positive number), `ERR_NO_PARTICLES`, or the format's own errors.
 * `parsed`: the STAR or .cs file at `path` when the caller has already read it (it is not read
 * again).
 */
export async function openParticles(
  path: string,
  options: OpenParticlesOptions = {},
  parsed?: StarFile | CsFile,
): Promise<ParticleSet> {
  const permissive = options.permissive ?? false;
  const remap = options.remap ?? {};
  await checkRegularFile(path);
  const meta = await metadataOf(path, parsed);
  let stacks: string[];
  if (meta) {
    const found = await locateStacks(meta.references, meta.baseDir, remap);
    const missing = meta.references.flatMap((r, i) =>
      found.paths[i] === undefined
        ? [found.mapped[i] !== r ? `${r} (remapped to ${found.mapped[i]})` : r]
        : [],
    );
    if (missing.length) {
      // A reference that names a directory or a FIFO is not "missing": say what it is.
      for (const [i, p] of found.paths.entries())
        if (p === undefined) {
          const ref = found.mapped[i];
          const st = await stat(resolve(meta.baseDir, ref)).catch(() => undefined);
          if (st && !st.isFile()) await checkRegularFile(resolve(meta.baseDir, ref));
        }
      throw new FormatError(
        'ERR_MISSING_STACKS',
        path,
        `${missing.length} referenced stack file${missing.length > 1 ? 's are' : ' is'} missing (${found.searched}): ${listed(missing.sort())}`,
      );
    }
    stacks = found.paths as string[];
  } else {
    await refuseVolume(path, permissive);
    stacks = [resolve(path)];
  }
  const geometry = await stackGeometry(stacks, permissive);
  const warnings = [...(meta?.warnings ?? [])];
  const box = geometry[0].nx;
  const bad = geometry.flatMap((g, i) =>
    g.nx !== box || g.ny !== box ? [`${basename(stacks[i])} (${g.nx}×${g.ny})`] : [],
  );
  if (bad.length)
    throw new FormatError(
      'ERR_BOX_MISMATCH',
      path,
      `images must be square and all ${box}×${box}: ${listed(bad)}`,
    );
  if (meta?.box !== undefined && meta.box !== box)
    throw new FormatError(
      'ERR_BOX_MISMATCH',
      path,
      `the metadata says images are ${meta.box} px, the stacks hold ${box} px images`,
    );
  const count = meta ? meta.stackIndex.length : geometry[0].n;
  if (count === 0) throw new FormatError('ERR_NO_PARTICLES', path, 'the stack holds no images (nz = 0)');
  const stackIndex = meta?.stackIndex ?? new Int32Array(count);
  const imageIndex = meta?.imageIndex ?? Int32Array.from({ length: count }, (_, i) => i);
  const outside: string[] = [];
  for (let i = 0; i < count; i++)
    if (imageIndex[i] < 0 || imageIndex[i] >= geometry[stackIndex[i]].n)
      outside.push(
        `particle ${i + 1} → image ${imageIndex[i] + 1} of ${basename(stacks[stackIndex[i]])} (${geometry[stackIndex[i]].n} images)`,
      );
  if (outside.length)
    throw new FormatError('ERR_INDEX_RANGE', path, `images past the end of their stack: ${listed(outside)}`);
  let pixelSize = geometry[0].pixelSize;
  if (meta?.pixelSizes && meta.pixelSizes.length > 0) {
    const ps = meta.pixelSizes;
    const invalid = ps.findIndex((p) => !(p > 0 && p < Infinity));
    if (invalid >= 0)
      throw new FormatError(
        'ERR_PIXEL_SIZE',
        path,
        `particle ${invalid + 1} has pixel size ${ps[invalid]} Å: a pixel size must be a positive number`,
      );
    pixelSize = ps[0];
    const differs = ps.some((p) => Math.abs(p - ps[0]) > 1e-6 * ps[0]);
    if (differs) {
      const msg = `particles have different pixel sizes (${Math.min(...ps)} to ${Math.max(...ps)} Å); using ${ps[0]}`;
      if (!permissive) throw new FormatError('ERR_PIXEL_SIZE_MIXED', path, msg.replace(/; using.*/, ''));
      warnings.push(msg);
    }
  }
  const format = meta?.format ?? (await imageFormat(path));
  const pool = new StackPool(stacks, 32, permissive);
  const imageValues = box * box;
  const set: ParticleSet = {
    source: path,
    format,
    count,
    box,
    pixelSize,
    stacks,
    stackIndex,
    imageIndex,
    warnings,
    async readBatch(start: number, n: number, out?: Float32Array) {
      checkInt('start', start, 0);
      checkInt('count', n, 0);
      if (start + n > count)
        throw new RangeError(`particles ${start}…${start + n - 1} requested, the set has ${count}`);
      const dest = out ?? new Float32Array(n * imageValues);
      if (!(dest instanceof Float32Array) || dest.length < n * imageValues)
        throw new RangeError(`out must be a Float32Array of at least ${n * imageValues} values`);
      let i = start;
      while (i < start + n) {
        // A run: consecutive particles stored consecutively in one stack.
        let j = i + 1;
        while (j < start + n && stackIndex[j] === stackIndex[i] && imageIndex[j] === imageIndex[j - 1] + 1)
          j++;
        const first = i;
        const len = j - i;
        await pool.use(stackIndex[i], (s) =>
          s.readBatch(
            imageIndex[first],
            len,
            dest.subarray((first - start) * imageValues, (j - start) * imageValues),
          ),
        );
        i = j;
      }
      return dest;
    },
    async readBatchFloat16(start: number, n: number, out?: Uint16Array) {
      checkInt('start', start, 0);
      checkInt('count', n, 0);
      if (start + n > count)
        throw new RangeError(`particles ${start}…${start + n - 1} requested, the set has ${count}`);
      const runs: Array<[number, number]> = [];
      for (let i = start; i < start + n;) {
        let j = i + 1;
        while (j < start + n && stackIndex[j] === stackIndex[i] && imageIndex[j] === imageIndex[j - 1] + 1)
          j++;
        runs.push([i, j]);
        i = j;
      }
      for (const [i] of runs) if (!(await pool.use(stackIndex[i], async (s) => s.float16))) return undefined;
      if (out !== undefined && (!(out instanceof Uint16Array) || out.length < n * imageValues))
        throw new RangeError(`out must be a Uint16Array of at least ${n * imageValues} values`);
      const dest = out ? out.subarray(0, n * imageValues) : new Uint16Array(n * imageValues);
      for (const [i, j] of runs)
        await pool.use(stackIndex[i], (s) =>
          s.readBatchFloat16(
            imageIndex[i],
            j - i,
            dest.subarray((i - start) * imageValues, (j - start) * imageValues),
          ),
        );
      return dest;
    },
    close: () => pool.close(),
  };
  if (meta?.ctf) set.ctf = meta.ctf;
  if (meta?.opticsGroup) set.opticsGroup = meta.opticsGroup;
  if (meta?.poses) set.poses = meta.poses;
  if (meta?.star) set.star = meta.star;
  if (meta?.cs) set.cs = meta.cs;
  if (meta?.uids) set.uids = meta.uids;
  return set;
}
