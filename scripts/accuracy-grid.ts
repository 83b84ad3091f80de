/**
 * `scripts/accuracy-grid`: how close ACK-means and K-means (MRA) come to the best possible
 * classes at low SNR, on simulated sets built like the paper's benchmark (issue 17): per
 * molecule × SNR × seed, a set from `simulate` (64 px, views × images per view, Gaussian spread
 * 5°, shifts ≤ 2 px, CTF 1–3 µm defocus, phase-flipped by the pipeline), both methods, and the
 * oracle (k-means on the true directions). Prints per run and per cell: median within-class
 * angle, the oracle's, their ratio, ARI, size CV and classes with ≤ 1 member.
 *
 *   scripts/accuracy-grid [--small | --large] [--molecules 70s,80s] [--snr 1/3,1/10,1/30]
 *                         [--seeds 1,2,3] [--methods ack,kmeans] [--views V] [--per-view P] [--k K]
 *                         [--param name=value …] [--out DIR]
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIntOption } from '../src/cli/common.js';
import { classifyAndEvaluate } from '../src/demo/experiment.js';
import { AckmeansError } from '../src/errors.js';
import { evaluateOracleFile } from '../src/eval/oracle.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import type { ClassifyParams } from '../src/pipeline/params.js';
import { simulate } from '../src/sim/simulate.js';
import { formatSnr, isMain, parseChoices, parseOptions, parseSnrList, runScript } from './lib/cli.js';

/** The maps in the shared data folder beside the repository (or beside a worktree's parent). */
const MAPS =
  ['../../shared/data/maps/', '../../../shared/data/maps/']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../../shared/data/maps/', import.meta.url));

/**
 * The molecules of the grid: a map in the shared data folder, its pixel size and the box the
 * projections are made in (the whole molecule); the classification works at 64 px.
 */
export const MOLECULES = {
  '70s': { file: 'ribosome70s_65px.mrc', pixelSize: 5, box: 64, label: '70S ribosome' },
  '80s': { file: 'ribosome80s_4ug0.mrc', pixelSize: 4, box: 80, label: '80S ribosome' },
  betagal: { file: 'betagal.mrc', pixelSize: 3.54, box: 100, label: 'β-galactosidase' },
} as const;
type Molecule = keyof typeof MOLECULES;
const METHODS = ['ack', 'kmeans'] as const;
type Method = (typeof METHODS)[number];

/** Options of {@link accuracyGrid}. */
export interface GridOptions {
  molecules: Molecule[];
  snr: number[];
  seeds: number[];
  methods: Method[];
  /** True views; images = views × perView. */
  views: number;
  perView: number;
  k: number;
  box: number;
  maxIter: number;
  /** Extra classification parameters (name → value), for experiments. */
  params: Partial<ClassifyParams>;
  threads?: number;
  out: string;
  /** Folder holding the maps. */
  maps: string;
}

