/**
 * Screening particles before anything else touches them: an image with a NaN or an infinity,
 * a constant image, or one with a value beyond a sane bound is quarantined — left out of
 * preprocessing, clustering and the class averages, and listed in report.json. So is a particle
 * whose metadata cannot be used: a non-finite input origin (the shift applied to its image) or
 * CTF values the CTF cannot be computed from.
 */
import type { ParticleCtf } from '../io/particle-types.js';

/** Why a particle was quarantined. */
export type QuarantineReason = 'non-finite' | 'constant' | 'out-of-range' | 'bad-origin' | 'bad-ctf';

/** One quarantined particle. */
export interface QuarantinedParticle {
  /** 0-based index of the particle in the input. */
  index: number;
  reason: QuarantineReason;
  /** What is wrong, for the metadata reasons (e.g. `defocusU is NaN`). */
  detail?: string;
}

/** Values whose magnitude exceeds this are "wildly out of range" (no detector or normalisation gives them). */
export const OUT_OF_RANGE_BOUND = 1e6;

/**
 * Screens `count` images of `pixels` values each in `images`; returns the reason for each bad
 * image (undefined for a good one). A constant image has zero variance (every pixel equal).
 */
export function screenImages(
  images: Float32Array,
  pixels: number,
  count = images.length / pixels,
): Array<QuarantineReason | undefined> {
  const out = new Array<QuarantineReason | undefined>(count);
  for (let i = 0; i < count; i++) {
    const base = i * pixels;
    const first = images[base];
    let constant = true;
    let reason: QuarantineReason | undefined;
    for (let p = 0; p < pixels; p++) {
      const v = images[base + p];
      if (!Number.isFinite(v)) {
        reason = 'non-finite';
        break;
      }
      if (Math.abs(v) > OUT_OF_RANGE_BOUND) reason = 'out-of-range';
      if (v !== first) constant = false;
    }
    out[i] = reason ?? (constant ? 'constant' : undefined);
  }
  return out;
}

/** The metadata of a particle set that screening looks at. */
export interface ScreenedMetadata {
  count: number;
  ctf?: ParticleCtf;
  poses?: { originXAngst?: Float64Array; originYAngst?: Float64Array };
}

/**
 * The CTF values the CTF module accepts (src/ctf.ts): all finite, voltage > 0, Cs ≥ 0,
 * amplitude contrast in [0, 1). Returns what is wrong with particle `i`, or undefined.
 */
export function ctfProblem(ctf: ParticleCtf, i: number): string | undefined {
  const checks: [keyof ParticleCtf, (v: number) => boolean, string][] = [
    ['defocusU', Number.isFinite, 'is not finite'],
    ['defocusV', Number.isFinite, 'is not finite'],
    ['defocusAngle', Number.isFinite, 'is not finite'],
    ['voltage', (v) => v >= 1e-3 && v < Infinity, 'is not a positive voltage (kV)'],
    ['cs', (v) => v >= 0 && v < Infinity, 'is not a non-negative Cs (mm)'],
    ['amplitudeContrast', (v) => v >= 0 && v <= 0.999999, 'is outside [0, 1)'],
    ['phaseShift', Number.isFinite, 'is not finite'],
  ];
  for (const [field, ok, what] of checks) {
    const v = ctf[field][i];
    if (!ok(v)) return `${field} ${v} ${what}`;
  }
  return undefined;
}

/**
 * Screens the metadata of every particle: a non-finite input origin (`bad-origin`) or, when
 * `useCtf`, unusable CTF values (`bad-ctf`). Returns the quarantined particles (by index).
 */
export function screenMetadata(input: ScreenedMetadata, useCtf: boolean): QuarantinedParticle[] {
  const out: QuarantinedParticle[] = [];
  const ox = input.poses?.originXAngst;
  const oy = input.poses?.originYAngst;
  const ctf = useCtf ? input.ctf : undefined;
  for (let i = 0; i < input.count; i++) {
    const x = ox ? ox[i] : 0;
    const y = oy ? oy[i] : 0;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      out.push({ index: i, reason: 'bad-origin', detail: `origin (${x}, ${y}) Å is not finite` });
      continue;
    }
    const problem = ctf && ctfProblem(ctf, i);
    if (problem) out.push({ index: i, reason: 'bad-ctf', detail: problem });
  }
  return out;
}
