/**
 * `validateFile`: every problem found in a file (for `ackmeans validate`), rather than the
 * first one. MRC files are checked like mrcfile's validator (stamps, axis order, space group,
 * header statistics against the data, file size); STAR and .cs files for syntax and for the
 * particle set they describe (missing stacks, indices, sizes, pixel sizes, CTF values).
 */
import { basename, resolve } from 'node:path';
import { AckmeansError, firstNonFinite } from '../errors.js';
import { type CsFile, readCs } from './cs.js';
import { checkRegularFile } from './errors.js';
import { fileKind } from './file-kind.js';
import { readMrc } from './mrc.js';
import type { OpenParticlesOptions } from './particle-types.js';
import { openParticles } from './particles.js';
import { RunningStats } from './pixels.js';
import { readSpiderDoc } from './spider-doc.js';
import { readSpider } from './spider.js';
import { openStack } from './stack-open.js';
import { type StarFile, readStar } from './star.js';

/**
 * The problem `err` describes, for a line that starts with `path`'s name: the message without
 * its file prefix when the fault is in `path` itself, whole (naming the other file) otherwise.
 */
function message(err: unknown, path: string): string {
  if (!(err instanceof Error)) return String(err);
  const elsewhere = err instanceof AckmeansError && err.file && resolve(err.file) !== resolve(path);
  return elsewhere ? err.message : err.message.replace(/^[^:]*: /, '');
}

/** 1-based numbers of the images of `count` images (`pixels` values each) that hold a NaN or ±∞. */
function nonFiniteImages(data: Float32Array, pixels: number, count: number, first = 1): number[] {
  const bad: number[] = [];
  for (let i = 0; i < count; i++)
    if (firstNonFinite(data.subarray(i * pixels, (i + 1) * pixels)) >= 0) bad.push(first + i);
  return bad;
}

function nonFiniteProblem(bad: number[], total: number): string[] {
  if (bad.length === 0) return [];
  const which =
    bad.length === total ? 'every image' : `${bad.length} of ${total} images (first: image ${bad[0]})`;
  return [
    `${which} ${bad.length === 1 || bad.length === total ? 'holds' : 'hold'} NaN or infinite values; classify quarantines them`,
  ];
}

/** Images of a stack that hold NaN or ±∞, read a batch at a time. */
async function stackNonFinite(path: string): Promise<string[]> {
  const stack = await openStack(path, { permissive: true });
  try {
    const pixels = stack.nx * stack.ny;
    const batch = Math.max(1, Math.floor(2 ** 23 / pixels));
    const buffer = new Float32Array(batch * pixels);
    const bad: number[] = [];
    for (let start = 0; start < stack.n; start += batch) {
      const n = Math.min(batch, stack.n - start);
      await stack.readBatch(start, n, buffer);
      bad.push(...nonFiniteImages(buffer, pixels, n, start + 1));
    }
    return nonFiniteProblem(bad, stack.n);
  } finally {
    await stack.close();
  }
}

async function mrcProblems(path: string): Promise<Checked> {
  const { header: h, data } = await readMrc(path, { permissive: true });
  // read right despite these (mrcfile's permissive mode): warnings
  const warnings = [...h.warnings];
  const errors: string[] = [];
  if (h.nversion !== 20140 && h.nversion !== 20141)
    warnings.push(`nversion is ${h.nversion}, not 20140 or 20141 (MRC2014)`);
  if (!(h.ispg === 0 || (h.ispg >= 1 && h.ispg <= 230) || (h.ispg >= 401 && h.ispg <= 630)))
    warnings.push(`space group ispg = ${h.ispg} is not valid`);
  // the pixel size (cella / mx) or the values themselves are wrong: errors
  if (h.mx <= 0 || h.my <= 0 || h.mz <= 0)
    errors.push(`sampling mx/my/mz = ${h.mx}, ${h.my}, ${h.mz} must be positive`);
  if (h.cella.some((c) => c < 0)) errors.push(`negative cell dimensions ${h.cella.join(', ')}`);
  if (h.mode === 4) return { errors, warnings };
  if (h.isStack) errors.push(...nonFiniteProblem(nonFiniteImages(data, h.nx * h.ny, h.nz), h.nz));
  else if (firstNonFinite(data) >= 0) errors.push('the data holds NaN or infinite values');
  const stats = new RunningStats();
  stats.add(data);
  const s = stats.result();
  const tol = (x: number) => 1e-4 * Math.max(1, Math.abs(s.dmax - s.dmin), Math.abs(x));
  if (h.dmax >= h.dmin) {
    // dmax < dmin (and dmean < dmin, rms < 0) mean "not computed" in MRC2014.
    if (Math.abs(h.dmin - s.dmin) > tol(s.dmin))
      warnings.push(`header dmin ${h.dmin} but the data minimum is ${s.dmin}`);
    if (Math.abs(h.dmax - s.dmax) > tol(s.dmax))
      warnings.push(`header dmax ${h.dmax} but the data maximum is ${s.dmax}`);
    if (h.dmean >= h.dmin && Math.abs(h.dmean - s.dmean) > tol(s.dmean))
      warnings.push(`header dmean ${h.dmean} but the data mean is ${s.dmean}`);
  }
  if (h.rms >= 0 && Math.abs(h.rms - s.rms) > tol(s.rms))
    warnings.push(`header rms ${h.rms} but the data rms is ${s.rms}`);
  return { errors, warnings };
}

