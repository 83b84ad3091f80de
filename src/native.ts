/**
 * The typed binding to the C++ addon `ackmeans_native.node`.
 *
 * The addon is loaded from `build/Release/ackmeans_native.node` in the package (both cmake-js
 * and node-gyp put it there), or from the path in the `ACKMEANS_NATIVE` environment variable.
 * Other modules describe the exports they use by augmenting {@link NativeAddon}
 * (`declare module '../native.js'`), so each native capability is typed beside its facade.
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
  /** Widest SIMD level the kernels use here ("avx2+fma" or "sse2"). */
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

/**
 * What the `.node` file exports. Every long call returns a Promise and runs off the event loop;
 * `control` is a Float64Array(3) `[cancel, done, total]` shared with the job (see `job.ts`).
 */
export interface NativeAddon {
  info(): NativeInfo;
  distanceTable(
    images: Float32Array,
    n: number,
    references: Float32Array,
    k: number,
    dim: number,
    threads: number,
    control: Float64Array,
  ): Promise<Float32Array>;
  gemmPeak(kind: 's' | 'c', m: number, n: number, k: number, threads: number, reps: number): Promise<number>;
}

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

/** Build and machine facts: FFTW and OpenBLAS versions, SIMD level, thread counts. */
export function info(): NativeInfo {
  return native().info();
}
