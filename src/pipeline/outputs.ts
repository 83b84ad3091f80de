/**
 * The output files of a classification, in RELION's layout:
 *   run_data.star     every input column of the kept particles, plus _rlnClassNumber (1..K),
 *                     _rlnAnglePsi, the origins (input origin + found shift; Å, or pixels for a
 *                     RELION 3.0 table with _rlnOriginX), _ackMirror and _ackScore. Quarantined
 *                     particles are left out (they are listed in report.json).
 *   run_classes.mrcs  the K CTF-corrected class averages at the average box, pixel size set.
 *   run_model.star    data_model_general and data_model_classes (_rlnReferenceImage,
 *                     _rlnClassDistribution, _rlnEstimatedResolution from the even/odd FRC,
 *                     _ackClassSize (particles), _ackClassScore and one _ackFeature<Name> column
 *                     per score feature, see class-score.ts).
 *   report.json       version, parameters, seed, input checksum, trace, sizes, timings, quarantine.
 *   run_particles.cs, run_particles.csg, run_classes.cs, run_classes.csg
 *                     the same particles and class averages for cryoSPARC (cs-outputs.ts).
 * Everything is written in a staging folder inside OUTDIR and renamed into place at the end, so
 * a failed or killed run leaves no half-written outputs.
 */
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { type ParticleSet, StarBlock, StarFile, writeMrc, writeStar } from '../io/index.js';
import { outputStackPath } from '../io/stack-references.js';
import { FEATURES, type FeatureName } from './class-score.js';
import { type CsParticleSource, type KeptAlignment, writeClassificationCs } from './cs-outputs.js';
import { engineToRelion, MIRROR_COLUMN, SCORE_COLUMN } from './relion.js';
import type { CtfColumns } from './stack.js';
import type { ClassificationResult } from './types.js';

/** Names of the output files. */
export const OUTPUT_FILES = {
  data: 'run_data.star',
  classes: 'run_classes.mrcs',
  model: 'run_model.star',
  report: 'report.json',
} as const;

/** The particle metadata the outputs extend. */
export interface ParticleTable {
  /** The input STAR file (all its blocks are kept), or one built for a bare stack. */
  star: StarFile;
  /** Name of the particles block in it. */
  block: string;
  /** Pixel size of the input images in Å (converts origins). */
  pixelSize: number;
  /**
   * Per input particle, `_rlnImageName` as run_data.star writes it: the stack as found (after
   * remapping), named so it resolves from the current folder ({@link particleImageNames}).
   */
  imageNames?: readonly string[];
  /** The input particles for the cryoSPARC outputs (no .cs outputs when absent). */
  cs?: CsParticleSource;
}

/**
 * `_rlnImageName` of every particle of `set` as a STAR file written now should name it: the
 * stack as found (after remapping), relative to the current folder when inside it, absolute
 * otherwise (src/io/stack-references.ts). The image number keeps the input's spelling.
 */
export function particleImageNames(set: ParticleSet, cwd: string = process.cwd()): string[] {
  const paths = set.stacks.map((s) => outputStackPath(s, cwd));
  const original = set.star?.file.block(set.star.particlesBlock)?.strings('rlnImageName');
  return Array.from(set.imageIndex, (img, i) => {
    const at = original?.[i]?.indexOf('@') ?? -1;
    const number = original && at > 0 ? original[i].slice(0, at) : String(img + 1).padStart(6, '0');
    return `${number}@${paths[set.stackIndex[i]]}`;
  });
}

/**
 * A STAR table for particles without one (a bare stack, a cryoSPARC .cs): an optics block and
 * `_rlnImageName` (`000001@path`), with the CTF columns when known. RELION 3.1 needs voltage, Cs
 * and amplitude contrast in the optics block: without CTF parameters these are placeholders
 * (300 kV, 2.7 mm, 0.1). `extra`: more particle columns (a .cs input's origins, `_ucsfUid`).
 */
