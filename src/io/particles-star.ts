/**
 * Particle metadata from a RELION STAR file: 3.0 (one table; pixel size from
 * DetectorPixelSize·10⁴/Magnification) and 3.1+ (optics + particles blocks).
 */
import { FormatError } from './errors.js';
import type { ParticleMetadata, ParticlePoses } from './particle-types.js';
import { STAR_NUMBER, parseStarNumber } from './star-block.js';
import { StarTextColumn } from './star-text.js';
import { StarBlock, type StarFile } from './star.js';

/** Largest image number an `N@stack` name may give (image indices are 32-bit). */
const MAX_IMAGE_NUMBER = 2 ** 31 - 1;

/** The particles table: `data_particles`, else the first loop with `_rlnImageName`. */
export function particlesBlock(star: StarFile): StarBlock | undefined {
  const named = star.block('particles');
  if (named?.has('rlnImageName')) return named;
  return star.blocks.find((b) => b.loop && b.has('rlnImageName'));
}

/**
 * Splits `_rlnImageName` values (`N@path`, N 1-based) into references and indices. A text column
 * read from a file (src/io/star-text.ts) is split without making a string per row.
 */
export function splitImageNames(names: readonly string[] | StarTextColumn, file: string) {
  const compact = names instanceof StarTextColumn ? names : undefined;
  const count = names.length;
  const imageIndex = new Int32Array(count);
  const stackIndex = new Int32Array(count);
  const references: string[] = [];
  const lookup = new Map<string, number>();
  const stackOf = (path: string) => {
    let s = lookup.get(path);
    if (s === undefined) {
      s = references.length;
      references.push(path);
      lookup.set(path, s);
    }
    return s;
  };
  /** Per distinct text of a compact column: its stack, once looked up (−1: not yet). */
  const stackOfText = compact && new Int32Array(compact.dict.length).fill(-1);
  let previous = '';
  let previousIndex = -1;
  for (let i = 0; i < count; i++) {
    const number = compact ? compact.imageNumber(i) : -1;
    if (number >= 1) {
      // N@rest with N of at most 9 digits: a valid image number, the stack known by its text
      const t = compact!.ref[i];
      if (stackOfText![t] < 0) stackOfText![t] = stackOf(compact!.dict[t]);
      imageIndex[i] = number - 1;
      stackIndex[i] = stackOfText![t];
      continue;
    }
    const name = compact ? compact.text(i) : (names as readonly string[])[i];
    const at = name.indexOf('@');
    // the image number: plain digits parsed in place (10⁶ rows), anything else by Number()
    let n = 0;
    for (let k = 0; k < at && !Number.isNaN(n); k++) {
      const c = name.charCodeAt(k) - 48;
      n = c >= 0 && c <= 9 ? n * 10 + c : NaN;
    }
    if (Number.isNaN(n)) n = Number(name.slice(0, at));
    if (at <= 0 || !Number.isInteger(n) || n < 1 || at === name.length - 1)
      throw new FormatError(
        'ERR_STAR_IMAGE_NAME',
        file,
        `row ${i + 1}: _rlnImageName "${name}" is not N@stack with N ≥ 1`,
      );
    if (n > MAX_IMAGE_NUMBER)
      throw new FormatError(
        'ERR_INDEX_RANGE',
        file,
        `row ${i + 1}: _rlnImageName "${name}" asks for image ${n}, beyond any stack (at most ${MAX_IMAGE_NUMBER})`,
      );
    imageIndex[i] = n - 1;
    // rows of one stack usually follow each other: compare with the previous stack in place
    if (previousIndex < 0 || name.length - at - 1 !== previous.length || !name.endsWith(previous)) {
      previous = name.slice(at + 1);
      previousIndex = stackOf(previous);
    }
    stackIndex[i] = previousIndex;
  }
  return { references, stackIndex, imageIndex };
}

/** `line N, ` for a row read from a file (its line there), else nothing. */
function lineOf(block: StarBlock, row: number): string {
  const line = block.lineOf(row);
  return line === undefined ? '' : `line ${line}, `;
}

/**
 * A column that must hold numbers: undefined when absent; a column of quoted numbers is read as
 * numbers; any other text is an `ERR_STAR_VALUE` naming the file line, block, row, column and
 * value (so one "N/A" does not silently turn the column off).
 */
function numericColumn(block: StarBlock, name: string, file: string): Float64Array | undefined {
  const values = block.column(name);
  if (values === undefined || values instanceof Float64Array) return values;
  const bad = values.findIndex((v) => !STAR_NUMBER.test(v));
  if (bad < 0) return Float64Array.from(values, parseStarNumber);
  throw new FormatError(
    'ERR_STAR_VALUE',
    file,
    `${lineOf(block, bad)}data_${block.name}, row ${bad + 1}: _${name} is ${JSON.stringify(values[bad])}, not a number`,
  );
}

