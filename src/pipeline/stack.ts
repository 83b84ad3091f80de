/**
 * The working stack: every particle read in batches, screened (quarantine: its image, input
 * origin and CTF values), phase-flipped with its CTF when asked, translated by its input origin, Fourier-cropped to the working box,
 * inverted on request, normalised on its background, softly masked and rounded to float16 — all
 * in one native pass per batch with one FFT round trip per image (native/core/preprocess.cpp).
 * The result is kept in memory when small, otherwise streamed tile by tile into a float16
 * scratch file (scratch.ts) and read back through an {@link ImageProvider}. Both hold the same
 * float16-rounded values, so the two paths give identical results.
 */
import { tmpdir } from 'node:os';
import type { ImageProvider, Images } from '../align/provider.js';
import { throwIfAborted } from '../errors.js';
import type { ParticleCtf } from '../io/particle-types.js';
import { type JobOptions, resolveThreads, runNativeJob } from '../job.js';
import { native } from '../native.js';
import type { ResolvedParams } from './params.js';
import { type QuarantineReason, type QuarantinedParticle, screenMetadata } from './quarantine.js';
import { type ScratchStack, createScratchStack } from './scratch.js';

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
  /** Images start..start+count−1 (count·box² values), into `out` when given. */
  readBatch(start: number, count: number, out?: Float32Array): Promise<Float32Array>;
  /**
   * The same images as undecoded binary16 bit patterns when they are stored so (MRC mode 12),
   * else undefined: the native pass then decodes them, not JavaScript. Into `out` when given.
   */
  readBatchFloat16?(start: number, count: number, out?: Uint16Array): Promise<Uint16Array | undefined>;
}

/** The preprocessed stack. */
export interface WorkingStack {
  /** Working box in pixels. */
  box: number;
  /** Å per working pixel. */
  pixelSize: number;
  /**
   * Preprocessed images of the kept particles (kept.length · box² values, each a float16 value):
   * a Float32Array when the stack is held in memory, else an {@link ImageProvider} over the
   * scratch file (read it in tiles; {@link stackImages} loads it whole).
   */
  images: Images;
  /** Input index of each kept particle, increasing. */
  kept: Int32Array;
  /** Particles left out, with the reason. */
  quarantined: QuarantinedParticle[];
  /** Scratch-file bytes used (0 in memory). */
  scratchBytes: number;
  /** The folder of the scratch file (absolute), when the stack streams through one. */
  scratchDir?: string;
  /** Releases the scratch file (nothing in memory). Idempotent. */
  close(): Promise<void>;
}

/** Where the working stack lives: in memory up to a size, else in a scratch folder. */
export interface StackStorage {
  /** Folder of the float16 scratch file (default: the system's temporary folder). */
  scratch?: string;
  /**
   * Largest stack kept in memory, in bytes of float32 pixels (default
   * {@link IN_MEMORY_STACK_BYTES}); 0 always streams through the scratch file.
   */
  inMemoryLimit?: number;
  /** Input images read and preprocessed per batch (default: about 32 MB of input pixels). */
  batch?: number;
}

/** Default largest working stack held in memory: 512 MiB of float32 pixels (≈ 32,000 images at 64²). */
export const IN_MEMORY_STACK_BYTES = 512 * 2 ** 20;

/** Images read and preprocessed per batch: about 32 MB of input pixels, at least 16 images. */
function batchSize(box: number): number {
  return Math.max(16, Math.floor((32 * 2 ** 20) / (4 * box * box)));
}

/** Screening codes of native/core/preprocess.h (index = code). */
const SCREEN_REASONS: Array<QuarantineReason | undefined> = [
  undefined,
  'non-finite',
  'out-of-range',
  'constant',
];

/** The whole stack as one Float32Array (read from the scratch file when streamed). */
export async function stackImages(
  stack: Pick<WorkingStack, 'images' | 'box' | 'kept'>,
): Promise<Float32Array> {
  if (stack.images instanceof Float32Array) return stack.images;
  return stack.images.read(0, stack.images.n);
}

/**
 * Builds the working stack of `input` for `params`. `onProgress(fraction)` follows the batches.
 * Input batches are read one ahead of the one being preprocessed, and with a scratch file each
 * preprocessed batch is written while the next is preprocessed, so memory holds only a few
 * batches whatever the number of particles.
 * @throws AbortError when `job.signal` fires; AckmeansError `ERR_SCRATCH` for a bad scratch folder.
 */
