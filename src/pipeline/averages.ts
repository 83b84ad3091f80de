/**
 * The final class averages at full size: the input particles read again in tiles (memory flat in
 * n), normalised without a mask, their input origins applied, each aligned with its final pose
 * (found at the working box, shifts scaled to input pixels) and averaged with its CTF (Wiener
 * filter with the class's SSNR from its even/odd FRC; src/align's ctfCorrectedAverages).
 */
import { type AverageCorrection, type CtfClassAverages, ctfCorrectedAverages } from '../align/average.js';
import type { ImageParameters } from '../align/average.js';
import { applyPoses } from '../align/apply.js';
import type { ImageProvider } from '../align/provider.js';
import { packCtfBatch } from '../ctf.js';
import type { JobOptions } from '../job.js';
import type { ClassDetail } from '../report/gallery.js';
import { accepted, centreOffset } from './class-score.js';
import type { ResolvedParams } from './params.js';
import { preprocessImages } from './preprocess.js';
import type { ParticleInput } from './stack.js';
import type { ClassificationResult, ParticlePoses } from './types.js';

/** The CTF-corrected class averages of a run (written to run_classes.mrcs). */
export interface FinalAverages extends CtfClassAverages {
  /** How the averages were corrected for the CTF ('none' when the input has no CTF). */
  correction: AverageCorrection;
}

/**
 * The kept particles of `input` at `box` = input box, normalised on their background (outside
 * the particle radius), contrast inverted when asked, input origins applied, no mask: what the
 * full-size averages are made of. Reads the input in tiles (kept must be increasing).
 */
export function fullSizeImages(
  input: ParticleInput,
  kept: Int32Array,
  params: ResolvedParams,
  job: JobOptions,
): ImageProvider {
  const N = input.box;
  const D = N * N;
  const radius = (params.radius * N) / params.box;
  return {
    n: kept.length,
    async read(start, count) {
      const lo = kept[start];
      const hi = kept[start + count - 1];
      const raw = await input.readBatch(lo, hi - lo + 1);
      const images = new Float32Array(count * D);
      const shifts = new Float32Array(count * 2);
      const ox = input.poses?.originXAngst;
      const oy = input.poses?.originYAngst;
      for (let r = 0; r < count; r++) {
        const i = kept[start + r];
        images.set(raw.subarray((i - lo) * D, (i - lo + 1) * D), r * D);
        shifts[2 * r] = ox ? ox[i] / input.pixelSize : 0;
        shifts[2 * r + 1] = oy ? oy[i] / input.pixelSize : 0;
      }
      return preprocessImages(images, {
        box: N,
        outBox: N,
        radius,
        invert: params.invert,
        mask: false,
        shifts,
        ...(job.threads === undefined ? {} : { threads: job.threads }),
        ...(job.signal ? { signal: job.signal } : {}),
      });
    },
  };
}

/** Poses found at the working box as poses at the input box (shifts × input/working pixel ratio). */
export function inputBoxPoses(poses: ParticlePoses, workingBox: number, inputBox: number): ImageParameters {
  const ratio = inputBox / workingBox;
  return {
    psi: poses.psi,
    shiftX: Float32Array.from(poses.shiftX, (s) => s * ratio),
    shiftY: Float32Array.from(poses.shiftY, (s) => s * ratio),
    mirror: poses.mirror,
  };
}

/** The CTF parameters of the kept particles, n×7 in the native order, or undefined without a CTF. */
export function keptCtf(input: ParticleInput, kept: Int32Array): Float64Array | undefined {
  const ctf = input.ctf;
  if (!ctf) return undefined;
  const pick = (a: Float64Array): Float64Array => Float64Array.from(kept, (i) => a[i]);
  return packCtfBatch(
    {
      defocusU: pick(ctf.defocusU),
      defocusV: pick(ctf.defocusV),
      defocusAngle: pick(ctf.defocusAngle),
      voltage: pick(ctf.voltage),
      cs: pick(ctf.cs),
      amplitudeContrast: pick(ctf.amplitudeContrast),
      phaseShift: pick(ctf.phaseShift),
    },
    kept.length,
  );
}

/**
 * The final class averages at `params.averageBox`: Wiener-filtered with each particle's CTF when
 * the input has one and phase flipping is on (`correction` overrides), plain means otherwise.
 */
export async function finalAverages(
  input: ParticleInput,
  kept: Int32Array,
  assignment: Int32Array,
  poses: ParticlePoses,
  params: ResolvedParams,
  job: JobOptions,
  correction?: AverageCorrection,
): Promise<FinalAverages> {
  const ctf = params.phaseFlip ? keptCtf(input, kept) : undefined;
  const mode: AverageCorrection = correction ?? (ctf ? 'wiener' : 'none');
  const result = await ctfCorrectedAverages(
    fullSizeImages(input, kept, params, job),
    input.box,
    assignment,
    params.k,
    inputBoxPoses(poses, params.box, input.box),
    {
      pixelSize: input.pixelSize,
      outBox: params.averageBox,
      correction: mode,
      ...(ctf && mode !== 'none' ? { ctf } : {}),
      ...job,
    },
  );
  return { ...result, correction: mode };
}

