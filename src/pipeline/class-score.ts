/**
 * An interpretable score of each class average in [0, 1], with its reasons (SIMPLE-style: a few
 * measured features, each mapped to a goodness in [0, 1], combined linearly; hard gates for the
 * plainly bad). Every feature's value, goodness, weight and contribution is kept, so a user sees
 * why a class was dropped.
 *
 * Features (the average box, its particle disc of radius R):
 *   resolution  even/odd FRC resolution in pixels of the box: goodness log(box/r)/log(box/6);
 *   halves      Pearson correlation of the even and odd averages inside the disc (pure noise ≈ 0);
 *   particleSsnr  mean spectral SNR of the lowest shells (1..box/10) from the FRC, per member
 *               (the class's SSNR over its size). Pure noise aligned to a reference is not
 *               noise-free: every image is shifted and rotated to its best match, so the halves
 *               of a noise class share the reference's low frequencies ("Einstein from noise")
 *               and agree (r ≈ 0.9). What they cannot fake is signal that grows with each
 *               member: a pure-noise class measured 0.09 per member, real classes 1.3–15
 *               (scripts/selection-check.ts, SNR 0.1). Gate: under 0.2;
 *   contrast    mean power inside the disc over mean power outside it, on a log scale (real
 *               Wiener averages ≥ 20, noise 4–15, carbon edges 2–3);
 *   edge        fraction of the average's variance explained by a 1-D profile along the best of
 *               36 directions (an edge or gradient ≈ 1, a particle ≲ 0.5);
 *   centring    distance of the density's centre of mass from the box centre, over R;
 *   size        members (a class of fewer than 0.35 % of the particles or under 5 is gated out).
 */

/** The inputs of {@link scoreClass} for one class. */
export interface ClassEvidence {
  /** box² values: the class average, its even and odd halves. */
  average: Float32Array;
  even: Float32Array;
  odd: Float32Array;
  box: number;
  /** FRC of the halves in shells 0..box/2 (NaN under 2 members). */
  frc: ArrayLike<number>;
  /** Spectral SNR per shell (from the FRC). */
  ssnr: ArrayLike<number>;
  /** FRC resolution in pixels of the box (NaN when undetermined). */
  resolutionPx: number;
  /** Particle radius in pixels of the box. */
  radius: number;
  /** Members of the class and particles classified in all. */
  members: number;
  total: number;
}

/** One feature of a class score. */
export interface ScoreFeature {
  /** The measured value (units in {@link FEATURES}). */
  value: number;
  /** How good the value is, in [0, 1]. */
  goodness: number;
  /** Weight in the score (the weights sum to 1). */
  weight: number;
  /** weight · goodness: this feature's part of the score. */
  contribution: number;
}

/** The name, unit, weight, goodness mapping and reason text of each feature. */
export const FEATURES = {
  resolution: {
    weight: 0.15,
    unit: 'px',
    gate: false,
    bad: (v: number) => `poor resolution (${v.toFixed(1)} px)`,
  },
  halves: {
    weight: 0.1,
    unit: 'r',
    gate: true,
    bad: (v: number) => `halves disagree (r = ${v.toFixed(2)}): noise-like`,
  },
  particleSsnr: {
    weight: 0.25,
    unit: '/particle',
    gate: true,
    bad: (v: number) => `noise-like: SSNR ${v.toFixed(2)} per particle (pure noise reaches ~0.1)`,
  },
  contrast: {
    weight: 0.2,
    unit: '×',
    gate: false,
    bad: (v: number) => `little signal in the particle disc (${v.toFixed(1)}× the outside)`,
  },
  edge: {
    weight: 0.15,
    unit: 'R²',
    gate: true,
    bad: (v: number) => `edge/gradient-like (1-D profile explains ${(100 * v).toFixed(0)} %)`,
  },
  centring: { weight: 0.15, unit: 'R', gate: true, bad: (v: number) => `off centre (${v.toFixed(2)} radii)` },
} as const;

/** Feature names. */
export type FeatureName = keyof typeof FEATURES;

/** A class's score with its features and the reasons for a low one. */
export interface ClassScore {
  /** Σ weight · goodness, in [0, 1]. */
  score: number;
  features: Record<FeatureName, ScoreFeature>;
  /** Members of the class. */
  members: number;
  /** A feature at goodness 0 that gates the class out whatever its score (or 'size'), if any. */
  gated: string[];
  /** Human reasons: the features with goodness under 0.5 and the gates. */
  reasons: string[];
}

