/**
 * STAR reading at scale: writes a RELION 3.1 particle file of 10⁶ rows (~114 MB; options
 * --rows) referencing 10 small stacks, then times `readStar` (a tsx worker: the parse alone),
 * and the built command line `node dist/cli.js info FILE` and `… validate FILE` (what a user
 * runs; `npm run build:ts` first), each in its own process, with its peak RSS (from
 * /usr/bin/time), and `relion_star_handler --i … --o …` (read + write) when RELION is installed.
 * Targets (issue 13): no slower than relion_star_handler, peak RSS ≤ 0.5 GB; the run fails
 * (exit 1, after printing every figure) when info or validate peaks above 0.5 GB.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeMrc } from '../../src/io/index.js';
import { options } from './util.js';

const STACKS = 10;
const PER_STACK = 100;
const BOX = 16;
/** The memory target of `ackmeans info` / `validate` (issue 13), in MB. */
const PEAK_TARGET_MB = 500;

/** Writes the particle STAR file (buffered, a chunk of rows at a time). */
async function writeParticles(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    new Promise<void>((resolve) => {
      if (out.write(s)) resolve();
      else out.once('drain', resolve);
    });
  await write(
    '# version 30001\n\ndata_optics\n\nloop_\n_rlnOpticsGroupName #1\n_rlnOpticsGroup #2\n_rlnVoltage #3\n' +
      '_rlnSphericalAberration #4\n_rlnAmplitudeContrast #5\n_rlnImagePixelSize #6\n_rlnImageSize #7\n' +
      '_rlnImageDimensionality #8\nopticsGroup1 1 300.000000 2.700000 0.100000 2.000000 16 2\n\n\n' +
      '# version 30001\n\ndata_particles\n\nloop_\n_rlnImageName #1\n_rlnCoordinateX #2\n_rlnCoordinateY #3\n' +
      '_rlnAnglePsi #4\n_rlnOriginXAngst #5\n_rlnOriginYAngst #6\n_rlnDefocusU #7\n_rlnDefocusV #8\n' +
      '_rlnDefocusAngle #9\n_rlnOpticsGroup #10\n',
  );
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const image = (i % PER_STACK) + 1;
    const stack = Math.floor(i / PER_STACK) % STACKS;
    const f = (v: number) => v.toFixed(6);
    chunk += `${String(image).padStart(6, '0')}@Extract/s${stack}.mrcs ${f((i * 7) % 4096)} ${f((i * 13) % 4096)} ${f((i * 0.37) % 360)} ${f(((i % 11) - 5) * 0.5)} ${f(((i % 7) - 3) * 0.5)} ${f(10000 + (i % 5000))} ${f(9800 + (i % 5000))} ${f((i * 1.7) % 180)} 1\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve) => out.end(resolve));
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS in MB. */
function timed(
  cmd: string,
  args: string[],
  cwd: string,
): { seconds: number; peakMB: number; stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { cwd, encoding: 'utf8' });
  const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return { seconds: Number(m[1]), peakMB: Number(m[2]) / 1024, stdout: r.stdout };
}

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    rows: { type: 'string', default: '1000000' },
    keep: { type: 'string' }, // a folder to write the files into and leave them in
  });
  const rows = Number(o.rows);
  const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'ackmeans-bench-star-'));
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const worker = fileURLToPath(new URL('./util-star-worker.ts', import.meta.url));
  const cli = join(root, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build:ts first`);
  try {
    mkdirSync(join(dir, 'Extract'), { recursive: true });
    const images = Float32Array.from({ length: PER_STACK * BOX * BOX }, (_, k) => Math.sin(k));
    for (let s = 0; s < STACKS; s++)
      await writeMrc(join(dir, 'Extract', `s${s}.mrcs`), images, {
        nx: BOX,
        ny: BOX,
        nz: PER_STACK,
        pixelSize: 2,
      });
    const file = join(dir, 'particles.star');
    await writeParticles(file, rows);
    const mb = statSync(file).size / 1e6;
    log(`star: ${rows} rows, ${mb.toFixed(1)} MB (RELION 3.1, 10 columns, ${STACKS} stacks)`);
    const result: Record<string, unknown> = { rows, fileMB: mb };
    const r = timed(process.execPath, ['--import', 'tsx', worker, 'readStar', file], root);
    const inner = (JSON.parse(r.stdout.trim()) as { seconds: number }).seconds;
    result.readStar = { seconds: inner, processSeconds: r.seconds, peakMB: r.peakMB };
    log(
      `  readStar   ${inner.toFixed(2)} s (tsx process ${r.seconds.toFixed(2)} s, peak RSS ${r.peakMB.toFixed(0)} MB)`,
    );
    const over: string[] = [];
    for (const op of ['info', 'validate']) {
      const c = timed(process.execPath, [cli, op, file], root);
      result[op] = { seconds: c.seconds, peakMB: c.peakMB };
      if (c.peakMB > PEAK_TARGET_MB) over.push(`${op} ${c.peakMB.toFixed(0)} MB`);
      log(
        `  ${op.padEnd(10)} ${c.seconds.toFixed(2)} s (node dist/cli.js ${op}), peak RSS ${c.peakMB.toFixed(0)} MB`,
      );
    }
    let relion = false;
    try {
      execFileSync('which', ['relion_star_handler'], { stdio: 'ignore' });
      relion = true;
    } catch {
      log('  relion_star_handler not installed: no comparison');
    }
    if (relion) {
      const r = timed('relion_star_handler', ['--i', file, '--o', join(dir, 'copy.star')], dir);
      result.relion_star_handler = { seconds: r.seconds, peakMB: r.peakMB };
      log(
        `  relion_star_handler (read + write) ${r.seconds.toFixed(2)} s, peak RSS ${r.peakMB.toFixed(0)} MB`,
      );
    }
    if (over.length) {
      log(`  FAILED: peak RSS above the ${PEAK_TARGET_MB} MB target: ${over.join(', ')}`);
      process.exitCode = 1;
    }
    return result;
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
