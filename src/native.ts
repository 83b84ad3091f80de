/**
 * The typed binding to the C++ addon `ackmeans_native.node`.
 *
 * The addon is loaded from `build/Release/ackmeans_native.node` in the package (both cmake-js
 * and node-gyp put it there), or from the path in the `ACKMEANS_NATIVE` environment variable.
 * {@link NativeAddon} describes every export in this one file (a test compares it with the built
 * addon). `ACKMEANS_SIMD=0` turns the AVX2 kernels off at load (see {@link setSimd}).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AckmeansError } from './errors.js';

/** Build and machine facts reported by the addon. */
export interface NativeInfo {
  /** FFTW version string, e.g. "fftw-3.3.10-sse2-avx". */
  fftw: string;
  /** OpenBLAS build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64". */
  openblas: string;
  /** The OpenBLAS kernel set chosen for this CPU. */
  openblasCore: string;
  /** The instruction set the kernels use here: "avx2" (no FMA), or "sse2" without AVX2 or with SIMD switched off. */
  simd: string;
  /** OpenMP's default thread count. */
  ompMaxThreads: number;
  /** Hardware threads of the machine. */
  hardwareThreads: number;
  /** Compiler that built the addon. */
  compiler: string;
  /** Node-API version the addon targets. */
  napiVersion: number;
}

/** The cancel/progress block shared with a running job: Float64Array(3) `[cancel, done, total]` (see `job.ts`). */
export type Control = Float64Array;

/** Every long call takes its thread count and control block. */
interface NativeJob {
  threads: number;
  control: Control;
}

/** Where the time of one `alignImages` call went (seconds summed over threads) and its work counts. */
export interface NativeAlignStats {
  /** Padding, polar resampling and ring FFTs. */
  resample: number;
  /** The per-harmonic complex GEMMs. */
  gemm: number;
  /** Gathering each (image, shift, reference) pair's spectrum into the inverse FFTs' rows. */
  gather: number;
  /** The batched complex inverse FFTs (one per pair: the image's correlation and its mirror's). */
  ifft: number;
  /** Arg-max, peak interpolation (parabola, then a quartic for the winner) and choice of shift/mirror. */
  peak: number;
  /** Real flops of the GEMMs (8 per complex multiply-add). */
  gemmFlops: number;
  /** Length of each inverse FFT (the correlation is sampled every 360°/ifftLength). */
  ifftLength: number;
  /** Number of correlation functions computed (image × shift × mirror × reference). */
  correlations: number;
  /** Number of complex inverse FFTs (image × shift × reference: two correlations each). */
  transforms: number;
}

/** The outputs `alignImages` fills in place, n×k each (row-major, image by reference). */
export interface NativeAlignOutputs {
  /** Dissimilarity (smaller is better; see src/align/align.ts). */
  score: Float32Array;
  /** Rotation in degrees, [0, 360). */
  psi: Float32Array;
  /** Shift in x (pixels). */
  shiftX: Float32Array;
  /** Shift in y (pixels). */
  shiftY: Float32Array;
  /** 1 when the image is mirrored, else 0. */
  mirror: Uint8Array;
}

/** The resolved alignment settings (see align/options.ts). */
export interface NativeAlignSettings {
  box: number;
  firstRing: number;
  lastRing: number;
  shiftRange: number;
  shiftStep: number;
  mirror: boolean;
  bandLimit: number;
  /** Search the shifts on the references' side (see AlignOptions.shiftReferences). */
  shiftReferences: boolean;
}

/** The options `preprocessImages` and `preprocessStack` share (see src/pipeline/preprocess.ts). */
export type NativePreprocessOptions = NativeJob & {
  images: Float32Array;
  n: number;
  box: number;
  outBox: number;
  radius: number;
  edge: number;
  invert: boolean;
  /** Default true. */
  normalise?: boolean;
  mask: boolean;
  shifts?: Float32Array;
};

/**
 * Exactly what the `.node` file exports (test/native.test.ts checks it against the built addon).
 * Each function takes ONE options object, read by name and copied into a plain C++ struct on the
 * main thread (native/addon/worker.h `Options`). Every long call returns a Promise and runs off
 * the event loop; the typed arrays passed are kept alive until it settles.
 */
