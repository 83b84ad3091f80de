/**
 * `describeFile`: a summary of any file this package reads, for `ackmeans info`.
 */
import { basename } from 'node:path';
import { type CsFile, readCs } from './cs.js';
import { checkRegularFile } from './errors.js';
import { fileKind, type FileKind } from './file-kind.js';
import { readMrcHeader } from './mrc.js';
import type { OpenParticlesOptions, ParticleSet } from './particle-types.js';
import { openParticles } from './particles.js';
import { readSpiderDoc } from './spider-doc.js';
import { openSpiderStack } from './spider.js';
import { type StarFile, readStar } from './star.js';

/** Minimum and maximum of some values. */
export interface Range {
  min: number;
  max: number;
}

/** A summary of a particle set. */
export interface ParticleSummary {
  count: number;
  box: number;
  pixelSize: number | undefined;
  stacks: number;
  opticsGroups?: number;
  ctf?: {
    defocusU: Range;
    defocusV: Range;
    voltage: Range;
    cs: Range;
    amplitudeContrast: Range;
    phaseShift: Range;
  };
  poses: string[];
  warnings: string[];
}

/** What `describeFile` reports; the fields present depend on `kind`. */
export interface FileSummary {
  path: string;
  kind: FileKind;
  /** Header fields (MRC, SPIDER). */
  header?: Record<string, unknown>;
  /** STAR blocks. */
  blocks?: { name: string; loop: boolean; rows: number; columns: string[] }[];
  /** .cs fields. */
  fields?: { name: string; dtype: string; shape: number[] }[];
  /** .cs records or SPIDER document rows. */
  rows?: number;
  /** The particle set the file describes (STAR with images, .cs, stacks). */
  particles?: ParticleSummary;
  /** Why the particle set could not be opened (e.g. missing stacks). */
  particlesError?: string;
}