export function stackTable(
  imageNames: string[],
  box: number,
  pixelSize: number,
  ctf?: CtfColumns,
  extra: Record<string, ArrayLike<number> | readonly string[]> = {},
): ParticleTable {
  const optics = StarBlock.fromColumns('optics', {
    rlnOpticsGroup: [1],
    rlnOpticsGroupName: ['opticsGroup1'],
    rlnImagePixelSize: [pixelSize],
    rlnImageSize: [box],
    rlnImageDimensionality: [2],
    rlnVoltage: [ctf ? ctf.voltage[0] : 300],
    rlnSphericalAberration: [ctf ? ctf.cs[0] : 2.7],
    rlnAmplitudeContrast: [ctf ? ctf.amplitudeContrast[0] : 0.1],
  });
  const particles = StarBlock.fromColumns('particles', {
    rlnImageName: imageNames,
    rlnOpticsGroup: new Float64Array(imageNames.length).fill(1),
    ...(ctf
      ? {
          rlnDefocusU: ctf.defocusU,
          rlnDefocusV: ctf.defocusV,
          rlnDefocusAngle: ctf.defocusAngle,
          rlnPhaseShift: ctf.phaseShift,
        }
      : {}),
    ...extra,
  });
  optics.version = particles.version = '# version 30001';
  return { star: new StarFile([optics, particles]), block: 'particles', pixelSize };
}

/**
 * The final pose of every kept particle in RELION's convention (ψ in degrees, origin in Å =
 * the found shift plus the input's origin) and how the table stores origins.
 */
function finalPoses(table: ParticleTable, result: ClassificationResult) {
  const source = table.star.block(table.block);
  if (!source) throw new Error(`the particle table has no block data_${table.block}`);
  const pixelOrigins = source.has('rlnOriginX') && !source.has('rlnOriginXAngst');
  const inX = pixelOrigins ? source.numeric('rlnOriginX') : source.numeric('rlnOriginXAngst');
  const inY = pixelOrigins ? source.numeric('rlnOriginY') : source.numeric('rlnOriginYAngst');
  const unit = pixelOrigins ? table.pixelSize : 1; // Å per origin unit
  const n = result.kept.length;
  const psi = new Float64Array(n);
  const originXAngst = new Float64Array(n);
  const originYAngst = new Float64Array(n);
  const mirror = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const i = result.kept[r];
    const pose = engineToRelion(
      {
        psi: result.poses.psi[r],
        shiftX: result.poses.shiftX[r],
        shiftY: result.poses.shiftY[r],
        mirror: result.poses.mirror[r] === 1,
      },
      result.pixelSize,
      { x: (inX?.[i] ?? 0) * unit, y: (inY?.[i] ?? 0) * unit },
    );
    psi[r] = pose.psi;
    originXAngst[r] = pose.originXAngst;
    originYAngst[r] = pose.originYAngst;
    mirror[r] = pose.mirror ? 1 : 0;
  }
  return { source, pixelOrigins, unit, psi, originXAngst, originYAngst, mirror };
}

/** The particles block of run_data.star: the kept rows with class, pose, mirror and score columns. */
export function runDataBlock(table: ParticleTable, result: ClassificationResult): StarBlock {
  const { source, pixelOrigins, unit, psi, originXAngst, originYAngst, mirror } = finalPoses(table, result);
  const out = source.selectRows(result.kept);
  if (table.imageNames)
    out.setColumn(
      'rlnImageName',
      Array.from(result.kept, (i) => table.imageNames![i]),
    );
  out.setColumn(
    'rlnClassNumber',
    Float64Array.from(result.assignment, (c) => c + 1),
  );
  out.setColumn('rlnAnglePsi', psi);
  out.setColumn(
    pixelOrigins ? 'rlnOriginX' : 'rlnOriginXAngst',
    originXAngst.map((v) => v / unit),
  );
  out.setColumn(
    pixelOrigins ? 'rlnOriginY' : 'rlnOriginYAngst',
    originYAngst.map((v) => v / unit),
  );
  out.setColumn(MIRROR_COLUMN, mirror);
  out.setColumn(SCORE_COLUMN, Float64Array.from(result.poses.score));
  return out;
}