export interface NativeAddon {
  /** Build and machine facts. */
  info(): NativeInfo;
  /** The global SIMD switch: sets it when `on` is given; returns whether the AVX2 paths run. */
  simd(options: { on?: boolean }): boolean;
  /** Peak GEMM speed in GFLOP/s ('s' real, 'c' complex) for benchmarks. */
  gemmPeak(options: {
    kind: 's' | 'c';
    m: number;
    n: number;
    k: number;
    threads: number;
    reps: number;
  }): Promise<number>;
  /** n×k squared distances ‖x_i − m_j‖² (clamped at 0). */
  distanceTable(
    options: NativeJob & {
      images: Float32Array;
      n: number;
      references: Float32Array;
      k: number;
      dim: number;
    },
  ): Promise<Float32Array>;
  /** One ACK-means pass over `order`; updates assignment and sizes in place; resolves with the moves. */
  ackPass(
    options: Omit<NativeJob, 'threads'> & {
      table: Float32Array;
      n: number;
      k: number;
      assignment: Int32Array;
      sizes: Int32Array;
      lambda2: number;
      order: Int32Array;
    },
  ): Promise<number>;
  /** Aligns n images to k references; fills `outputs` (n×k) in place. */
  alignImages(
    options: NativeJob & {
      images: Float32Array;
      n: number;
      references: Float32Array;
      k: number;
      settings: NativeAlignSettings;
      outputs: NativeAlignOutputs;
      /** A local shift search: n·offsetsPerImage shift-grid indices (see src/align/options.ts). */
      offsets?: Int32Array;
      offsetsPerImage?: number;
    },
  ): Promise<NativeAlignStats>;
  /** One image translated, rotated and mirrored (bilinear). Synchronous. */
  applyAlignment(options: {
    image: Float32Array;
    box: number;
    psi: number;
    shiftX: number;
    shiftY: number;
    mirror: boolean;
  }): Float32Array;
  /** Adds each image, aligned with its own pose, to its class's even or odd sum (in place). */
  classAccumulate(
    options: NativeJob & {
      images: Float32Array;
      count: number;
      box: number;
      assignment: Int32Array;
      psi: Float32Array;
      shiftX: Float32Array;
      shiftY: Float32Array;
      mirror: Uint8Array;
      k: number;
      evenSum: Float64Array;
      oddSum: Float64Array;
      members: Int32Array;
      evenMembers: Int32Array;
      /** A power of two: values rounded to its multiples, so the sums are exact (native/core/average.h). */
      quantum?: number;
      /** Each image's half (0: even, 1: odd); default: by its member number in its class. */
      half?: Uint8Array;
      /** −1 takes the images out again (with `half` and `quantum` only); default 1. */
      sign?: 1 | -1;
    },
  ): Promise<void>;
  /** Averages, halves, FRC and resolution from the sums (cancellable). */
  /** The largest |value| of `values` (NaNs ignored; 0 for none). */
  maxAbs(options: { values: Float32Array }): Promise<number>;
  classFinalize(
    options: NativeJob & {
      evenSum: Float64Array;
      oddSum: Float64Array;
      members: Int32Array;
      evenMembers: Int32Array;
      k: number;
      box: number;
    },
  ): Promise<{
    averages: Float32Array;
    even: Float32Array;
    odd: Float32Array;
    frc: Float32Array;
    resolution: Float32Array;
  }>;
  /** The CTF on the rfft half-plane, box·(box/2+1) values. Synchronous. */
  ctfHalfplane(options: { params: Float64Array; box: number; pixelSize: number }): Float32Array;
  /** Multiplies (mode 0) or phase-flips (mode 1) each image with its own CTF. */
  applyCtf(
    options: NativeJob & {
      images: Float32Array;
      n: number;
      box: number;
      pixelSize: number;
      params: Float64Array;
      mode: 0 | 1;
    },
  ): Promise<Float32Array>;
  /** Shift, Fourier crop, inversion, normalisation and soft mask of n images. */
  preprocessImages(options: NativePreprocessOptions & { out?: Float32Array }): Promise<Float32Array>;
  /** Rotation/translation/mirror-invariant features, n·rings·harmonics values. */
  invariantFeatures(
    options: NativeJob & {
      images: Float32Array;
      n: number;
      box: number;
      rings: number;
      angles: number;
      harmonics: number;
    },
  ): Promise<Float32Array>;
  /** PCA of n vectors of `dim` values: the first `components` factors. */
  pca(
    options: NativeJob & { data: Float32Array; n: number; dim: number; components: number },
  ): Promise<{ basis: Float32Array; eigenvalues: Float32Array; mean: Float32Array }>;
  /** Coordinates of n vectors on a PCA basis, n·components values. */
  pcaProject(
    options: NativeJob & {
      data: Float32Array;
      n: number;
      dim: number;
      basis: Float32Array;
      components: number;
      mean: Float32Array;
    },
  ): Promise<Float32Array>;
  /** Every image with its own pose applied (the one pose applier), n·box² values. */
  applyPoses(
    options: NativeJob & {
      images: Float32Array;
      n: number;
      box: number;
      psi: Float32Array;
      shiftX: Float32Array;
      shiftY: Float32Array;
      mirror: Uint8Array;
    },
  ): Promise<Float32Array>;
  /**
   * The working stack's fused pixel pass (shift, phase flip, crop, normalise, mask, screening);
   * the input is `images` (float32) or `half` (binary16 bit patterns, decoded natively).
   */
  preprocessStack(
    options: (NativePreprocessOptions | (Omit<NativePreprocessOptions, 'images'> & { half: Uint16Array })) & {
      ctf?: Float64Array;
      pixelSize?: number;
      screen: boolean;
      roundFloat16: boolean;
    },
  ): Promise<{ images: Float32Array; screen: Uint8Array | undefined }>;
  /** binary16 bit patterns of `values` (round to nearest even). */
  float16Encode(options: { values: Float32Array }): Promise<Uint16Array>;
  /** float32 values of binary16 bit patterns, in a new array or in `out` (≥ bits.length values). */
  float16Decode(options: { bits: Uint16Array; out?: Float32Array }): Promise<Float32Array>;
  /**
   * Images `items` (each in 0..images−1) of `values` binary16 values each, image i at byte
   * offset + 2·values·i of file descriptor `fd`, decoded into `out` in the order of items (runs of
   * consecutive items read at once). Rejects with "read failed: …" or "the file ended early".
   */
  float16Gather(options: {
    fd: number;
    offset: number;
    images: number;
    values: number;
    items: Int32Array;
    out: Float32Array;
    threads: number;
  }): Promise<Float32Array>;
  /** Projections of a cubic map along n rotation matrices (RELION's convention). */
  projectVolume(
    options: NativeJob & {
      volume: Float32Array;
      size: number;
      volumeCentre: number;
      matrices: Float64Array;
      shifts?: Float64Array;
      n: number;
      box: number;
      imageCentre: number;
    },
  ): Promise<Float32Array>;
}

