/**
 * Particle metadata from a cryoSPARC `.cs` file, converted to RELION's units:
 * defocus `ctf/df1_A`, `ctf/df2_A` (Å, unchanged); `ctf/df_angle_rad` → degrees;
 * `ctf/accel_kv` (kV); `ctf/cs_mm` (mm); `ctf/amp_contrast` (fraction);
 * `ctf/phase_shift_rad` → degrees; `blob/psize_A` → pixel size; `ctf/exp_group_id` (0-based) →
 * optics group + 1 (pyem's mapping); `uid` kept. Signs and units follow pyem's csparc2star, the
 * mapping the outputs' .cs writer inverts (src/pipeline/cs-outputs.ts).
 * Poses: `alignments2D|3D/class` (0-based) → classNumber + 1; `…/shift` (px) × `…/psize_A` →
 * origin in Å, signs as cryoSPARC stores them; `alignments2D/pose` (radians) → psi in degrees,
 * sign as stored. 3D poses (rotation vectors) are not converted to Euler angles.
 */
import type { CsFile } from './cs.js';
import { FormatError } from './errors.js';
import type { ParticleMetadata, ParticlePoses } from './particle-types.js';
import { indexStackReferences } from './stack-references.js';

const DEG = 180 / Math.PI;

function poses(cs: CsFile, pixelSizes: Float64Array | undefined): ParticlePoses | undefined {
  const out: ParticlePoses = {};
  for (const kind of ['alignments2D', 'alignments3D']) {
    const cls = cs.numeric(`${kind}/class`);
    if (cls && !out.classNumber) out.classNumber = Int32Array.from(cls, (c) => c + 1);
    const shift = cs.numeric(`${kind}/shift`);
    const psize = cs.numeric(`${kind}/psize_A`) ?? pixelSizes;
    if (shift && psize && !out.originXAngst) {
      out.originXAngst = Float64Array.from({ length: cs.n }, (_, i) => shift[2 * i] * psize[i]);
      out.originYAngst = Float64Array.from({ length: cs.n }, (_, i) => shift[2 * i + 1] * psize[i]);
    }
  }
  const pose2d = cs.numeric('alignments2D/pose');
  if (pose2d) out.psi = pose2d.map((r) => r * DEG);
  return Object.keys(out).length ? out : undefined;
}

/** The `uid` field as unsigned 64-bit integers (cryoSPARC writes `<u8`), when present. */
function uidsOf(cs: CsFile): { uids?: BigUint64Array } {
  const uid = cs.column('uid');
  if (uid instanceof BigUint64Array) return { uids: uid };
  if (uid instanceof BigInt64Array) return { uids: BigUint64Array.from(uid, (v) => BigInt.asUintN(64, v)) };
  if (uid instanceof Float64Array)
    return { uids: BigUint64Array.from(uid, (v) => BigInt(Math.max(0, Math.round(v)))) };
  return {};
}

/** Extracts particle metadata from a parsed `.cs` file. */
export function csMetadata(cs: CsFile, baseDir: string): ParticleMetadata {
  const paths = cs.strings('blob/path');
  const idx = cs.numeric('blob/idx');
  if (!paths || !idx)
    throw new FormatError(
      'ERR_CS_FORMAT',
      cs.path,
      'no blob/path and blob/idx fields: the file does not locate particle images',
    );
  if (cs.n === 0)
    throw new FormatError('ERR_NO_PARTICLES', cs.path, 'the file holds no records (no particles)');
  const badIndex = idx.findIndex((v) => !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1);
  if (badIndex >= 0)
    throw new FormatError(
      'ERR_INDEX_RANGE',
      cs.path,
      `record ${badIndex + 1}: blob/idx ${idx[badIndex]} is not an image index (0 … 2³¹−1)`,
    );
  const { references, stackIndex } = indexStackReferences(
    paths.map((p) => (p.startsWith('>') ? p.slice(1) : p)),
  );
  const pixelSizes = cs.numeric('blob/psize_A');
  const shape = cs.numeric('blob/shape');
  const get = (name: string) => cs.numeric(`ctf/${name}`);
  const df1 = get('df1_A');
  const voltage = get('accel_kv');
  const csmm = get('cs_mm');
  const amp = get('amp_contrast');
  const group = get('exp_group_id');
  return {
    format: 'cs',
    references,
    baseDir,
    stackIndex,
    imageIndex: Int32Array.from(idx),
    pixelSizes,
    box: shape?.[0],
    ctf:
      df1 && voltage && csmm && amp
        ? {
            defocusU: df1,
            defocusV: get('df2_A') ?? df1,
            defocusAngle: (get('df_angle_rad') ?? new Float64Array(cs.n)).map((r) => r * DEG),
            voltage,
            cs: csmm,
            amplitudeContrast: amp,
            phaseShift: (get('phase_shift_rad') ?? new Float64Array(cs.n)).map((r) => r * DEG),
          }
        : undefined,
    opticsGroup: group && Int32Array.from(group, (g) => g + 1),
    poses: poses(cs, pixelSizes),
    cs,
    ...uidsOf(cs),
    warnings: [],
  };
}