/** The alignment of the kept particles as the .cs outputs need it (same poses as run_data.star). */
export function keptAlignment(table: ParticleTable, result: ClassificationResult): KeptAlignment {
  const { psi, originXAngst, originYAngst, mirror } = finalPoses(table, result);
  return {
    classes: result.assignment,
    psi,
    originXAngst,
    originYAngst,
    mirror,
    score: result.poses.score,
    pixelSize: table.pixelSize,
  };
}

/** The run_model.star column of a score feature's value, e.g. `ackFeatureEdge`. */
export function featureColumn(name: FeatureName): string {
  return `ackFeature${name[0].toUpperCase()}${name.slice(1)}`;
}

/** run_model.star: the model's general block and one row per class. */
export function modelStar(result: ClassificationResult, inputBox: number): StarFile {
  const { k } = result.params;
  const n = result.kept.length;
  const finite = result.resolution.filter(Number.isFinite);
  const general = StarBlock.fromColumns(
    'model_general',
    {
      rlnReferenceDimensionality: [2],
      rlnDataDimensionality: [2],
      rlnOriginalImageSize: [inputBox],
      rlnCurrentImageSize: [result.classes.box],
      rlnPixelSize: [result.classes.pixelSize],
      rlnNrClasses: [k],
      rlnCurrentResolution: [finite.length ? Math.min(...finite) : 999],
    },
    { loop: false },
  );
  const classes = StarBlock.fromColumns('model_classes', {
    rlnReferenceImage: Array.from(
      { length: k },
      (_, j) => `${String(j + 1).padStart(6, '0')}@${OUTPUT_FILES.classes}`,
    ),
    rlnClassDistribution: result.sizes.map((s) => s / n),
    rlnEstimatedResolution: result.resolution.map((r) => (Number.isFinite(r) ? r : 999)),
    ackClassSize: result.sizes,
    ackClassScore: result.scores.map((c) => c.score),
    ...Object.fromEntries(
      (Object.keys(FEATURES) as FeatureName[]).map((f) => [
        featureColumn(f),
        result.scores.map((c) => c.features[f].value),
      ]),
    ),
  });
  general.version = classes.version = '# version 30001';
  return new StarFile([general, classes]);
}

/**
 * An MRC label: what wrote the file (80 characters at most). Without a date, unlike RELION's:
 * the same run must give byte-identical files.
 */
export function mrcLabel(what: string): string {
  return what.slice(0, 80);
}

/** Writes every output of `result` into `outDir` (see the module documentation); returns the paths. */
export async function writeOutputs(
  outDir: string,
  result: ClassificationResult,
  table: ParticleTable,
  report: Record<string, unknown>,
  inputBox: number,
): Promise<string[]> {
  const staging = await mkdtemp(join(outDir, '.staging-'));
  try {
    const blocks = table.star.blocks.map((b) => (b.name === table.block ? runDataBlock(table, result) : b));
    await writeStar(join(staging, OUTPUT_FILES.data), new StarFile(blocks));
    await writeMrc(join(staging, OUTPUT_FILES.classes), result.classes.averages, {
      nx: result.classes.box,
      ny: result.classes.box,
      nz: result.params.k,
      pixelSize: result.classes.pixelSize,
      stack: true,
      labels: [mrcLabel(`ackmeans ${String(report.version ?? '')}: ${result.params.k} class averages`)],
    });
    await writeStar(join(staging, OUTPUT_FILES.model), modelStar(result, inputBox));
    if (table.cs)
      await writeClassificationCs(
        staging,
        table.cs,
        result.kept,
        keptAlignment(table, result),
        {
          stack: resolve(outDir, OUTPUT_FILES.classes),
          k: result.params.k,
          box: result.classes.box,
          pixelSize: result.classes.pixelSize,
          sizes: result.sizes,
        },
        `ackmeans ${String(report.version ?? '')}`,
      );
    await writeFileAtomic(join(staging, OUTPUT_FILES.report), `${JSON.stringify(report, null, 2)}\n`);
    const written: string[] = [];
    for (const name of await readdir(staging)) {
      if (name.startsWith('.')) continue;
      await rename(join(staging, name), join(outDir, name));
      written.push(join(outDir, name));
    }
    return written;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
