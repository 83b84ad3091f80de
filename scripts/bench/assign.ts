/**
 * The ACK-means assignment pass (everything but the dissimilarity table) at n = 10⁶, k = 200:
 * d_c from 10 rows, a fresh random order, and the O(nk) pass over the 800 MB table.
 * Target: < 1 s on the 2-core machine. The pass does 2 operations per table entry (add the
 * size penalty, compare); it is bound by reading the table, so its "peak" is a plain
 * sequential read of the same table in JavaScript, measured in the same run.
 */
import { ackPass, ackRule } from '../../src/cluster/ack.js';
import { classSizes } from '../../src/cluster/objective.js';
import { assignNearest } from '../../src/cluster/rule.js';
import { VectorSource } from '../../src/cluster/vector-source.js';
import { Rng } from '../../src/random.js';
import { median, options } from './util.js';

/**
 * Wall time in seconds of `fn` over `reps` runs after a warm-up (`prepare` is not timed): the
 * median, or the best run with --best (for a shared, busy machine).
 */
async function measure(reps: number, best: boolean, prepare: () => void, fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r <= reps; r++) {
    prepare();
    const t0 = performance.now();
    await fn();
    if (r > 0) times.push((performance.now() - t0) / 1000);
  }
  return best ? Math.min(...times) : median(times);
}

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, {
    n: { type: 'string', default: '1000000' },
    k: { type: 'string', default: '200' },
    reps: { type: 'string', default: '5' },
    best: { type: 'boolean', default: false },
  });
  const best = o.best === true;
  const n = Number(o.n);
  const k = Number(o.k);
  const reps = Number(o.reps);
  const rng = new Rng(1);
  const table = new Float32Array(n * k);
  for (let p = 0; p < table.length; p++) table[p] = 100 + 10 * rng.next();
  const start = new Int32Array(n).map(() => rng.int(k));
  const assignment = new Int32Array(n);
  const sizes = new Int32Array(k);
  const reset = () => {
    assignment.set(start);
    sizes.set(classSizes(start, k));
  };
  log(
    `ACK-means assignment pass: n=${n} k=${k} (table ${((n * k * 4) / 1e6).toFixed(0)} MB), ${best ? 'best' : 'median'} of ${reps}`,
  );

  const time = (prepare: () => void, fn: () => unknown) => measure(reps, best, prepare, fn);
  const source = new VectorSource(new Float32Array(n), 1);
  const base = { table, n, k, assignment, sizes, references: new Float32Array(k), source, beta: 0.5 };
  let seed = 0;
  const full = await time(reset, () => ackRule.pass({ ...base, rng: new Rng(++seed) }));
  const order = new Rng(7).permutation(n);
  const pass = await time(reset, () => ackPass(table, k, assignment, sizes, 0.01, order));
  const sequential = Int32Array.from({ length: n }, (_, i) => i);
  const inOrder = await time(reset, () => ackPass(table, k, assignment, sizes, 0.01, sequential));
  const shuffle = await time(
    () => {},
    () => new Rng(++seed).permutation(n),
  );
  const nearest = await time(reset, () => assignNearest(table, n, k, assignment, sizes));
  let sink = 0;
  const read = await time(
    () => {},
    () => {
      let s = 0;
      for (let p = 0; p < table.length; p++) s += table[p];
      sink += s;
    },
  );

  const ops = 2 * n * k;
  const rate = (t: number) =>
    `${(ops / t / 1e9).toFixed(2)} Gop/s, ${(table.byteLength / t / 1e9).toFixed(2)} GB/s`;
  log(`  full ACK pass (d_c + order + pass)   ${full.toFixed(3)} s   (target < 1 s)`);
  log(`    random order (Fisher–Yates, JS)    ${shuffle.toFixed(3)} s`);
  log(`    native pass, random order          ${pass.toFixed(3)} s   ${rate(pass)}`);
  log(`  native pass, sequential order        ${inOrder.toFixed(3)} s   ${rate(inOrder)}`);
  log(`  K-means nearest pass (JS)            ${nearest.toFixed(3)} s   ${rate(nearest)}`);
  log(`  plain sequential read of the table   ${read.toFixed(3)} s   ${rate(read)}`);
  log(`  full pass vs read-bound peak         ${((read / full) * 100).toFixed(0)} %`);
  return {
    name: 'assign',
    n,
    k,
    statistic: best ? 'best' : 'median',
    seconds: full,
    passSeconds: pass,
    sequentialSeconds: inOrder,
    shuffleSeconds: shuffle,
    nearestSeconds: nearest,
    readSeconds: read,
    gops: ops / pass / 1e9,
    ratioToRead: read / full,
    underTarget: full < 1,
    finite: Number.isFinite(sink),
  };
}
