/**
 * The particle-set types shared by the STAR, .cs and stack loaders.
 */
import type { CsFile } from './cs.js';
import type { StarFile } from './star.js';

/** Per-particle CTF parameters, in RELION's units. */
export interface ParticleCtf {
  /** Å */
  defocusU: Float64Array;
  /** Å */
  defocusV: Float64Array;
  /** degrees */
  defocusAngle: Float64Array;
  /** kV */
  voltage: Float64Array;
  /** spherical aberration, mm */
  cs: Float64Array;
  /** fraction (0.07–0.1 typically) */
  amplitudeContrast: Float64Array;
  /** degrees */
  phaseShift: Float64Array;
}

/** Existing per-particle poses, where the source has them (RELION conventions). */
export interface ParticlePoses {
  /** Euler angles in degrees (RELION ZYZ). */
  rot?: Float64Array;
  tilt?: Float64Array;
  psi?: Float64Array;
  /** Origin offsets in Å. */
  originXAngst?: Float64Array;
  originYAngst?: Float64Array;
  /** 1-based class numbers. */
  classNumber?: Int32Array;
}

/** A set of particle images with their metadata, read lazily in batches. */
export interface ParticleSet {
  /** The file the set was opened from. */
  source: string;
  format: 'star' | 'cs' | 'mrc' | 'spider';
  count: number;
  /** Image side in pixels (images are box × box). */
  box: number;
  /** Å/px; the STAR/.cs value wins over the stack header; undefined when nothing says. */
  pixelSize: number | undefined;
  ctf?: ParticleCtf;
  opticsGroup?: Int32Array;
  poses?: ParticlePoses;
  /** The stack files the images come from (resolved paths). */
  stacks: string[];
  /** Per particle: index into `stacks`, and 0-based image index in that stack. */
  stackIndex: Int32Array;
  imageIndex: Int32Array;
  /** Oddities that did not stop the set from opening. */
  warnings: string[];
  /** Particles start … start+count−1 (count·box² floats, particle order, across stacks). */
  readBatch(start: number, count: number, out?: Float32Array): Promise<Float32Array>;
  /**
   * The same particles as binary16 bit patterns (host order), undecoded, when every one of them
   * is stored as float16 (MRC mode 12); otherwise undefined (then use {@link readBatch}). Written
   * into `out` (its first count·box² values) when given.
   */
  readBatchFloat16(start: number, count: number, out?: Uint16Array): Promise<Uint16Array | undefined>;
  /** The source table (STAR input only), so outputs can keep every input column. */
  star?: { file: StarFile; particlesBlock: string };
  /** The source table (cryoSPARC .cs input only), so outputs can keep every input field. */
  cs?: CsFile;
  /**
   * cryoSPARC's particle uids, where the input has them: the `.cs` `uid` field, or a STAR file's
   * `_ucsfUid` column (pyem's csparc2star writes it).
   */
  uids?: BigUint64Array;
  close(): Promise<void>;
}

/** Options of `openParticles`. */
export interface OpenParticlesOptions {
  /**
   * Maps a referenced stack path — exactly as written in the STAR/.cs file, or its base name —
   * to a real file, or a folder prefix ending in `/` (`OLD_DIR/`) to another (`NEW_DIR/`), for
   * files that moved. The result is looked up like any reference (src/io/stack-references.ts).
   */
  remap?: Record<string, string>;
  /** Accept oddities (mixed pixel sizes, odd headers) as `warnings` instead of errors. */
  permissive?: boolean;
}

/** What a metadata loader hands to the particle-set builder. */
export interface ParticleMetadata {
  format: 'star' | 'cs';
  /** Stack paths as referenced in the file (deduplicated), and the folder they are relative to. */
  references: string[];
  baseDir: string;
  stackIndex: Int32Array;
  imageIndex: Int32Array;
  /** Per-particle pixel sizes, when the metadata has them. */
  pixelSizes?: Float64Array;
  /** Image size stated by the metadata, if any. */
  box?: number;
  ctf?: ParticleCtf;
  opticsGroup?: Int32Array;
  poses?: ParticlePoses;
  star?: { file: StarFile; particlesBlock: string };
  cs?: CsFile;
  uids?: BigUint64Array;
  warnings: string[];
}