function parseParam(value: string, previous: Record<string, unknown>): Record<string, unknown> {
  const m = /^([A-Za-z]+)=(.*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--param takes name=value, got "${value}"`);
  const raw = m[2];
  const parsed =
    raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { ...previous, [m[1]]: parsed };
}

function parseIntList(value: string): number[] {
  const items = value.split(',').map((s) => Number(s));
  if (items.some((x) => !Number.isInteger(x) || x < 0))
    throw new InvalidArgumentError(`expected comma-separated integers ≥ 0, got "${value}"`);
  return items;
}

/** The command line of the script (options only). */
export function gridCommand(): Command {
  return new Command('accuracy-grid')
    .description(
      'ACK-means and K-means (MRA) against the oracle at SNR 1/3, 1/10, 1/30 on simulated 70S and 80S ribosome sets; prints median within-class angle, ARI, size CV and classes ≤ 1',
    )
    .option('--small', 'a few minutes: the 70S only, 1,000 images (50 views × 20), k = 10, one seed', false)
    .option('--large', "the paper's scale: 10,000 images (100 views × 100), k = 100, SNR 1/10, one seed", false)
    .option('--molecules <list>', 'comma-separated: 70s, 80s, betagal', parseChoices('--molecules', Object.keys(MOLECULES) as Molecule[]))
    .option('--snr <list>', 'comma-separated SNRs', parseSnrList)
    .option('--seeds <list>', 'comma-separated seeds (simulation and classification)', parseIntList)
    .option('--methods <list>', 'comma-separated: ack, kmeans', parseChoices('--methods', METHODS), [...METHODS])
    .option('--views <count>', "true views (default: the preset's, 100)", parseIntOption('--views'))
    .option('--per-view <count>', "images per view (default: the preset's, 20)", parseIntOption('--per-view'))
    .option('--k <count>', "classes (default: the preset's, 20)", parseIntOption('--k'))
    .option('--max-iter <count>', 'iteration cap of every classification', parseIntOption('--max-iter'), 30)
    .option('--param <name=value>', 'an extra classification parameter (repeatable)', parseParam, {})
    .option('--threads <count>', 'worker threads (default: all cores)', parseIntOption('--threads'))
    .option('--maps <dir>', 'folder with the maps', MAPS)
    .option('--out <dir>', 'output folder', 'accuracy-grid-out'); // prettier-ignore
}

/** Parses the script's arguments (applying the presets). @throws CommanderError on a usage error. */
export function parseGridArgs(argv: readonly string[]): GridOptions {
  const o = parseOptions<{
    small: boolean;
    large: boolean;
    molecules?: Molecule[];
    snr?: number[];
    seeds?: number[];
    methods: Method[];
    views?: number;
    perView?: number;
    k?: number;
    maxIter: number;
    param: Partial<ClassifyParams>;
    threads?: number;
    maps: string;
    out: string;
  }>(gridCommand(), argv);
  if (o.small && o.large) throw new RangeError('--small and --large exclude each other');
  const preset = o.small
    ? { molecules: ['70s'], snr: [1 / 3, 1 / 10, 1 / 30], seeds: [1], views: 50, perView: 20, k: 10 }
    : o.large
      ? { molecules: ['70s'], snr: [1 / 10], seeds: [1], views: 100, perView: 100, k: 100 }
      : {
          molecules: ['70s', '80s'],
          snr: [1 / 3, 1 / 10, 1 / 30],
          seeds: [1, 2, 3],
          views: 100,
          perView: 20,
          k: 20,
        };
  return {
    molecules: o.molecules ?? (preset.molecules as Molecule[]),
    snr: o.snr ?? preset.snr,
    seeds: o.seeds ?? preset.seeds,
    methods: o.methods,
    views: o.views ?? preset.views,
    perView: o.perView ?? preset.perView,
    k: o.k ?? preset.k,
    box: 64,
    maxIter: o.maxIter,
    params: o.param,
    threads: o.threads,
    maps: o.maps,
    out: o.out,
  };
}

/** One classification (or the oracle) of one set. */
export interface GridRun {
  molecule: Molecule;
  snr: number;
  seed: number;
  method: Method | 'oracle';
  median: number;
  ari: number;
  sizeCv: number;
  tiny: number;
  seconds: number;
  iterations: number;
}

/** Median of a list. */
function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per molecule × SNR: medians over seeds of each measure, per method, with the ratio to the oracle. */
export function gridTable(runs: readonly GridRun[], methods: readonly Method[]): string {
  const cells = new Map<string, GridRun[]>();
  for (const r of runs) {
    const key = `${r.molecule}|${r.snr}`;
    cells.set(key, [...(cells.get(key) ?? []), r]);
  }
  const head = ['molecule', 'SNR', 'seeds', 'oracle (°)'];
  for (const m of methods) head.push(`${m} (°)`, `${m}/oracle`, `${m} ARI`, `${m} CV`, `${m} ≤1`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const [key, rs] of cells) {
    const [molecule, snr] = key.split('|');
    const of = (method: string) => rs.filter((r) => r.method === method);
    const oracle = median(of('oracle').map((r) => r.median));
    const row = [molecule, formatSnr(Number(snr)), String(of('oracle').length), oracle.toFixed(1)];
    for (const m of methods) {
      const x = of(m);
      if (x.length === 0) {
        row.push('', '', '', '', '');
        continue;
      }
      const med = median(x.map((r) => r.median));
      row.push(med.toFixed(1), (med / oracle).toFixed(2), median(x.map((r) => r.ari)).toFixed(3),
        Math.max(...x.map((r) => r.sizeCv)).toFixed(3), String(Math.max(...x.map((r) => r.tiny)))); // prettier-ignore
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

const CSV_HEADER = 'molecule,snr,seed,method,median_deg,ari,size_cv,classes_le1,seconds,iterations';

function gridCsv(runs: readonly GridRun[]): string {
  const line = (r: GridRun) =>
    [r.molecule, formatSnr(r.snr), r.seed, r.method, r.median.toFixed(3), r.ari.toFixed(4), r.sizeCv.toFixed(4),
      r.tiny, r.seconds.toFixed(1), r.iterations].join(','); // prettier-ignore
  return [CSV_HEADER, ...runs.map(line)].join('\n') + '\n';
}

/**
 * Runs the grid into `o.out` (`<molecule>/snr-1_30/seed-1/{data,ack,kmeans}`); results.csv and
 * results.md are rewritten after every run, so an interrupted grid keeps what it finished.
 */
export async function accuracyGrid(o: GridOptions, log: (line: string) => void): Promise<GridRun[]> {
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const runs: GridRun[] = [];
  const save = async () => {
    await writeFileAtomic(join(out, 'results.csv'), gridCsv(runs));
    await writeFileAtomic(join(out, 'results.md'), gridTable(runs, o.methods));
  };
  for (const molecule of o.molecules) {
    const { file, pixelSize, box } = MOLECULES[molecule];
    const map = join(o.maps, file);
    if (!existsSync(map))
      throw new AckmeansError(
        'ERR_MAP_MISSING',
        `${map}: the map does not exist (give the folder with --maps)`,
        {
          file: map,
        },
      );
    for (const snr of o.snr)
      for (const seed of o.seeds) {
        const dir = join(out, molecule, `snr-${formatSnr(snr).replace('/', '_')}`, `seed-${seed}`);
        const tag = `${molecule} SNR ${formatSnr(snr)} seed ${seed}`;
        const n = o.views * o.perView;
        const sim = await simulate(
          { map, pixelSize, n, views: o.views, spreadDeg: 5, snr, seed, box, maxShiftPx: 2,
            defocus: [10000, 30000], threads: o.threads }, // prettier-ignore
          join(dir, 'data'),
        );
        const oracle = await evaluateOracleFile(sim.star, o.k, { seed });
        runs.push({ molecule, snr, seed, method: 'oracle', median: oracle.mirror.median, ari: oracle.ari ?? NaN,
          sizeCv: oracle.sizeCv, tiny: oracle.emptyClasses + oracle.singletonClasses, seconds: 0, iterations: 0 }); // prettier-ignore
        log(`${tag}: oracle median ${oracle.mirror.median.toFixed(1)}°`);
        for (const method of o.methods) {
          const params: ClassifyParams = { k: o.k, method, pipeline: 'mra', box: o.box, seed, maxIter: o.maxIter,
            threads: o.threads, ...o.params }; // prettier-ignore
          const run = await classifyAndEvaluate(sim.star, join(dir, method), `${tag} ${method}`, params);
          const e = run.evaluation;
          runs.push({ molecule, snr, seed, method, median: e.mirror.median, ari: e.ari ?? NaN, sizeCv: e.sizeCv,
            tiny: e.emptyClasses + e.singletonClasses, seconds: run.seconds, iterations: run.iterations }); // prettier-ignore
          log(
            `${tag} ${method}: median ${e.mirror.median.toFixed(1)}° (oracle ${oracle.mirror.median.toFixed(1)}°), ARI ${(e.ari ?? NaN).toFixed(3)}, size CV ${e.sizeCv.toFixed(3)}, ≤1: ${e.emptyClasses + e.singletonClasses}, ${run.iterations} it, ${run.seconds.toFixed(0)} s`,
          );
          await save();
        }
      }
  }
  return runs;
}

if (isMain(import.meta.url))
  await runScript('accuracy-grid', async () => {
    const o = parseGridArgs(process.argv.slice(2));
    const runs = await accuracyGrid(o, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`\n${gridTable(runs, o.methods)}\nresults: ${join(resolve(o.out), 'results.md')}\n`);
  });