/** The exports of {@link NativeAddon}: name → number of parameters (test/native.test.ts). */
export const NATIVE_EXPORTS: Readonly<Record<keyof NativeAddon, 0 | 1>> = {
  info: 0,
  simd: 1,
  gemmPeak: 1,
  distanceTable: 1,
  ackPass: 1,
  ackPassSparse: 1,
  alignImages: 1,
  alignCandidates: 1,
  imageSpectra: 1,
  imageSpectrumFloats: 1,
  applyAlignment: 1,
  classAccumulate: 1,
  classFinalize: 1,
  maxAbs: 1,
  ctfHalfplane: 1,
  applyCtf: 1,
  preprocessImages: 1,
  invariantFeatures: 1,
  pca: 1,
  pcaProject: 1,
  projectVolume: 1,
  applyPoses: 1,
  preprocessStack: 1,
  float16Encode: 1,
  float16Decode: 1,
  float16Gather: 1,
  wienerAccumulate: 1,
  wienerFinalize: 1,
};

const DEBIAN_PACKAGES: Array<[RegExp, string]> = [
  [/libfftw3f/, 'libfftw3-single3 (or libfftw3-dev to build)'],
  [/libopenblas/, 'libopenblas0-pthread (or libopenblas-dev to build)'],
  [/libgomp/, 'libgomp1'],
  [/libstdc\+\+/, 'libstdc++6'],
];

/** Path the addon is loaded from. */
export function nativeAddonPath(): string {
  const override = process.env.ACKMEANS_NATIVE;
  if (override) return override;
  return fileURLToPath(new URL('../build/Release/ackmeans_native.node', import.meta.url));
}

let cached: NativeAddon | undefined;

/**
 * Loads the addon once and returns it. Throws an {@link AckmeansError} with code
 * `ERR_NATIVE_MISSING` when the file is not built, or `ERR_NATIVE_LOAD` naming the Debian
 * package to install when a system library cannot be loaded.
 */
export function native(): NativeAddon {
  if (cached) return cached;
  const file = nativeAddonPath();
  if (!existsSync(file)) {
    throw new AckmeansError(
      'ERR_NATIVE_MISSING',
      `ackmeans: the native addon is not built (looked for ${file}). Run "bash scripts/setup.sh", or "npm run build:native" if the system libraries are installed.`,
      { file },
    );
  }
  try {
    cached = createRequire(import.meta.url)(file) as NativeAddon;
    if (process.env.ACKMEANS_SIMD === '0') cached.simd({ on: false });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pkg = DEBIAN_PACKAGES.find(([re]) => re.test(message))?.[1];
    const hint = pkg
      ? ` A system library is missing: install the Debian package ${pkg} (apt-get install -y ...), or run "bash scripts/setup.sh".`
      : ' Rebuild it with "npm run build:native".';
    throw new AckmeansError(
      'ERR_NATIVE_LOAD',
      `ackmeans: cannot load the native addon ${file}: ${message}.${hint}`,
      {
        file,
        cause: err,
      },
    );
  }
  return cached;
}

/**
 * The global SIMD switch: `setSimd(false)` makes every kernel with an AVX2 path (distances, ACK
 * pass, alignment peak search, projector) take its baseline x86-64 path, for tests comparing the
 * two (also `ACKMEANS_SIMD=0` in the environment). Returns whether the AVX2 paths now run (false
 * on a CPU without AVX2).
 */
export function setSimd(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new TypeError('on must be a boolean');
  return native().simd({ on });
}

/** Whether the AVX2 kernels run (the switch is on and the CPU has AVX2). */
export function simdEnabled(): boolean {
  return native().simd({});
}

/** Build and machine facts: FFTW and OpenBLAS versions, SIMD level, thread counts. */
export function info(): NativeInfo {
  return native().info();
}
