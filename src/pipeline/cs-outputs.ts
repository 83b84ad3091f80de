/**
 * The cryoSPARC side of a classification's outputs, for cryoSPARC's "Import Result Group" job:
 *   run_particles.cs   the kept particles as a numpy structured array (cryoSPARC's .cs format):
 *                      every field of a .cs input except its old `alignments2D/*` (so `uid`,
 *                      `blob/*`, `ctf/*`, `location/*` … pass through), or for STAR and stack
 *                      inputs `uid`, `blob/path` (absolute), `blob/idx`, `blob/shape`,
 *                      `blob/psize_A`, `blob/sign` ({@link blobSign}) and the `ctf/*` fields known; then
 *                      `alignments2D/class` (0-based), `alignments2D/pose`, `alignments2D/shift`,
 *                      `alignments2D/psize_A`, `alignments2D/class_posterior` (1: hard classes)
 *                      and ackmeans' own `ackmeans/mirror` and `ackmeans/score`.
 *   run_particles.csg  the result group (YAML) naming run_particles.cs for each result slot.
 *   run_classes.cs     the K class averages (`blob/*` pointing into run_classes.mrcs).
 *   run_classes.csg    their result group (type `template`).
 *
 * Pose convention ({@link relionToCs}): cryoSPARC keeps no Euler angles for 2D alignments; its
 * `alignments2D/pose` is the in-plane angle in radians and `alignments2D/shift` the centring
 * translation in pixels of `alignments2D/psize_A`. The mapping is the one pyem's csparc2star
 * (the converter the field uses) applies, with the same signs: ψ_RELION = pose·180/π,
 * origin_RELION (px) = shift. So `csparc2star run_particles.cs` gives back run_data.star's ψ and
 * origins, and ackmeans reads the file back to the same poses (src/io/particles-cs.ts).
 * cryoSPARC has no 2D mirror: a particle aligned with a mirror (`ackmeans/mirror` 1, `_ackMirror`
 * in run_data.star) has a pose cryoSPARC cannot express; it is written as found.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type CsWriteField, csFieldOf, writeCs } from '../io/cs.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { ParticleSet } from '../io/index.js';

/** Names of the cryoSPARC output files. */
export const CS_FILES = {
  particles: 'run_particles.cs',
  particlesGroup: 'run_particles.csg',
  classes: 'run_classes.cs',
  classesGroup: 'run_classes.csg',
} as const;

const RAD = Math.PI / 180;

/**
 * A RELION 2D pose (ψ in degrees, origin in Å) as cryoSPARC's `alignments2D/pose` (radians) and
 * `alignments2D/shift` (pixels of `pixelSize` Å): pyem's csparc2star mapping, inverted.
 */
export function relionToCs(
  psi: number,
  originXAngst: number,
  originYAngst: number,
  pixelSize: number,
): { pose: number; shiftX: number; shiftY: number } {
  return { pose: psi * RAD, shiftX: originXAngst / pixelSize, shiftY: originYAngst / pixelSize };
}

/** What the .cs outputs know of the input particles, made once from the particle set. */
export interface CsParticleSource {
  /** The input fields of particles `rows` (indices into the input). */
  fields(rows: ArrayLike<number>): CsWriteField[];
  /** For the group files' `created`: the input file's modification time (reruns stay byte-identical). */
  created: string;
}

/**
 * uids for a set without cryoSPARC's: the first 8 bytes of SHA-256 of `stack path`, NUL, image
 * index (and, for a repeated image, its occurrence), so reruns and `select` give the same uids.
 */