function range(values: Float64Array): Range {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

function summarise(set: ParticleSet): ParticleSummary {
  const c = set.ctf;
  return {
    count: set.count,
    box: set.box,
    pixelSize: set.pixelSize,
    stacks: set.stacks.length,
    ...(set.opticsGroup && { opticsGroups: new Set(set.opticsGroup).size }),
    ...(c && {
      ctf: {
        defocusU: range(c.defocusU),
        defocusV: range(c.defocusV),
        voltage: range(c.voltage),
        cs: range(c.cs),
        amplitudeContrast: range(c.amplitudeContrast),
        phaseShift: range(c.phaseShift),
      },
    }),
    poses: Object.keys(set.poses ?? {}),
    warnings: set.warnings,
  };
}

/** Opens the particle set of `path` and summarises it, or says why it cannot be opened. */
async function particlesOf(
  path: string,
  options: OpenParticlesOptions,
  parsed?: StarFile | CsFile,
): Promise<Pick<FileSummary, 'particles' | 'particlesError'>> {
  try {
    const set = await openParticles(path, { ...options, permissive: true }, parsed);
    await set.close();
    return { particles: summarise(set) };
  } catch (err) {
    return { particlesError: (err as Error).message };
  }
}

/** Summarises `path` (MRC, SPIDER image or document, STAR, .cs). Throws FormatError for unreadable files. */
export async function describeFile(path: string, options: OpenParticlesOptions = {}): Promise<FileSummary> {
  await checkRegularFile(path);
  const kind = await fileKind(path);
  switch (kind) {
    case 'mrc': {
      const header = await readMrcHeader(path, { permissive: true });
      return {
        path,
        kind,
        header: { ...header },
        ...(header.isStack ? await particlesOf(path, options) : {}),
      };
    }
    case 'spider': {
      const stack = await openSpiderStack(path);
      await stack.close();
      const particles = stack.header.isStack ? await particlesOf(path, options) : {};
      return { path, kind, header: { ...stack.header }, ...particles };
    }
    case 'spider-doc': {
      const doc = await readSpiderDoc(path);
      return {
        path,
        kind,
        rows: doc.rows.length,
        header: { comments: doc.comments, registers: Math.max(0, ...doc.rows.map((r) => r.length)) },
      };
    }
    case 'star': {
      const star = await readStar(path);
      const blocks = star.blocks.map((b) => ({
        name: b.name,
        loop: b.loop,
        rows: b.rowCount,
        columns: b.columns,
      }));
      const hasImages = star.blocks.some((b) => b.has('rlnImageName'));
      return { path, kind, blocks, ...(hasImages ? await particlesOf(path, options, star) : {}) };
    }
    case 'cs': {
      const cs = await readCs(path);
      const fields = cs.fields.map(({ name, dtype, shape }) => ({ name, dtype, shape }));
      const hasImages = cs.fields.some((f) => f.name === 'blob/path');
      return { path, kind, rows: cs.n, fields, ...(hasImages ? await particlesOf(path, options, cs) : {}) };
    }
  }
}

const fmt = (v: number | undefined, digits = 4) =>
  v === undefined ? 'unknown' : String(Number(v.toPrecision(digits)));
const fmtRange = (r: Range) => (r.min === r.max ? fmt(r.min, 6) : `${fmt(r.min, 6)} … ${fmt(r.max, 6)}`);

/** The summary as lines of text for a person. */
export function formatSummary(s: FileSummary): string[] {
  const lines = [`${basename(s.path)}: ${s.kind}`];
  const h = s.header ?? {};
  if (s.kind === 'mrc') {
    lines.push(
      `  size         ${h.nx} × ${h.ny} × ${h.nz}${h.isStack ? ` (stack of ${h.nz} images)` : ''}`,
      `  mode         ${h.mode}`,
      `  pixel size   ${h.pixelSize === undefined ? 'not in header' : `${fmt(h.pixelSize as number)} Å`}`,
      `  byte order   ${h.littleEndian ? 'little' : 'big'}-endian (machst ${h.machst})`,
      `  axes         mapc/mapr/maps ${h.mapc}, ${h.mapr}, ${h.maps}; ispg ${h.ispg}; nversion ${h.nversion}`,
      `  statistics   min ${fmt(h.dmin as number)}, max ${fmt(h.dmax as number)}, mean ${fmt(h.dmean as number)}, rms ${fmt(h.rms as number)}`,
      `  extended     ${h.nsymbt} bytes${h.exttyp ? ` (${h.exttyp})` : ''}`,
    );
    for (const label of h.labels as string[]) lines.push(`  label        ${label}`);
    for (const w of h.warnings as string[]) lines.push(`  warning      ${w}`);
  }
  if (s.kind === 'spider')
    lines.push(
      `  size         ${h.nx} × ${h.ny} × ${h.nz}${h.isStack ? `, stack of ${h.n} images` : ''}`,
      `  pixel size   ${h.pixelSize === undefined ? 'not in header' : `${fmt(h.pixelSize as number)} Å`}`,
      `  byte order   ${h.littleEndian ? 'little' : 'big'}-endian`,
    );
  if (s.kind === 'spider-doc') lines.push(`  ${s.rows} rows of up to ${h.registers} registers`);
  for (const b of s.blocks ?? [])
    lines.push(
      `  data_${b.name}  ${b.loop ? `${b.rows} rows × ` : 'key-value, '}${b.columns.length} columns: ${b.columns.join(' ')}`,
    );
  if (s.kind === 'cs')
    lines.push(`  ${s.rows} records, ${s.fields!.length} fields: ${s.fields!.map((f) => f.name).join(' ')}`);
  const p = s.particles;
  if (p) {
    lines.push(
      `  particles    ${p.count} of ${p.box} × ${p.box} px, ${p.pixelSize === undefined ? 'pixel size unknown' : `${fmt(p.pixelSize)} Å/px`}, in ${p.stacks} stack${p.stacks === 1 ? '' : 's'}`,
    );
    if (p.opticsGroups !== undefined)
      lines.push(`  optics       ${p.opticsGroups} group${p.opticsGroups === 1 ? '' : 's'}`);
    if (p.ctf)
      lines.push(
        `  defocus      U ${fmtRange(p.ctf.defocusU)} Å, V ${fmtRange(p.ctf.defocusV)} Å`,
        `  microscope   ${fmtRange(p.ctf.voltage)} kV, Cs ${fmtRange(p.ctf.cs)} mm, amplitude contrast ${fmtRange(p.ctf.amplitudeContrast)}, phase shift ${fmtRange(p.ctf.phaseShift)}°`,
      );
    if (p.poses.length) lines.push(`  poses        ${p.poses.join(', ')}`);
    for (const w of p.warnings) lines.push(`  warning      ${w}`);
  }
  if (s.particlesError) lines.push(`  images       not readable: ${s.particlesError}`);
  return lines;
}