/** Smallest class kept: this fraction of the classified particles (SIMPLE's 0.35 %), and at least {@link MIN_MEMBERS}. */
export const MIN_FRACTION = 0.0035;
export const MIN_MEMBERS = 5;

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/** Indices of the pixels inside (distance ≤ r) and outside (distance > r·1.1) the disc. */
function discMasks(box: number, radius: number): { inside: number[]; outside: number[] } {
  const c = Math.floor(box / 2);
  const inside: number[] = [];
  const outside: number[] = [];
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const d = Math.hypot(x - c, y - c);
      if (d <= radius) inside.push(y * box + x);
      else if (d > radius * 1.1) outside.push(y * box + x);
    }
  return { inside, outside };
}

function meanOf(a: ArrayLike<number>, idx: number[]): number {
  let s = 0;
  for (const i of idx) s += a[i];
  return idx.length ? s / idx.length : 0;
}

/** Pearson correlation of a and b over the pixels idx. */
export function correlationIn(a: ArrayLike<number>, b: ArrayLike<number>, idx: number[]): number {
  const ma = meanOf(a, idx);
  const mb = meanOf(b, idx);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (const i of idx) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Mean power (about the outside mean) inside the disc over that outside it. */
export function discContrast(image: ArrayLike<number>, box: number, radius: number): number {
  const { inside, outside } = discMasks(box, radius);
  const m = meanOf(image, outside);
  const power = (idx: number[]): number => {
    let s = 0;
    for (const i of idx) s += (image[i] - m) ** 2;
    return idx.length ? s / idx.length : 0;
  };
  const out = power(outside);
  return out > 0 ? power(inside) / out : Infinity;
}

/**
 * The largest fraction of the image's variance a 1-D profile explains, over 36 directions (5°
 * steps): per direction, the mean of the pixels in each 1-pixel band perpendicular to it.
 */
export function edgeLikeness(image: ArrayLike<number>, box: number): number {
  const c = Math.floor(box / 2);
  const n = box * box;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += image[i];
  mean /= n;
  let total = 0;
  for (let i = 0; i < n; i++) total += (image[i] - mean) ** 2;
  if (!(total > 0)) return 0;
  const bins = 2 * box + 1;
  let best = 0;
  const sum = new Float64Array(bins);
  const cnt = new Float64Array(bins);
  const bin = new Int32Array(n);
  for (let a = 0; a < 36; a++) {
    const t = (a * 5 * Math.PI) / 180;
    const cos = Math.cos(t);
    const sin = Math.sin(t);
    sum.fill(0);
    cnt.fill(0);
    for (let y = 0; y < box; y++)
      for (let x = 0; x < box; x++) {
        const b = Math.round((x - c) * cos + (y - c) * sin) + box;
        bin[y * box + x] = b;
        sum[b] += image[y * box + x];
        cnt[b]++;
      }
    let explained = 0;
    for (let b = 0; b < bins; b++) if (cnt[b] > 0) explained += cnt[b] * (sum[b] / cnt[b] - mean) ** 2;
    best = Math.max(best, explained / total);
  }
  return best;
}

/**
 * Distance of the centre of mass of the density (values above the outside mean) from the box
 * centre, in pixels.
 */
export function centreOffset(
  image: ArrayLike<number>,
  box: number,
  radius: number,
): { dx: number; dy: number } {
  const { outside } = discMasks(box, radius);
  const floor = meanOf(image, outside);
  const c = Math.floor(box / 2);
  let w = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      const v = image[y * box + x] - floor;
      if (v <= 0) continue;
      w += v;
      sx += v * (x - c);
      sy += v * (y - c);
    }
  return w > 0 ? { dx: sx / w, dy: sy / w } : { dx: 0, dy: 0 };
}

/** Mean SSNR over shells 1..max(2, ⌊box/10⌋) (NaN values count as 0). */
function lowShellSsnr(ssnr: ArrayLike<number>, box: number): number {
  const last = Math.min(ssnr.length - 1, Math.max(2, Math.floor(box / 10)));
  let s = 0;
  for (let i = 1; i <= last; i++) s += Number.isFinite(ssnr[i]) ? ssnr[i] : 0;
  return s / last;
}

