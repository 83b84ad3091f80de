/**
 * The contrast transfer function in RELION's model (defocus U/V/angle, voltage, Cs, amplitude
 * contrast, phase shift; relativistic wavelength; no B-factor), its images, and its application
 * to batches of images: multiplying by the CTF (simulation) and phase flipping (preprocessing).
 *
 * CTF(f) = −sin γ, γ = π·λ·Δf(θ)·|f|² + (π/2)·Cs·λ³·|f|⁴ − phaseShift − atan(Q0/√(1−Q0²)),
 * Δf(θ) = −[(U+V)/2 + (U−V)/2·cos 2(θ − angle)], λ = 12.2643247/√(V·(1 + 0.978466·10⁻⁶·V)) Å
 * (V in volts). CTF(0) = Q0 > 0: positive contrast transfer at low frequency, as in RELION.
 * The formula is computed once, in native code (native/core/ctf.cpp).
 */
import {
  checkCallback,
  checkFloat32Array,
  checkInt,
  checkNumber,
  checkSignal,
  firstNonFinite,
} from './errors.js';
import { type JobOptions, type Progress, resolveThreads, runNativeJob } from './job.js';
import { native } from './native.js';

/** One CTF, in the units of RELION's STAR files. */
export interface CtfParameters {
  /** `_rlnDefocusU`, Å (positive = underfocus). */
  defocusU: number;
  /** `_rlnDefocusV`, Å. */
  defocusV: number;
  /** `_rlnDefocusAngle`, degrees: direction of the U axis from x. */
  defocusAngle: number;
  /** `_rlnVoltage`, kV. */
  voltage: number;
  /** `_rlnSphericalAberration`, mm. */
  cs: number;
  /** `_rlnAmplitudeContrast`, in [0, 1). */
  amplitudeContrast: number;
  /** `_rlnPhaseShift`, degrees (default 0). */
  phaseShift?: number;
}

/** The CTFs of n images: per-image arrays, or one number shared by all. */
export interface CtfBatch {
  defocusU: Float64Array;
  defocusV: Float64Array;
  defocusAngle: Float64Array;
  voltage: number | Float64Array;
  cs: number | Float64Array;
  amplitudeContrast: number | Float64Array;
  phaseShift?: number | Float64Array;
}

const FIELDS = [
  'defocusU',
  'defocusV',
  'defocusAngle',
  'voltage',
  'cs',
  'amplitudeContrast',
  'phaseShift',
] as const;

/** Checks one CTF's value; `where` names it in the error. */
function checkField(field: (typeof FIELDS)[number], v: unknown, where: string): number {
  const name = `${where}${field}`;
  switch (field) {
    case 'voltage':
      return checkNumber(name, v, 1e-3);
    case 'cs':
      return checkNumber(name, v, 0);
    case 'amplitudeContrast':
      return checkNumber(name, v, 0, 0.999999);
    default:
      return checkNumber(name, v);
  }
}

/** The 7 values of one CTF in the native order, checked. */
function packOne(p: CtfParameters): Float64Array {
  if (typeof p !== 'object' || p === null) throw new TypeError('ctf must be an object');
  return Float64Array.from(FIELDS, (f) => checkField(f, f === 'phaseShift' ? (p[f] ?? 0) : p[f], 'ctf.'));
}

/** n×7 interleaved values of a batch, checked (lengths, ranges, finiteness). */
export function packCtfBatch(ctf: CtfBatch, n: number): Float64Array {
  if (typeof ctf !== 'object' || ctf === null) throw new TypeError('ctf must be an object');
  const out = new Float64Array(7 * n);
  FIELDS.forEach((f, k) => {
    const v = f === 'phaseShift' ? (ctf[f] ?? 0) : ctf[f];
    if (typeof v === 'number') {
      const x = checkField(f, v, 'ctf.');
      for (let i = 0; i < n; i++) out[7 * i + k] = x;
    } else if (v instanceof Float64Array) {
      if (v.length !== n)
        throw new RangeError(`ctf.${f} has ${v.length} values, expected one per image (${n})`);
      for (let i = 0; i < n; i++) out[7 * i + k] = checkField(f, v[i], `image ${i}: ctf.`);
    } else {
      throw new TypeError(`ctf.${f} must be a number or a Float64Array`);
    }
  });
  return out;
}

