/**
 * The demo's defaults, apart from the demo: `ackmeans demo --help` shows them without loading the
 * simulator and the pipeline.
 */

/** The demo's defaults (tuned so the whole demo runs in under two minutes on 2 cores). */
export const DEMO_DEFAULTS = {
  out: 'ackmeans-demo',
  n: 2000,
  k: 20,
  snr: 0.1,
  seed: 1,
  maxIter: 20,
} as const;
