/**
 * Small simulated particle stacks with known views for the end-to-end tests: projections of the
 * built-in phantom at a few well-separated views, random in-plane rotation, a small random
 * origin (written in the STAR file), an optional CTF, Gaussian noise; written as
 * particles.mrcs + particles.star (RELION 3.1).
 */
import { join } from 'node:path';
import { applyCtf } from '../../src/ctf.js';
import { StarBlock, StarFile, writeMrc, writeStar } from '../../src/io/index.js';
import { Rng } from '../../src/random.js';
import { phantom } from '../../src/sim/phantom.js';
import { project } from '../../src/sim/project.js';

export interface SimulatedStack {
  star: string;
  stack: string;
  /** True view (0-based) of each particle. */
  view: Int32Array;
  box: number;
  pixelSize: number;
}

export interface SimulateOptions {
  box?: number;
  pixelSize?: number;
  /** (rot, tilt) of each view, degrees. */
  views?: Array<[number, number]>;
  perView?: number;
  /** Signal variance / noise variance (default 2). */
  snr?: number;
  /** Largest origin, in pixels (integers in [−max, max]; default 1). */
  maxOrigin?: number;
  ctf?: boolean;
  seed?: number;
}

/** Writes a simulated stack into `dir`. */
export async function simulateStack(dir: string, o: SimulateOptions = {}): Promise<SimulatedStack> {
  const box = o.box ?? 32;
  const pixelSize = o.pixelSize ?? 4;
  const views = o.views ?? [
    [0, 0],
    [0, 90],
    [90, 90],
    [45, 50],
  ];
  const perView = o.perView ?? 12;
  const rng = new Rng(o.seed ?? 1);
  const n = views.length * perView;
  const rot = new Float64Array(n);
  const tilt = new Float64Array(n);
  const psi = new Float64Array(n);
  const ox = new Float64Array(n);
  const oy = new Float64Array(n);
  const view = new Int32Array(n);
  const maxOrigin = o.maxOrigin ?? 1;
  for (let i = 0; i < n; i++) {
    view[i] = Math.floor(i / perView);
    [rot[i], tilt[i]] = views[view[i]];
    psi[i] = rng.uniform(0, 360);
    ox[i] = (rng.int(2 * maxOrigin + 1) - maxOrigin) * pixelSize;
    oy[i] = (rng.int(2 * maxOrigin + 1) - maxOrigin) * pixelSize;
  }
  const volume = phantom(box);
  let images = await project(
    volume,
    box,
    { rot, tilt, psi },
    { originXAngst: ox, originYAngst: oy, pixelSize },
  );
  const defocus = Float64Array.from({ length: n }, () => rng.uniform(8000, 16000));
  const ctf = {
    defocusU: defocus,
    defocusV: defocus.map((d) => d - 200),
    defocusAngle: new Float64Array(n).fill(30),
    voltage: 300,
    cs: 2.7,
    amplitudeContrast: 0.1,
  };
  if (o.ctf) images = await applyCtf(images, box, pixelSize, ctf);
  let variance = 0;
  for (const v of images) variance += v * v;
  variance /= images.length;
  const sd = Math.sqrt(variance / (o.snr ?? 2));
  for (let i = 0; i < images.length; i++) images[i] += sd * rng.normal();
  const stack = join(dir, 'particles.mrcs');
  await writeMrc(stack, images, { nx: box, ny: box, nz: n, pixelSize, stack: true });
  const optics = StarBlock.fromColumns('optics', {
    rlnOpticsGroup: [1],
    rlnOpticsGroupName: ['opticsGroup1'],
    rlnImagePixelSize: [pixelSize],
    rlnImageSize: [box],
    rlnImageDimensionality: [2],
    rlnVoltage: [300],
    rlnSphericalAberration: [2.7],
    rlnAmplitudeContrast: [0.1],
  });
  const particles = StarBlock.fromColumns('particles', {
    rlnImageName: Array.from({ length: n }, (_, i) => `${String(i + 1).padStart(6, '0')}@particles.mrcs`),
    rlnOpticsGroup: new Float64Array(n).fill(1),
    rlnAngleRot: rot,
    rlnAngleTilt: tilt,
    rlnOriginXAngst: ox,
    rlnOriginYAngst: oy,
    ...(o.ctf
      ? { rlnDefocusU: ctf.defocusU, rlnDefocusV: ctf.defocusV, rlnDefocusAngle: ctf.defocusAngle }
      : {}),
    simView: Float64Array.from(view, (v) => v + 1),
  });
  optics.version = particles.version = '# version 30001';
  const star = join(dir, 'particles.star');
  await writeStar(star, new StarFile([optics, particles]));
  return { star, stack, view, box, pixelSize };
}