async function particleProblems(
  path: string,
  options: OpenParticlesOptions,
  parsed: StarFile | CsFile,
): Promise<Checked> {
  // what classify would refuse is an error; oddities it reads through are warnings
  const errors: string[] = [];
  let warnings: string[] = [];
  let set;
  try {
    set = await openParticles(path, { ...options, permissive: false }, parsed);
  } catch (err) {
    errors.push(message(err, path));
  }
  try {
    set ??= await openParticles(path, { ...options, permissive: true }, parsed);
  } catch {
    return { errors, warnings };
  }
  await set.close();
  if (errors.length === 0) warnings = [...set.warnings];
  const problems = errors;
  for (const stack of set.stacks)
    try {
      problems.push(...(await stackNonFinite(stack)).map((p) => `${basename(stack)}: ${p}`));
    } catch (err) {
      problems.push(message(err, path));
    }
  if (set.pixelSize === undefined) problems.push('no pixel size anywhere (metadata or stack header)');
  else if (!(set.pixelSize > 0)) problems.push(`pixel size ${set.pixelSize} is not positive`);
  const ctf = set.ctf;
  if (ctf) {
    const check = (name: string, values: Float64Array, ok: (v: number) => boolean, what: string) => {
      let bad = 0;
      let first = -1;
      for (let i = 0; i < values.length; i++)
        if (!ok(values[i])) {
          if (bad++ === 0) first = i;
        }
      if (bad) problems.push(`${name} ${what} for ${bad} particle(s), first #${first + 1}: ${values[first]}`);
    };
    check('defocusU', ctf.defocusU, Number.isFinite, 'is not finite');
    check('defocusV', ctf.defocusV, Number.isFinite, 'is not finite');
    check('voltage', ctf.voltage, (v) => v > 0 && v <= 1000, 'is outside (0, 1000] kV');
    check('Cs', ctf.cs, (v) => v >= 0 && v < 100, 'is outside [0, 100) mm');
    check('amplitude contrast', ctf.amplitudeContrast, (v) => v >= 0 && v < 1, 'is outside [0, 1)');
  }
  return { errors: problems, warnings };
}

/**
 * What {@link checkFile} found: `errors` (the file cannot be read right, or classify would
 * refuse it) and `warnings` (readable oddities: nversion 0, stale header statistics, a missing
 * `MAP ` stamp …; errors too with `strict`, mrcfile's strictness).
 */
export interface Checked {
  errors: string[];
  warnings: string[];
}

/** Checks `path` (see {@link Checked}). */
export async function checkFile(
  path: string,
  options: OpenParticlesOptions & { strict?: boolean } = {},
): Promise<Checked> {
  const { strict, ...open } = options;
  const found = await check(path, open);
  return strict ? { errors: [...found.errors, ...found.warnings], warnings: [] } : found;
}

/** Every problem found in `path`, errors then warnings: an empty list means the file is valid. */
export async function validateFile(path: string, options: OpenParticlesOptions = {}): Promise<string[]> {
  const { errors, warnings } = await checkFile(path, options);
  return [...errors, ...warnings];
}

const onlyErrors = (errors: string[]): Checked => ({ errors, warnings: [] });

async function check(path: string, options: OpenParticlesOptions): Promise<Checked> {
  try {
    await checkRegularFile(path);
    const kind = await fileKind(path);
    switch (kind) {
      case 'mrc':
        return await mrcProblems(path);
      case 'spider': {
        const { header, data, nx, ny, nz, n } = await readSpider(path);
        return onlyErrors(header.isStack ? nonFiniteProblem(nonFiniteImages(data, nx * ny * nz, n), n) : []);
      }
      case 'spider-doc':
        await readSpiderDoc(path);
        return onlyErrors([]);
      case 'star': {
        const star = await readStar(path);
        const empty = star.blocks.length === 0 ? ['no data_ blocks'] : [];
        if (!star.blocks.some((b) => b.has('rlnImageName'))) return onlyErrors(empty);
        const found = await particleProblems(path, options, star);
        return { errors: [...empty, ...found.errors], warnings: found.warnings };
      }
      case 'cs': {
        const cs = await readCs(path);
        return cs.fields.some((f) => f.name === 'blob/path')
          ? await particleProblems(path, options, cs)
          : onlyErrors([]);
      }
    }
  } catch (err) {
    return onlyErrors([message(err, path)]);
  }
}