export async function prepareStack(
  input: ParticleInput,
  params: Pick<ResolvedParams, 'box' | 'radius' | 'invert' | 'phaseFlip' | 'workingPixelSize'>,
  job: JobOptions & StackStorage,
  onProgress?: (fraction: number) => void,
): Promise<WorkingStack> {
  const N = input.box;
  const m = params.box;
  const outPixels = m * m;
  const limit = job.inMemoryLimit ?? IN_MEMORY_STACK_BYTES;
  const inMemory = input.count * outPixels * 4 <= limit;
  const threads = resolveThreads(job.threads);
  const scratch: ScratchStack | undefined = inMemory
    ? undefined
    : await createScratchStack(job.scratch ?? tmpdir(), m, input.count, threads);
  try {
    let images: Float32Array | undefined = inMemory ? new Float32Array(input.count * outPixels) : undefined;
    const kept: number[] = [];
    const quarantined: QuarantinedParticle[] = [];
    // Fourier cropping keeps pixel 0 fixed; this shift puts the input centre ⌊N/2⌋ on ⌊m/2⌋.
    const centre = (Math.floor(m / 2) * N) / m - Math.floor(N / 2);
    const batch = job.batch ?? batchSize(N);
    // Metadata first: what the image screening sees must be what is used (shifted, phase-flipped).
    const badMetadata = new Map(
      screenMetadata(input, params.phaseFlip && input.ctf !== undefined).map((q) => [q.index, q]),
    );
    // Two buffers of each kind, taken in turn (batch b reads into slot b mod 2 while the batch
    // before it is processed from the other): no fresh allocation, so no page faults, per batch.
    // Once a batch is not all float16, later batches are read as floats without asking again
    // (both paths give the same working stack; the float16 one only saves decoding in JavaScript).
    const halves: Uint16Array[] = [];
    const floats: Float32Array[] = [];
    let askFloat16 = input.readBatchFloat16 !== undefined;
    const read = async (start: number): Promise<Float32Array | Uint16Array> => {
      const count = Math.min(batch, input.count - start);
      const slot = Math.floor(start / batch) % 2;
      if (askFloat16 && input.readBatchFloat16) {
        halves[slot] ??= new Uint16Array(batch * N * N);
        const bits = await input.readBatchFloat16(start, count, halves[slot]);
        if (bits) return bits.subarray(0, count * N * N);
        askFloat16 = false;
        halves.length = 0;
      }
      floats[slot] ??= new Float32Array(batch * N * N);
      return (await input.readBatch(start, count, floats[slot])).subarray(0, count * N * N);
    };
    const readAhead = (start: number) => {
      const p = read(start);
      p.catch(() => undefined); // awaited below; not an unhandled rejection if we stop first
      return p;
    };
    let next = readAhead(0);
    let writing: Promise<void> = Promise.resolve();
    for (let start = 0; start < input.count; start += batch) {
      throwIfAborted(job.signal);
      const count = Math.min(batch, input.count - start);
      const raw = await next;
      if (start + batch < input.count) next = readAhead(start + batch);
      const shifts = shiftsFor(input, start, count, centre);
      const ctf = params.phaseFlip && input.ctf ? ctfFor(input.ctf, start, count) : undefined;
      const out = await runNativeJob(
        (control) =>
          native().preprocessStack({
            ...(raw instanceof Uint16Array ? { half: raw } : { images: raw }),
            n: count,
            box: N,
            outBox: m,
            radius: params.radius,
            edge: 3,
            invert: params.invert,
            mask: true,
            ...(shifts ? { shifts } : {}),
            ...(ctf ? { ctf, pixelSize: input.pixelSize } : {}),
            screen: true,
            roundFloat16: true,
            threads,
            control,
          }),
        { signal: job.signal },
      );
      const screen = out.screen as Uint8Array;
      let good = 0;
      for (let i = 0; i < count; i++) {
        const reason = SCREEN_REASONS[screen[i]];
        const metadata = badMetadata.get(start + i);
        if (metadata) quarantined.push(metadata);
        else if (reason) quarantined.push({ index: start + i, reason });
        else {
          if (good !== i) out.images.copyWithin(good * outPixels, i * outPixels, (i + 1) * outPixels);
          kept.push(start + i);
          good++;
        }
      }
      const pre = out.images.subarray(0, good * outPixels);
      if (images) images.set(pre, (kept.length - good) * outPixels);
      else if (scratch) {
        await writing;
        writing = scratch.append(pre);
        writing.catch(() => undefined);
      }
      onProgress?.(Math.min(1, (start + count) / input.count));
    }
    await writing;
    if (images && kept.length < input.count) images = images.slice(0, kept.length * outPixels);
    scratch?.finish();
    return {
      box: m,
      pixelSize: params.workingPixelSize,
      images: images ?? (scratch as ImageProvider),
      kept: Int32Array.from(kept),
      quarantined,
      scratchBytes: scratch?.bytes ?? 0,
      ...(scratch ? { scratchDir: scratch.dir } : {}),
      close: async () => {
        await scratch?.close();
      },
    };
  } catch (err) {
    await scratch?.close();
    throw err;
  }
}

/**
 * The n×7 CTF parameters of particles start..start+count−1 in the native order (ctf.h). Values
 * are not checked here: screenMetadata quarantines particles with unusable ones, and the native
 * pass's output for those is discarded.
 */
function ctfFor(ctf: CtfColumns, start: number, count: number): Float64Array {
  const columns = [
    ctf.defocusU,
    ctf.defocusV,
    ctf.defocusAngle,
    ctf.voltage,
    ctf.cs,
    ctf.amplitudeContrast,
    ctf.phaseShift,
  ];
  const out = new Float64Array(7 * count);
  for (let i = 0; i < count; i++) columns.forEach((c, k) => (out[7 * i + k] = c[start + i]));
  return out;
}

/**
 * Shifts in input pixels (input origin + centre correction) of particles start..start+count−1,
 * or undefined when all are 0.
 */
function shiftsFor(
  input: ParticleInput,
  start: number,
  count: number,
  centre: number,
): Float32Array | undefined {
  const ox = input.poses?.originXAngst;
  const oy = input.poses?.originYAngst;
  if (!ox && !oy && centre === 0) return undefined;
  const out = new Float32Array(count * 2);
  for (let r = 0; r < count; r++) {
    out[2 * r] = (ox ? ox[start + r] / input.pixelSize : 0) + centre;
    out[2 * r + 1] = (oy ? oy[start + r] / input.pixelSize : 0) + centre;
  }
  return out;
}