function derivedUids(set: ParticleSet): BigUint64Array {
  const out = new BigUint64Array(set.count);
  const seen = new Map<string, number>();
  for (let i = 0; i < set.count; i++) {
    const key = `${set.stacks[set.stackIndex[i]]}\0${set.imageIndex[i]}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    const digest = createHash('sha256')
      .update(occurrence ? `${key}\0${occurrence}` : key)
      .digest();
    out[i] = digest.readBigUInt64LE(0);
  }
  return out;
}

/** cryoSPARC's particle uids of `set`: its own (.cs `uid`, STAR `_ucsfUid`) or derived ones. */
export function particleUids(set: ParticleSet): BigUint64Array {
  return set.uids ?? derivedUids(set);
}

function pick<T extends Float64Array | BigUint64Array | Uint32Array | Float32Array>(
  values: ArrayLike<number | bigint>,
  rows: ArrayLike<number>,
  make: (n: number) => T,
): T {
  const out = make(rows.length);
  for (let r = 0; r < rows.length; r++) (out as unknown as (number | bigint)[])[r] = values[rows[r]];
  return out;
}

/**
 * `blob/sign` of particles: −1 for particles as RELION stores them (light on dark; what a
 * cryoSPARC export of imported RELION particles carries), +1 when they needed `invert` (dark on
 * light). ackmeans cannot check this against cryoSPARC itself: README says so.
 */
export const blobSign = (invert: boolean): number => (invert ? 1 : -1);

/** The input side of run_particles.cs for `set` (see the module documentation). */
export async function csParticleSource(set: ParticleSet, invert: boolean): Promise<CsParticleSource> {
  // `invert`: the particles were classified with params.invert (dark on light)
  const created = (await stat(set.source)).mtime.toISOString();
  const cs = set.cs;
  if (cs)
    return {
      created,
      fields: (rows) =>
        cs.fields.filter((f) => !f.name.startsWith('alignments2D/')).map((f) => csFieldOf(cs, f, rows)),
    };
  const uids = particleUids(set);
  const pixelSize = set.pixelSize ?? 1;
  const ctf = set.ctf;
  return {
    created,
    fields: (rows) => {
      const n = rows.length;
      const f32 = (values: ArrayLike<number>, scale = 1) =>
        Float32Array.from({ length: n }, (_, r) => values[rows[r]] * scale);
      const fields: CsWriteField[] = [
        { name: 'uid', dtype: '<u8', values: pick(uids, rows, (m) => new BigUint64Array(m)) },
        {
          name: 'blob/path',
          dtype: '|S0',
          values: Array.from({ length: n }, (_, r) => set.stacks[set.stackIndex[rows[r]]]),
        },
        { name: 'blob/idx', dtype: '<u4', values: pick(set.imageIndex, rows, (m) => new Uint32Array(m)) },
        { name: 'blob/shape', dtype: '<u4', shape: [2], values: new Uint32Array(2 * n).fill(set.box) },
        { name: 'blob/psize_A', dtype: '<f4', values: new Float32Array(n).fill(pixelSize) },
        { name: 'blob/sign', dtype: '<f4', values: new Float32Array(n).fill(blobSign(invert)) },
      ];
      if (ctf)
        fields.push(
          { name: 'ctf/accel_kv', dtype: '<f4', values: f32(ctf.voltage) },
          { name: 'ctf/cs_mm', dtype: '<f4', values: f32(ctf.cs) },
          { name: 'ctf/amp_contrast', dtype: '<f4', values: f32(ctf.amplitudeContrast) },
          { name: 'ctf/df1_A', dtype: '<f4', values: f32(ctf.defocusU) },
          { name: 'ctf/df2_A', dtype: '<f4', values: f32(ctf.defocusV) },
          { name: 'ctf/df_angle_rad', dtype: '<f4', values: f32(ctf.defocusAngle, RAD) },
          { name: 'ctf/phase_shift_rad', dtype: '<f4', values: f32(ctf.phaseShift, RAD) },
        );
      if (ctf && set.opticsGroup) {
        const groups = set.opticsGroup;
        fields.push({
          name: 'ctf/exp_group_id',
          dtype: '<u4',
          values: Uint32Array.from({ length: n }, (_, r) => Math.max(0, groups[rows[r]] - 1)),
        });
      }
      return fields;
    },
  };
}

/** The final 2D alignment of each kept particle, as run_data.star reports it. */
export interface KeptAlignment {
  /** 0-based class of each kept particle. */
  classes: ArrayLike<number>;
  /** ψ in degrees and the origin in Å (RELION's convention, src/pipeline/relion.ts). */
  psi: ArrayLike<number>;
  originXAngst: ArrayLike<number>;
  originYAngst: ArrayLike<number>;
  mirror: ArrayLike<number>;
  score: ArrayLike<number>;
  /** Input pixel size in Å: the unit of `alignments2D/shift`. */
  pixelSize: number;
}

/** The `alignments2D/*` and `ackmeans/*` fields of run_particles.cs. */
export function alignmentFields(a: KeptAlignment): CsWriteField[] {
  const n = a.classes.length;
  const pose = new Float32Array(n);
  const shift = new Float32Array(2 * n);
  for (let r = 0; r < n; r++) {
    const c = relionToCs(a.psi[r], a.originXAngst[r], a.originYAngst[r], a.pixelSize);
    pose[r] = c.pose;
    shift[2 * r] = c.shiftX;
    shift[2 * r + 1] = c.shiftY;
  }
  return [
    { name: 'alignments2D/class', dtype: '<u4', values: Uint32Array.from(a.classes) },
    { name: 'alignments2D/pose', dtype: '<f4', values: pose },
    { name: 'alignments2D/shift', dtype: '<f4', shape: [2], values: shift },
    { name: 'alignments2D/psize_A', dtype: '<f4', values: new Float32Array(n).fill(a.pixelSize) },
    { name: 'alignments2D/class_posterior', dtype: '<f4', values: new Float32Array(n).fill(1) },
    { name: 'ackmeans/mirror', dtype: '|u1', values: Uint8Array.from(a.mirror) },
    { name: 'ackmeans/score', dtype: '<f4', values: Float32Array.from(a.score) },
  ];
}

/** A YAML single-quoted scalar. */
const yamlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** What a result group is (cryoSPARC's `group:` entry). */
export interface CsGroup {
  name: string;
  /** Item type: `particle`, `template` … */
  type: string;
  title: string;
  description: string;
}

/**
 * A `.csg` result group (YAML, as cryoSPARC's exports write it): one result slot per field
 * prefix of the .cs file (`blob`, `ctf`, `alignments2D` …; not `uid`, not ackmeans' own), each
 * pointing to `csName` beside the .csg (`>` = relative to the .csg's folder).
 */
export function csgText(
  group: CsGroup,
  fields: readonly CsWriteField[],
  csName: string,
  n: number,
  created: string,
  version: string,
): string {
  const prefixes = [
    ...new Set(
      fields.flatMap((f) => {
        const at = f.name.indexOf('/');
        const prefix = at > 0 ? f.name.slice(0, at) : '';
        return prefix && prefix !== 'ackmeans' ? [prefix] : [];
      }),
    ),
  ].sort();
  const lines = [
    `created: ${yamlString(created)}`,
    'group:',
    `  description: ${yamlString(group.description)}`,
    `  name: ${group.name}`,
    `  title: ${yamlString(group.title)}`,
    `  type: ${group.type}`,
    'results:',
    ...prefixes.flatMap((p) => [
      `  ${p}:`,
      `    metafile: ${yamlString(`>${csName}`)}`,
      `    num_items: ${n}`,
      `    type: ${group.type}.${p}`,
    ]),
    `version: ${yamlString(version)}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes a .cs file and its .csg group into `dir`. */
export async function writeCsGroup(
  dir: string,
  csName: string,
  csgName: string,
  n: number,
  fields: CsWriteField[],
  group: CsGroup,
  created: string,
  version: string,
): Promise<void> {
  await writeCs(join(dir, csName), n, fields);
  await writeFileAtomic(join(dir, csgName), csgText(group, fields, csName, n, created, version));
}

/** What {@link writeClassificationCs} needs besides the particles. */
export interface ClassesForCs {
  /** Absolute path the class averages stack will have (run_classes.mrcs in the output folder). */
  stack: string;
  k: number;
  box: number;
  pixelSize: number;
  sizes: ArrayLike<number>;
}

/**
 * Writes run_particles.cs/.csg (kept particles `kept` of the input, with `alignment`) and
 * run_classes.cs/.csg into `dir` (the staging folder of the outputs).
 */
export async function writeClassificationCs(
  dir: string,
  source: CsParticleSource,
  kept: ArrayLike<number>,
  alignment: KeptAlignment,
  classes: ClassesForCs,
  version: string,
): Promise<void> {
  const fields = [
    ...source.fields(kept).filter((f) => !f.name.startsWith('ackmeans/')),
    ...alignmentFields(alignment),
  ];
  await writeCsGroup(
    dir,
    CS_FILES.particles,
    CS_FILES.particlesGroup,
    kept.length,
    fields,
    {
      name: 'particles',
      type: 'particle',
      title: 'ackmeans 2D classes: particles',
      description: 'Particles with their ackmeans 2D class and alignment (alignments2D)',
    },
    source.created,
    version,
  );
  const { k } = classes;
  const classIndex = Uint32Array.from({ length: k }, (_, j) => j);
  const classUids = BigUint64Array.from({ length: k }, (_, j) =>
    createHash('sha256').update(`${classes.stack}\0${j}`).digest().readBigUInt64LE(0),
  );
  await writeCsGroup(
    dir,
    CS_FILES.classes,
    CS_FILES.classesGroup,
    k,
    [
      { name: 'uid', dtype: '<u8', values: classUids },
      { name: 'blob/path', dtype: '|S0', values: Array.from({ length: k }, () => classes.stack) },
      { name: 'blob/idx', dtype: '<u4', values: classIndex },
      { name: 'blob/shape', dtype: '<u4', shape: [2], values: new Uint32Array(2 * k).fill(classes.box) },
      { name: 'blob/psize_A', dtype: '<f4', values: new Float32Array(k).fill(classes.pixelSize) },
      { name: 'blob/sign', dtype: '<f4', values: new Float32Array(k).fill(blobSign(false)) },
      { name: 'ackmeans/class', dtype: '<u4', values: classIndex },
      { name: 'ackmeans/class_size', dtype: '<u4', values: Uint32Array.from(classes.sizes) },
    ],
    {
      name: 'class_averages',
      type: 'template',
      title: 'ackmeans 2D class averages',
      description: 'CTF-corrected 2D class averages (ackmeans/class = alignments2D/class of the particles)',
    },
    source.created,
    version,
  );
}