/** Per-particle values of a column, from the particles table or through its optics group. */
function perParticle(
  particles: StarBlock,
  optics: StarBlock | undefined,
  name: string,
  file: string,
): Float64Array | undefined {
  const direct = numericColumn(particles, name, file);
  if (direct) return direct;
  const groups = numericColumn(particles, 'rlnOpticsGroup', file);
  const values = optics && numericColumn(optics, name, file);
  const ids = optics && numericColumn(optics, 'rlnOpticsGroup', file);
  if (!groups || !values || !ids) return undefined;
  const byGroup = new Map<number, number>();
  ids.forEach((id, k) => byGroup.set(id, values[k]));
  // a plain loop (10⁶ rows): Float64Array.from with a mapping function is ~20× slower
  const out = new Float64Array(groups.length);
  let group = NaN;
  let value = NaN;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (g !== group) {
      const v = byGroup.get(g);
      if (v === undefined)
        throw new FormatError(
          'ERR_STAR_OPTICS',
          file,
          `particle ${i + 1} is in optics group ${g}, which data_optics does not define`,
        );
      group = g;
      value = v;
    }
    out[i] = value;
  }
  return out;
}

function toInt32(values: Float64Array | undefined): Int32Array | undefined {
  return values && new Int32Array(values);
}

/** The STAR column of cryoSPARC's particle uids, as pyem's csparc2star names it. */
export const UID_COLUMN = 'ucsfUid';

/**
 * cryoSPARC uids from `_ucsfUid` (whole numbers below 2⁶⁴, read from the text so no digit is
 * lost to floating point); undefined, with a warning, when the column holds anything else.
 */
function starUids(particles: StarBlock, warnings: string[]): BigUint64Array | undefined {
  const text = particles.strings(UID_COLUMN);
  if (!text) return undefined;
  const bad = text.findIndex((t) => !/^\d{1,20}$/.test(t) || BigInt(t) >= 2n ** 64n);
  if (bad >= 0) {
    warnings.push(
      `_${UID_COLUMN} row ${bad + 1} is ${JSON.stringify(text[bad])}, not a cryoSPARC uid (a whole number below 2^64): the uids are not kept`,
    );
    return undefined;
  }
  return BigUint64Array.from(text, (t) => BigInt(t));
}

/** Extracts particle metadata from a parsed STAR file. */
export function starMetadata(star: StarFile, file: string, baseDir: string): ParticleMetadata {
  const particles = particlesBlock(star);
  if (!particles)
    throw new FormatError('ERR_STAR_NO_PARTICLES', file, 'no loop with an _rlnImageName column');
  if (particles.rowCount === 0)
    throw new FormatError(
      'ERR_NO_PARTICLES',
      file,
      `data_${particles.name} has no rows: the file lists no particles`,
    );
  const optics = star.block('optics');
  const get = (name: string) => perParticle(particles, optics, name, file);
  const names = particles.textColumn('rlnImageName') ?? particles.strings('rlnImageName')!;
  const warnings: string[] = [];
  let pixelSizes = get('rlnImagePixelSize');
  if (!pixelSizes) {
    const det = get('rlnDetectorPixelSize');
    const mag = get('rlnMagnification');
    if (det && mag) pixelSizes = det.map((d, i) => (d * 1e4) / mag[i]);
  }
  const boxes = get('rlnImageSize');
  const defocusU = get('rlnDefocusU');
  const voltage = get('rlnVoltage');
  const cs = get('rlnSphericalAberration');
  const amplitudeContrast = get('rlnAmplitudeContrast');
  const n = particles.rowCount;
  let ctf: ParticleMetadata['ctf'];
  if (defocusU && voltage && cs && amplitudeContrast)
    ctf = {
      defocusU,
      defocusV: get('rlnDefocusV') ?? defocusU,
      defocusAngle: get('rlnDefocusAngle') ?? new Float64Array(n),
      voltage,
      cs,
      amplitudeContrast,
      phaseShift: get('rlnPhaseShift') ?? new Float64Array(n),
    };
  else if (defocusU) warnings.push('defocus given but voltage, Cs or amplitude contrast missing: no CTF');
  const poses: ParticlePoses = {};
  const rot = get('rlnAngleRot');
  const tilt = get('rlnAngleTilt');
  const psi = get('rlnAnglePsi');
  if (rot) poses.rot = rot;
  if (tilt) poses.tilt = tilt;
  if (psi) poses.psi = psi;
  const ox = get('rlnOriginXAngst');
  const oy = get('rlnOriginYAngst');
  const oxPx = get('rlnOriginX');
  const oyPx = get('rlnOriginY');
  if (ox && oy) {
    poses.originXAngst = ox;
    poses.originYAngst = oy;
  } else if (oxPx && oyPx && pixelSizes) {
    poses.originXAngst = oxPx.map((v, i) => v * pixelSizes![i]);
    poses.originYAngst = oyPx.map((v, i) => v * pixelSizes![i]);
  }
  const classNumber = toInt32(get('rlnClassNumber'));
  if (classNumber) poses.classNumber = classNumber;
  const uids = starUids(particles, warnings);
  return {
    ...(uids ? { uids } : {}),
    format: 'star',
    ...splitImageNames(names, file),
    baseDir,
    pixelSizes,
    box: boxes?.[0],
    ctf,
    opticsGroup: toInt32(numericColumn(particles, 'rlnOpticsGroup', file)),
    poses: Object.keys(poses).length ? poses : undefined,
    star: { file: star, particlesBlock: particles.name },
    warnings,
  };
}
