/**
 * Evaluation metrics and reports. evaluateClasses on n = 10,000 simulated projections (100 views
 * × 100, 5° spread) classified into k = 100 (≈ 5·10⁵ within-class pairs), k = 10 (≈ 5·10⁶) and
 * k = 1 (5·10⁷ pairs, sampled at 2·10⁶): ns per pair against a plain loop that only takes the
 * dot product of the same pairs (the least work a pair can cost). Then the time to write an
 * evaluation report (3 results) and a classify report (100 class averages of 64×64).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { viewDirections } from '../../src/eval/angles.js';
import { evaluateClasses, type Evaluation } from '../../src/eval/metrics.js';
import { writeClassifyReport, writeEvaluationReport } from '../../src/report/report.js';
import { randomClasses, simulateViews } from '../../test/eval/views.js';
import { discAverages } from '../../test/report/fixtures.js';
import { median, options, timeIt } from './util.js';

/** Σ over within-class pairs of v_i·v_j: the arithmetic floor of a pair. */
function dotFloor(v: Float64Array, classes: Int32Array, k: number): number {
  const members: number[][] = Array.from({ length: k }, () => []);
  classes.forEach((c, i) => members[c].push(i));
  let s = 0;
  for (const m of members)
    for (let a = 1; a < m.length; a++)
      for (let b = 0; b < a; b++) {
        const i = 3 * m[a];
        const j = 3 * m[b];
        s += v[i] * v[j] + v[i + 1] * v[j + 1] + v[i + 2] * v[j + 2];
      }
  return s;
}

export async function run(args: string[], log: (line: string) => void): Promise<Record<string, unknown>> {
  const o = options(args, { reps: { type: 'string', default: '5' } });
  const reps = Number(o.reps);
  const views = simulateViews(100, 100, 5, 1);
  const n = views.rot.length;
  const out: Record<string, unknown> = { name: 'evaluate', n, reps };
  log(`evaluateClasses: n=${n} simulated projections, ${reps} repetitions (median)`);
  const evaluations: { label: string; evaluation: Evaluation }[] = [];
  for (const k of [100, 10, 1]) {
    const classes = k === 100 ? views.viewIds : randomClasses(n, k, k);
    let e!: Evaluation;
    const seconds = median(await timeIt(reps, async () => (e = evaluateClasses({ ...views, classes, k }))));
    const measured = e.sampledClasses > 0 ? e.sampledClasses * 2_000_000 : e.pairs;
    const v = viewDirections(views.rot, views.tilt);
    const floor =
      e.sampledClasses > 0 ? NaN : median(await timeIt(reps, async () => dotFloor(v, classes, k)));
    const nsPerPair = (seconds / measured) * 1e9;
    log(
      `  k=${String(k).padStart(3)}  ${measured.toExponential(2)} pairs${e.sampledClasses ? ' (sampled)' : ''}  ${seconds.toFixed(3)} s  ${nsPerPair.toFixed(1)} ns/pair` +
        (Number.isNaN(floor) ? '' : `  (dot-product floor ${((floor / measured) * 1e9).toFixed(1)} ns/pair)`),
    );
    out[`k${k}`] = {
      pairs: measured,
      sampled: e.sampledClasses > 0,
      seconds,
      nsPerPair,
      floorSeconds: floor,
    };
    if (k !== 1)
      evaluations.push({ label: k === 100 ? 'by view (k=100)' : `random (k=${k})`, evaluation: e });
  }
  const dir = mkdtempSync(join(tmpdir(), 'ackmeans-bench-report-'));
  try {
    const random100 = evaluateClasses({ ...views, classes: randomClasses(n, 100, 7), k: 100 });
    evaluations.push({ label: 'random (k=100)', evaluation: random100 });
    const evalSeconds = median(
      await timeIt(reps, () =>
        writeEvaluationReport(join(dir, 'eval'), { title: 'bench', results: evaluations }),
      ),
    );
    const sizes = views.viewIds.reduce((s, c) => (s[c]++, s), new Int32Array(100));
    const averages = discAverages(100, 64);
    const trace = [1, 0.4, 0.1, 0.03, 0.008];
    const classifySeconds = median(
      await timeIt(reps, () =>
        writeClassifyReport(join(dir, 'classify'), {
          classAverages: averages,
          box: 64,
          sizes,
          trace,
          title: 'bench',
          params: {},
        }),
      ),
    );
    log(`  evaluation report (3 results, 3 charts)       ${evalSeconds.toFixed(2)} s`);
    log(`  classify report (100 classes of 64×64, 3 PNGs) ${classifySeconds.toFixed(2)} s`);
    Object.assign(out, { evaluationReportSeconds: evalSeconds, classifyReportSeconds: classifySeconds });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
