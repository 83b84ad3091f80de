/**
 * The working stack: every particle read in batches, screened (quarantine: its image, input
 * origin and CTF values), phase-flipped with
 * its CTF when asked, translated by its input origin, Fourier-cropped to the working box,
 * inverted on request, normalised on its background and softly masked. The result stays in
 * memory (n · box² floats of the working box).
 */
import { throwIfAborted } from '../errors.js';
import type { ParticleCtf } from '../io/particle-types.js';
import type { JobOptions } from '../job.js';
import type { ResolvedParams } from './params.js';
import { preprocessImages } from './preprocess.js';
import { type QuarantinedParticle, screenImages, screenMetadata } from './quarantine.js';

/** Per-particle CTF parameters (RELION's units: Å, degrees, kV, mm), as io's particle sets give them. */
export type CtfColumns = ParticleCtf;

/** What classification needs from a particle set (io's ParticleSet has this shape). */
export interface ParticleInput {
  count: number;
  box: number;
  /** Å per pixel of the input images. */
  pixelSize: number;
  ctf?: CtfColumns;
  /** Input origins in Å (RELION: the translation that centres each particle). */
  poses?: { originXAngst?: Float64Array; originYAngst?: Float64Array };
  /** Images start..start+count−1 (count·box² values). */
  readBatch(start: number, count: number): Promise<Float32Array>;
}

/**
 * Phase-flips `images` (count·box²) in place or into a new array, with the CTF parameters of
 * particles `indices` (the CTF module's phaseFlip, injected so this file does not depend on it).
 */
export type PhaseFlipper = (
  images: Float32Array,
  box: number,
  pixelSize: number,
  ctf: CtfColumns,
  indices: Int32Array,
  job: JobOptions,
) => Promise<Float32Array>;

/** The preprocessed stack. */
export interface WorkingStack {
  /** Working box in pixels. */
  box: number;
  /** Å per working pixel. */
  pixelSize: number;
  /** Preprocessed images of the kept particles, kept.length · box² values. */
  images: Float32Array;
  /** Input index of each kept particle, increasing. */
  kept: Int32Array;
  /** Particles left out, with the reason. */
  quarantined: QuarantinedParticle[];
}

/** Images read and preprocessed per batch: about 32 MB of input pixels, at least 16 images. */
function batchSize(box: number): number {
  return Math.max(16, Math.floor((32 * 2 ** 20) / (4 * box * box)));
}

/**
 * Builds the working stack of `input` for `params`. `onProgress(fraction)` follows the batches.
 * @throws AbortError when `job.signal` fires.
 */
export async function prepareStack(
  input: ParticleInput,
  params: ResolvedParams,
  job: JobOptions & { phaseFlip?: PhaseFlipper },
  onProgress?: (fraction: number) => void,
): Promise<WorkingStack> {
  const N = input.box;
  const m = params.box;
  const inPixels = N * N;
  const outPixels = m * m;
  const images = new Float32Array(input.count * outPixels);
  const kept: number[] = [];
  const quarantined: QuarantinedParticle[] = [];
  // Fourier cropping keeps pixel 0 fixed; this shift puts the input centre ⌊N/2⌋ on ⌊m/2⌋.
  const centre = (Math.floor(m / 2) * N) / m - Math.floor(N / 2);
  const batch = batchSize(N);
  // Metadata first: what the image screening sees must be what is used (shifted, phase-flipped).
  const badMetadata = new Map(
    screenMetadata(input, params.phaseFlip && input.ctf !== undefined).map((q) => [q.index, q]),
  );
  for (let start = 0; start < input.count; start += batch) {
    throwIfAborted(job.signal);
    const count = Math.min(batch, input.count - start);
    const raw = await input.readBatch(start, count);
    const reasons = screenImages(raw, inPixels, count);
    const good: number[] = [];
    reasons.forEach((reason, i) => {
      const metadata = badMetadata.get(start + i);
      if (metadata) quarantined.push(metadata);
      else if (reason) quarantined.push({ index: start + i, reason });
      else good.push(i);
    });
    if (good.length === 0) continue;
    let batchImages: Float32Array = new Float32Array(good.length * inPixels);
    good.forEach((i, r) => batchImages.set(raw.subarray(i * inPixels, (i + 1) * inPixels), r * inPixels));
    const indices = Int32Array.from(good, (i) => start + i);
    if (params.phaseFlip && input.ctf) {
      if (!job.phaseFlip) throw new Error('phase flipping was asked for but no CTF module is available');
      batchImages = await job.phaseFlip(batchImages, N, input.pixelSize, input.ctf, indices, job);
    }
    const shifts = shiftsFor(input, indices, centre);
    const pre = await preprocessImages(batchImages, {
      box: N,
      outBox: m,
      radius: params.radius,
      invert: params.invert,
      threads: job.threads,
      signal: job.signal,
      ...(shifts ? { shifts } : {}),
    });
    images.set(pre, kept.length * outPixels);
    for (const i of indices) kept.push(i);
    onProgress?.(Math.min(1, (start + count) / input.count));
  }
  return {
    box: m,
    pixelSize: params.workingPixelSize,
    images: kept.length === input.count ? images : images.slice(0, kept.length * outPixels),
    kept: Int32Array.from(kept),
    quarantined,
  };
}

/** Per-image shifts in input pixels (input origin + centre correction), or undefined when all are 0. */
function shiftsFor(input: ParticleInput, indices: Int32Array, centre: number): Float32Array | undefined {
  const ox = input.poses?.originXAngst;
  const oy = input.poses?.originYAngst;
  if (!ox && !oy && centre === 0) return undefined;
  const out = new Float32Array(indices.length * 2);
  indices.forEach((idx, r) => {
    out[2 * r] = (ox ? ox[idx] / input.pixelSize : 0) + centre;
    out[2 * r + 1] = (oy ? oy[idx] / input.pixelSize : 0) + centre;
  });
  return out;
}
