/**
 * `ackmeans simulate`: writes a simulated particle set (SPEC §7) — particles.mrcs and a RELION 3.1
 * particles.star with the true angles, origins, CTFs and view ids.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { action, parseIntOption, parseNumberOption } from './common.js';

interface SimulateOpts {
  out: string;
  map?: string;
  pixelSize?: number;
  n: number;
  views: number;
  spread: number;
  snr: number;
  defocus: [number, number];
  astigmatism: number;
  voltage: number;
  cs: number;
  ampContrast: number;
  maxShift: number;
  phaseFlip?: boolean;
  seed: number;
  threads?: number;
  box?: number;
  json?: boolean;
}

/** "0.1", "1/3" or "inf" (no noise). */
export function parseSnr(value: string): number {
  if (/^inf(inity)?$/i.test(value.trim())) return Infinity;
  const m = /^\s*([0-9.eE+-]+)\s*\/\s*([0-9.eE+-]+)\s*$/.exec(value);
  const v = m ? Number(m[1]) / Number(m[2]) : Number(value);
  if (value.trim() === '' || !(v > 0) || !Number.isFinite(v))
    throw new InvalidArgumentError(
      `--snr must be a positive number, a fraction like 1/3, or inf; got "${value}"`,
    );
  return v;
}

/** "MIN,MAX" in Å. */
function parseRange(value: string): [number, number] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v)))
    throw new InvalidArgumentError(`--defocus must be MIN,MAX in Å (e.g. 10000,30000), got "${value}"`);
  return [parts[0], parts[1]];
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description(
      'simulate particle images (the paper benchmark): projections about centre directions on a half sphere, CTF, noise at a given SNR; writes particles.mrcs and a RELION 3.1 particles.star',
    )
    .requiredOption(
      '-o, --out <dir>',
      'output folder (created if needed) for particles.mrcs and particles.star',
    )
    .option('--map <file>', 'MRC map to project (a cube); default: the built-in 64³ phantom')
    .option(
      '--pixel-size <A>',
      'pixel size in Å (default: from the map header; 3 for the phantom; required if the header has none)',
      parseNumberOption('--pixel-size'),
    )
    .option('-n, --n <count>', 'number of images', parseIntOption('-n'), 10000)
    .option(
      '--views <count>',
      'number of centre directions spread uniformly over a half sphere',
      parseIntOption('--views'),
      100,
    )
    .option(
      '--spread <degrees>',
      'angular σ of the Gaussian spread of directions about each centre',
      parseNumberOption('--spread'),
      5,
    )
    .option(
      '--snr <ratio>',
      'signal variance / noise variance (signal: CTF-modulated projections, whole box, mean over the set); "1/3" and "inf" accepted',
      parseSnr,
      0.1,
    )
    .option(
      '--defocus <min,max>',
      'defocus range in Å, drawn uniformly per image',
      parseRange,
      [10000, 30000],
    )
    .option(
      '--astigmatism <A>',
      'astigmatism |DefocusU − DefocusV| in Å (angle uniform)',
      parseNumberOption('--astigmatism'),
      0,
    )
    .option('--voltage <kV>', 'acceleration voltage in kV', parseNumberOption('--voltage'), 300)
    .option('--cs <mm>', 'spherical aberration in mm', parseNumberOption('--cs'), 2.7)
    .option(
      '--amp-contrast <fraction>',
      'amplitude contrast in [0, 1)',
      parseNumberOption('--amp-contrast'),
      0.1,
    )
    .option(
      '--max-shift <px>',
      'largest random shift along x and y, in pixels (uniform)',
      parseNumberOption('--max-shift'),
      0,
    )
    .option('--phase-flip', 'phase-flip the noisy images with their true CTFs')
    .option(
      '--seed <int>',
      'seed of every random choice (same seed, same files)',
      parseIntOption('--seed'),
      1,
    )
    .option('--threads <count>', 'worker threads (default: all cores)', parseIntOption('--threads'))
    .option('--box <px>', 'output image size in pixels (default: the map size)', parseIntOption('--box'))
    .option('--json', 'print the result as one JSON object')
    .action(
      action(async (o: SimulateOpts) => {
        const { simulate } = await import('../sim/simulate.js');
        const t0 = performance.now();
        const res = await simulate(
          {
            map: o.map,
            pixelSize: o.pixelSize,
            n: o.n,
            views: o.views,
            spreadDeg: o.spread,
            snr: o.snr,
            defocus: o.defocus,
            astigmatism: o.astigmatism,
            voltage: o.voltage,
            cs: o.cs,
            amplitudeContrast: o.ampContrast,
            maxShiftPx: o.maxShift,
            phaseFlip: o.phaseFlip ?? false,
            seed: o.seed,
            threads: o.threads,
            box: o.box,
          },
          o.out,
        );
        const seconds = (performance.now() - t0) / 1000;
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify({ ...res, snr: o.snr === Infinity ? 'inf' : o.snr, seconds })}\n`,
          );
          return;
        }
        process.stdout.write(
          `wrote ${res.n} images of ${res.box}×${res.box} px at ${res.pixelSize} Å/px in ${seconds.toFixed(1)} s\n` +
            `  ${res.stack}\n  ${res.star}\n` +
            `  signal variance ${res.signalVariance.toPrecision(4)}, noise σ ${res.noiseSigma.toPrecision(4)}\n`,
        );
      }),
    );
}