/** The measured feature values of one class (see the module documentation). */
export function measureClass(e: ClassEvidence): Record<FeatureName, number> {
  const { box, radius } = e;
  const { inside } = discMasks(box, radius);
  const { dx, dy } = centreOffset(e.average, box, radius);
  return {
    resolution: Number.isFinite(e.resolutionPx) ? e.resolutionPx : box,
    halves: e.members >= 2 ? correlationIn(e.even, e.odd, inside) : 0,
    particleSsnr: e.members > 0 ? lowShellSsnr(e.ssnr, box) / e.members : 0,
    contrast: discContrast(e.average, box, radius),
    edge: edgeLikeness(e.average, box),
    centring: Math.hypot(dx, dy) / radius,
  };
}

/** How good a feature value is, in [0, 1] (`box`: the average box, for the resolution). */
export function goodnessOf(name: FeatureName, value: number, box: number): number {
  switch (name) {
    case 'resolution':
      return clamp01(Math.log(box / value) / Math.log(box / 6));
    case 'halves':
      return clamp01((value - 0.1) / 0.4);
    case 'particleSsnr':
      // 0 at 0.2 per particle (twice pure noise's), 1 from 1 (the worst real class measured 1.3)
      return clamp01(Math.log10(Math.max(value, 1e-9) / 0.2) / Math.log10(5));
    case 'contrast':
      // 0 at 5 (noise, edges), 1 from 100
      return clamp01(Math.log10(Math.max(value, 1e-9) / 5) / Math.log10(20));
    case 'edge':
      return clamp01((0.85 - value) / 0.3);
    case 'centring':
      return clamp01(1 - (value - 0.25) / 0.35);
  }
}

/** The score, gates and reasons of a class from its feature values and size. */
export function judgeClass(
  values: Record<FeatureName, number>,
  members: number,
  total: number,
  box: number,
): ClassScore {
  const features = {} as Record<FeatureName, ScoreFeature>;
  let score = 0;
  const reasons: string[] = [];
  const gated: string[] = [];
  for (const name of Object.keys(FEATURES) as FeatureName[]) {
    const f = FEATURES[name];
    const g = goodnessOf(name, values[name], box);
    features[name] = { value: values[name], goodness: g, weight: f.weight, contribution: f.weight * g };
    score += f.weight * g;
    if (g < 0.5) reasons.push(f.bad(values[name]));
    if (f.gate && g === 0) gated.push(name);
  }
  const minMembers = Math.max(MIN_MEMBERS, MIN_FRACTION * total);
  if (members < minMembers) {
    gated.push('size');
    reasons.push(`too few particles (${members} < ${Math.ceil(minMembers)})`);
  }
  return { score: Math.min(1, Math.max(0, score)), features, members, gated, reasons };
}

/** The features and score of one class (see the module documentation). */
export function scoreClass(e: ClassEvidence): ClassScore {
  return judgeClass(measureClass(e), e.members, e.total, e.box);
}

/**
 * Default smallest score of an accepted class, chosen from scripts/selection-check.ts (seed 1):
 * junk classes scored 0.50–0.65 (before their gates), real ones 0.90–1; 0.75 is between.
 */
export const DEFAULT_MIN_SCORE = 0.75;

/** Whether a class passes: score ≥ minScore and no gate. */
export function accepted(s: ClassScore, minScore: number = DEFAULT_MIN_SCORE): boolean {
  return s.score >= minScore && s.gated.length === 0;
}

/**
 * Scores of the k classes of CTF-corrected averages (`radius`: particle radius in pixels of the
 * averages' box).
 */
export function scoreClasses(
  classes: {
    averages: Float32Array;
    even: Float32Array;
    odd: Float32Array;
    frc: Float32Array;
    ssnr: Float32Array;
    resolution: Float32Array;
    sizes: ArrayLike<number>;
    box: number;
    shells: number;
  },
  radius: number,
): ClassScore[] {
  const D = classes.box * classes.box;
  const k = classes.sizes.length;
  let total = 0;
  for (let j = 0; j < k; j++) total += classes.sizes[j];
  return Array.from({ length: k }, (_, j) =>
    scoreClass({
      average: classes.averages.subarray(j * D, (j + 1) * D),
      even: classes.even.subarray(j * D, (j + 1) * D),
      odd: classes.odd.subarray(j * D, (j + 1) * D),
      box: classes.box,
      frc: classes.frc.subarray(j * classes.shells, (j + 1) * classes.shells),
      ssnr: classes.ssnr.subarray(j * classes.shells, (j + 1) * classes.shells),
      resolutionPx: classes.resolution[j],
      radius,
      members: classes.sizes[j],
      total,
    }),
  );
}
