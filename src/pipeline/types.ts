/** The in-memory result of a classification, shared by `classify()`, the writers and the CLI. */
import type { IterationRecord } from '../cluster/index.js';
import type { FinalAverages } from './averages.js';
import type { ClassScore } from './class-score.js';
import type { ResolvedParams } from './params.js';
import type { QuarantinedParticle } from './quarantine.js';

/** Each kept particle's alignment to its class, in the alignment engine's (= RELION's) convention. */
export interface ParticlePoses {
  /** ψ in degrees. */
  psi: Float32Array;
  /** Shift in working-box pixels (applied before the rotation). */
  shiftX: Float32Array;
  shiftY: Float32Array;
  /** 1 = flipped y → −y after the rotation. */
  mirror: Uint8Array;
  /** Dissimilarity to the class average (smaller is better). */
  score: Float32Array;
}

/** One row of the per-iteration trace (a clustering record, tagged with its phase). */
export interface TraceRow extends IterationRecord {
  /** Pipeline phase: 'classes' for the main clustering; MSA also has 'features'. */
  phase: string;
  /** Coefficient of variation of the class sizes after the iteration. */
  sizeCv: number;
}

/** What {@link classify} returns. */
export interface ClassificationResult {
  params: ResolvedParams;
  /** Particles in the input. */
  count: number;
  /** Input index of each classified particle (the others are quarantined), increasing. */
  kept: Int32Array;
  quarantined: QuarantinedParticle[];
  /** Working box (pixels) and pixel size (Å) of the class averages. */
  box: number;
  pixelSize: number;
  /** Class of each kept particle, 0-based. */
  assignment: Int32Array;
  poses: ParticlePoses;
  /** k class averages at the working box, k·box² values (the references of the final alignment). */
  averages: Float32Array;
  /**
   * The final CTF-corrected class averages at the average box (run_classes.mrcs), with their
   * even/odd halves, FRC, SSNR and resolution in pixels of that box.
   */
  classes: FinalAverages;
  /** Each class's score in [0, 1] with its features and reasons (class-score.ts). */
  scores: ClassScore[];
  /** Members per class. */
  sizes: number[];
  /**
   * Resolution estimate of each class (Å) from the even/odd FRC of the final averages at 0.143
   * (Infinity when undetermined).
   */
  resolution: number[];
  /** Every clustering iteration, in order. */
  trace: TraceRow[];
  /** Main clustering iterations after the initial assignment. */
  iterations: number;
  converged: boolean;
  /** Wall time per stage in seconds. */
  timings: Record<string, number>;
}