/**
 * Up to `perClass` members of each class (the first ones in file order), read at the input box
 * as the averages read them and aligned with their final poses: the report's member thumbnails.
 * @returns per class, m·box² values (m ≤ perClass), and the box.
 */
export async function memberSamples(
  input: ParticleInput,
  result: Pick<ClassificationResult, 'kept' | 'assignment' | 'poses' | 'params'>,
  job: JobOptions,
  perClass: number,
): Promise<{ members: Float32Array[]; box: number }> {
  const { kept, assignment, poses, params } = result;
  const N = input.box;
  const D = N * N;
  const rows: number[][] = Array.from({ length: params.k }, () => []);
  for (let r = 0; r < assignment.length; r++) {
    const c = assignment[r];
    if (c >= 0 && rows[c].length < perClass) rows[c].push(r);
  }
  const images = fullSizeImages(input, kept, params, job);
  const all = rows.flat();
  const raw = new Float32Array(all.length * D);
  for (let i = 0; i < all.length; i++) raw.set(await images.read(all[i], 1), i * D);
  const full = inputBoxPoses(poses, params.box, N);
  const pick = (a: Float32Array): Float32Array => Float32Array.from(all, (r) => a[r]);
  const aligned = all.length
    ? await applyPoses(
        raw,
        N,
        {
          psi: pick(full.psi),
          shiftX: pick(full.shiftX),
          shiftY: pick(full.shiftY),
          mirror: Uint8Array.from(all, (r) => full.mirror[r]),
        },
        job,
      )
    : raw;
  const members: Float32Array[] = [];
  let at = 0;
  for (const r of rows) {
    members.push(aligned.slice(at * D, (at + r.length) * D));
    at += r.length;
  }
  return { members, box: N };
}

/** Members shown per class in the report: 6, fewer for many classes (about 300 thumbnails in all, at least 2 each). */
export function membersPerClass(k: number): number {
  return Math.max(2, Math.min(6, Math.floor(300 / k)));
}

/**
 * What the report's class gallery shows of each class of a run: score, decision, reasons,
 * features, resolution (Å), FRC and a few aligned members (see src/report/gallery.ts).
 */
export async function reportClasses(
  input: ParticleInput,
  result: ClassificationResult,
  job: JobOptions,
): Promise<{ classes: ClassDetail[]; pixelSize: number }> {
  const { members, box } = await memberSamples(input, result, job, membersPerClass(result.params.k));
  const { shells, frc } = result.classes;
  const classes = result.scores.map((s, j) => ({
    score: s.score,
    accepted: accepted(s),
    reasons: s.reasons,
    features: s.features,
    resolution: result.resolution[j],
    frc: frc.subarray(j * shells, (j + 1) * shells),
    members: members[j],
    memberBox: box,
  }));
  return { classes, pixelSize: result.classes.pixelSize };
}

/**
 * Poses that put each class average's centre of mass at the box centre (`--recentre`). With
 * aligned(p) = x(c + M·(p − c) − shift), M = R(−ψ)·F^mirror (src/align/apply.ts), the class
 * content at c + d moves to c when aligned'(p) = aligned(p + d), i.e. shift' = shift − M·d.
 * @param classes the averages (their box; `radius`: particle radius in pixels of that box).
 * @param workingBox the box of the poses' shifts.
 * @returns the new poses and each class's offset d in pixels of the averages' box (dx, dy pairs).
 */
export function recentredPoses(
  classes: Pick<CtfClassAverages, 'averages' | 'box' | 'sizes'>,
  assignment: Int32Array,
  poses: ParticlePoses,
  workingBox: number,
  radius: number,
): { poses: ParticlePoses; offsets: Float64Array } {
  const { box } = classes;
  const D = box * box;
  const k = classes.sizes.length;
  const offsets = new Float64Array(2 * k);
  for (let j = 0; j < k; j++) {
    if (classes.sizes[j] === 0) continue;
    const { dx, dy } = centreOffset(classes.averages.subarray(j * D, (j + 1) * D), box, radius);
    offsets[2 * j] = dx;
    offsets[2 * j + 1] = dy;
  }
  const scale = workingBox / box;
  const shiftX = Float32Array.from(poses.shiftX);
  const shiftY = Float32Array.from(poses.shiftY);
  for (let i = 0; i < assignment.length; i++) {
    const j = assignment[i];
    if (j < 0) continue;
    const dx = offsets[2 * j] * scale;
    const dy = (poses.mirror[i] ? -offsets[2 * j + 1] : offsets[2 * j + 1]) * scale;
    const t = (poses.psi[i] * Math.PI) / 180;
    // M·d = R(−ψ)·(F^mirror·d)
    shiftX[i] -= Math.cos(t) * dx + Math.sin(t) * dy;
    shiftY[i] -= -Math.sin(t) * dx + Math.cos(t) * dy;
  }
  return { poses: { ...poses, shiftX, shiftY }, offsets };
}