/**
 * The CTF on the rfft half-plane grid of a box×box image (FFTW r2c layout): `box` rows of
 * `box/2 + 1` values; row ky holds frequency ky (ky ≤ box/2) or ky − box, column kx frequency kx,
 * in units of 1/(box·pixelSize) Å⁻¹.
 */
export function ctfImage(params: CtfParameters, box: number, pixelSize: number): Float32Array {
  checkInt('box', box, 2, 8192);
  checkNumber('pixelSize', pixelSize, 1e-6);
  return native().ctfHalfplane({ params: packOne(params), box, pixelSize });
}

/**
 * The CTF as a full box×box image with zero frequency at (⌊box/2⌋, ⌊box/2⌋): value [y][x] is the
 * CTF at frequency (x − ⌊box/2⌋, y − ⌊box/2⌋)/(box·pixelSize). For display and tests.
 */
export function ctfImageFull(params: CtfParameters, box: number, pixelSize: number): Float32Array {
  const half = ctfImage(params, box, pixelSize);
  const w = (box >> 1) + 1;
  const c = box >> 1;
  const out = new Float32Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      let fx = x - c;
      let fy = y - c;
      if (fx < 0) {
        // The CTF is even: C(−f) = C(f).
        fx = -fx;
        fy = -fy;
      }
      out[y * box + x] = half[(((fy % box) + box) % box) * w + fx];
    }
  return out;
}

/** Options of {@link applyCtf} and {@link phaseFlip}. */
export type CtfJobOptions = JobOptions;

async function runCtf(
  mode: 0 | 1,
  images: Float32Array,
  box: number,
  pixelSize: number,
  ctf: CtfBatch,
  options: CtfJobOptions,
): Promise<Float32Array> {
  checkFloat32Array('images', images);
  checkInt('box', box, 2, 8192);
  checkNumber('pixelSize', pixelSize, 1e-6);
  if (images.length === 0 || images.length % (box * box) !== 0)
    throw new RangeError(
      `images.length (${images.length}) must be a positive multiple of box² (${box * box})`,
    );
  const bad = firstNonFinite(images);
  if (bad >= 0) throw new RangeError(`images[${bad}] is not finite (${images[bad]})`);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const n = images.length / (box * box);
  const params = packCtfBatch(ctf, n);
  const threads = resolveThreads(options.threads);
  const signal = checkSignal(options.signal);
  const onProgress = checkCallback<(p: Progress) => void>('onProgress', options.onProgress);
  return runNativeJob(
    (control) => native().applyCtf({ images, n, box, pixelSize, params, mode, threads, control }),
    {
      signal,
      onProgress,
    },
  );
}

/**
 * Multiplies each image's Fourier transform by its own CTF (what the microscope does):
 * out_i = IFFT(FFT(image_i) · CTF_i). Native (FFTW r2c/c2r), OpenMP over images.
 *
 * @param images n·box² values, image-major, [y][x]. Not modified.
 * @returns a new array of the same size. The same for any thread count.
 */
export function applyCtf(
  images: Float32Array,
  box: number,
  pixelSize: number,
  ctf: CtfBatch,
  options: CtfJobOptions = {},
): Promise<Float32Array> {
  return runCtf(0, images, box, pixelSize, ctf, options);
}

/**
 * Phase flipping: out_i = IFFT(FFT(image_i) · sign(CTF_i)), with sign(0) = +1 as in RELION's
 * "only flip phases". Restores positive contrast transfer at every frequency where the CTF is not
 * zero; flipping twice gives the image back. Native (FFTW r2c/c2r), OpenMP over images.
 *
 * @param images n·box² values, image-major, [y][x]. Not modified.
 * @param ctf per-image CTF parameters (numbers are shared by all images).
 * @returns a new array of the same size. The same for any thread count.
 */
export function phaseFlip(
  images: Float32Array,
  box: number,
  pixelSize: number,
  ctf: CtfBatch,
  options: CtfJobOptions = {},
): Promise<Float32Array> {
  return runCtf(1, images, box, pixelSize, ctf, options);
}
