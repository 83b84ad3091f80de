/**
 * Argument checks of the clustering driver: TypeError / RangeError naming the parameter.
 */
import { checkCallback, checkFloat32Array, checkInt, checkNumber, checkSignal } from '../errors.js';
import { resolveThreads } from '../job.js';
import type { DissimilaritySource } from './source.js';
import { type ClusteringOptions, type ClusteringState, DEFAULTS, METHODS, type Method } from './types.js';

/** Options after checking, defaults filled in. */
export interface CheckedOptions {
  k: number;
  method: Method;
  beta: number;
  sigma0: number;
  maxIter: number;
  seed: number;
  threads: number;
  signal?: AbortSignal;
  onIteration?: ClusteringOptions['onIteration'];
}

/** Checks the common options against a source with `n` items. */
export function checkOptions(options: ClusteringOptions, n: number): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const k = checkInt('k', options.k, 1);
  if (k > n) throw new RangeError(`k (${k}) must not exceed the number of items n (${n})`);
  const method = options.method ?? DEFAULTS.method;
  if (!METHODS.includes(method))
    throw new RangeError(
      `method must be one of ${METHODS.map((m) => `'${m}'`).join(', ')}, got '${String(method)}'`,
    );
  return {
    k,
    method,
    beta: checkNumber('beta', options.beta ?? DEFAULTS.beta, 0),
    sigma0: checkNumber('sigma0', options.sigma0 ?? DEFAULTS.sigma0, 0, 1),
    maxIter: checkInt('maxIter', options.maxIter ?? DEFAULTS.maxIter, 1),
    seed: checkInt('seed', options.seed ?? DEFAULTS.seed, Number.MIN_SAFE_INTEGER),
    threads: resolveThreads(options.threads),
    signal: checkSignal(options.signal),
    onIteration: checkCallback('onIteration', options.onIteration),
  };
}

/** Checks an initial assignment: an Int32Array of n classes in [0, k). */
export function checkAssignment(name: string, value: unknown, n: number, k: number): Int32Array {
  if (!(value instanceof Int32Array)) throw new TypeError(`${name} must be an Int32Array`);
  if (value.length !== n) throw new RangeError(`${name}.length (${value.length}) must be n (${n})`);
  for (let i = 0; i < n; i++)
    if (value[i] < 0 || value[i] >= k)
      throw new RangeError(`${name}[${i}] (${value[i]}) must be a class in [0, ${k - 1}]`);
  return value;
}

/** Checks references: a Float32Array of k·dim finite values. */
export function checkReferences(name: string, value: unknown, k: number, dim: number): Float32Array {
  checkFloat32Array(name, value);
  const refs = value as Float32Array;
  if (refs.length !== k * dim)
    throw new RangeError(`${name}.length (${refs.length}) must be k·dim (${k}·${dim} = ${k * dim})`);
  for (let t = 0; t < refs.length; t++)
    if (!Number.isFinite(refs[t])) throw new RangeError(`${name}[${t}] is not finite (${refs[t]})`);
  return refs;
}

/** Checks that a saved state belongs to this run (same data size, method, k, β, σ0 and seed). */
export function checkState(state: ClusteringState, o: CheckedOptions, source: DissimilaritySource): void {
  if (typeof state !== 'object' || state === null) throw new TypeError('state must be an object');
  if (state.version !== 1) throw new RangeError(`state.version must be 1, got ${String(state.version)}`);
  const expect: [keyof ClusteringState, unknown][] = [
    ['n', source.n],
    ['method', o.method],
    ['k', o.k],
    ['beta', o.beta],
    ['sigma0', o.sigma0],
    ['seed', o.seed],
  ];
  for (const [key, want] of expect)
    if (state[key] !== want)
      throw new RangeError(
        `state.${key} (${String(state[key])}) differs from this run's ${key} (${String(want)})`,
      );
  checkInt('state.iteration', state.iteration, 0);
  checkAssignment('state.assignment', state.assignment, source.n, o.k);
  checkReferences('state.references', state.references, o.k, source.dim);
  if (!Array.isArray(state.trace)) throw new TypeError('state.trace must be an array');
}
