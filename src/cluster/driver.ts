/**
 * The iteration driver shared by every method and every dissimilarity source:
 *
 *   init   k distinct random items are the references; the rule's initial assignment; average
 *   loop   table to the references (each item against its own class's average without it,
 *          own-class.ts) → the rule's pass → average → σ, trace → stop test
 *
 * The source owns the dissimilarities and the averages; the rule (ack.ts, kmeans.ts,
 * spider.ts, eqk.ts) owns the assignment; the driver owns everything else. After every
 * iteration the complete loop state is handed to `onIteration`, and `state` resumes from it.
 */
import { throwIfAborted } from '../errors.js';
import type { JobOptions } from '../job.js';
import { ackRule } from './ack.js';
import { eqkRule } from './eqk.js';
import { kmeansRule } from './kmeans.js';
import { classSizes, countEmpty, dataTerm, sizeTerm } from './objective.js';
import { correctOwnClass } from './own-class.js';
import type { AssignmentRule, PassContext, PassOutcome } from './rule.js';
import { iterationRng } from './seeds.js';
import type { DissimilaritySource, References } from './source.js';
import { spiderRule } from './spider.js';
import type {
  ClusteringOptions,
  ClusteringResult,
  ClusteringState,
  IterationRecord,
  Method,
} from './types.js';
import {
  type CheckedOptions,
  checkAssignment,
  checkOptions,
  checkReferences,
  checkState,
} from './validate.js';

const RULES: Record<Method, AssignmentRule> = {
  ack: ackRule,
  kmeans: kmeansRule,
  spider: spiderRule,
  eqk: eqkRule,
};

/** Options of {@link runClustering}: the common options plus a start or a saved state. */
export interface RunClusteringOptions extends ClusteringOptions {
  /**
   * A given start instead of k random items: `references` (k·dim) replace the random initial
   * references; `assignment` (n classes in [0, k)) replaces the initial assignment (the trace
   * then starts at iteration 1, and the references default to its class averages).
   */
  initial?: { assignment?: Int32Array; references?: References };
  /** Resume from a state saved by `onIteration` (same source, k, method, β, σ0 and seed). */
  state?: ClusteringState;
}

interface Loop {
  iteration: number;
  /**
   * Whether `references` are the class averages of `assignment` (false only for a given start of
   * both references and assignment): the own-class correction needs it.
   */
  averaged: boolean;
  assignment: Int32Array;
  sizes: Int32Array;
  references: References;
  trace: IterationRecord[];
  converged: boolean;
}

/**
 * Clusters the items of any {@link DissimilaritySource} into k classes with the chosen method.
 * Deterministic: the same source, options and seed give the same result for any thread count,
 * and a run resumed from any saved `state` ends exactly like an uninterrupted one.
 *
 * @throws TypeError / RangeError naming a bad option; AbortError when `signal` fires.
 */
export async function runClustering(
  source: DissimilaritySource,
  options: RunClusteringOptions,
): Promise<ClusteringResult> {
  if (typeof source !== 'object' || source === null)
    throw new TypeError('source must be a DissimilaritySource');
  const o = checkOptions(options, source.n);
  const rule = RULES[o.method];
  const job: JobOptions = { threads: o.threads, signal: o.signal };
  throwIfAborted(o.signal);
  const loop = options.state
    ? restore(options.state, o, source)
    : await initialise(source, rule, o, options, job);
  const last = loop.trace.at(-1);
  if (last?.capReached) loop.trace[loop.trace.length - 1] = { ...last, capReached: false };
  while (!loop.converged && loop.iteration < o.maxIter) {
    throwIfAborted(o.signal);
    await iterate(source, rule, o, loop, job);
  }
  const end = loop.trace.at(-1);
  if (!loop.converged && end) loop.trace[loop.trace.length - 1] = { ...end, capReached: true };
  const state = snapshot(loop, o, source);
  return {
    assignment: state.assignment,
    references: state.references,
    sizes: loop.sizes.slice(),
    trace: state.trace,
    converged: loop.converged,
    state,
  };
}

async function initialise(
  source: DissimilaritySource,
  rule: AssignmentRule,
  o: CheckedOptions,
  options: RunClusteringOptions,
  job: JobOptions,
): Promise<Loop> {
  const t0 = performance.now();
  const { n, dim } = source;
  const { k } = o;
  const given = options.initial ?? {};
  const rng = iterationRng(o.seed, 0);
  const fallback = () => source.initialReferences(rng.fork().sample(n, k));
  const start: References | undefined = given.references
    ? checkReferences('initial.references', given.references, k, dim).slice()
    : undefined;
  if (given.assignment) {
    const assignment = checkAssignment('initial.assignment', given.assignment, n, k).slice();
    const references = start ?? (await source.average(assignment, k, await fallback(), job));
    return {
      iteration: 0,
      averaged: start === undefined,
      assignment,
      sizes: classSizes(assignment, k),
      references,
      trace: [],
      converged: false,
    };
  }
  const references = start ?? (await fallback());
  const table = await source.table(references, job);
  const assignment = new Int32Array(n).fill(-1);
  const sizes = new Int32Array(k);
  const ctx = { table, n, k, assignment, sizes, references, source, beta: o.beta, rng };
  const outcome = rule.initial(ctx);
  const loop: Loop = {
    iteration: 0,
    averaged: true,
    assignment,
    sizes,
    references,
    trace: [],
    converged: false,
  };
  loop.references = await source.average(assignment, k, references, job);
  await record(loop, o, source, outcome, table, n, t0);
  return loop;
}

async function iterate(
  source: DissimilaritySource,
  rule: AssignmentRule,
  o: CheckedOptions,
  loop: Loop,
  job: JobOptions,
): Promise<void> {
  const t0 = performance.now();
  const { n } = source;
  loop.iteration++;
  let table = rule.needsTable(source) ? await source.table(loop.references, job) : null;
  if (table && rule.leaveOneOut && loop.averaged) {
    table = table.slice(); // the source may keep its table (e.g. the alignment scores)
    correctOwnClass(table, n, o.k, loop.assignment, loop.sizes);
  }
  const before = loop.assignment.slice();
  const ctx: PassContext = {
    table,
    n,
    k: o.k,
    assignment: loop.assignment,
    sizes: loop.sizes,
    references: loop.references,
    source,
    beta: o.beta,
    rng: iterationRng(o.seed, loop.iteration),
    signal: o.signal,
  };
  const outcome = await rule.pass(ctx);
  loop.references = await source.average(loop.assignment, o.k, loop.references, job);
  loop.averaged = true;
  let changed = 0;
  for (let i = 0; i < n; i++) if (loop.assignment[i] !== before[i]) changed++;
  loop.converged = rule.stop === 'no-move' ? outcome.moves === 0 : changed / n <= o.sigma0;
  await record(loop, o, source, outcome, table, changed, t0);
}

/** Appends the iteration's record to the trace and calls `onIteration` with the state. */
async function record(
  loop: Loop,
  o: CheckedOptions,
  source: DissimilaritySource,
  outcome: PassOutcome,
  table: Float32Array | null,
  changed: number,
  t0: number,
): Promise<void> {
  const lambda = outcome.lambda ?? 0;
  const rec: IterationRecord = {
    iteration: loop.iteration,
    sigma: changed / source.n,
    changed,
    j1: outcome.j1 ?? (table ? dataTerm(table, o.k, loop.assignment) : 0),
    j2: sizeTerm(loop.sizes, lambda),
    dc: outcome.dc ?? 0,
    lambda,
    sizes: Array.from(loop.sizes),
    empty: outcome.empty ?? countEmpty(loop.sizes),
    reseeded: outcome.reseeded ?? 0,
    seconds: (performance.now() - t0) / 1000,
    capReached: false,
  };
  loop.trace.push(rec);
  if (o.onIteration) await o.onIteration(rec, snapshot(loop, o, source));
}

function snapshot(loop: Loop, o: CheckedOptions, source: DissimilaritySource): ClusteringState {
  return {
    version: 1,
    method: o.method,
    n: source.n,
    k: o.k,
    beta: o.beta,
    sigma0: o.sigma0,
    seed: o.seed,
    iteration: loop.iteration,
    assignment: loop.assignment.slice(),
    references: loop.references.slice(),
    trace: loop.trace.map((r) => ({ ...r, sizes: [...r.sizes] })),
    converged: loop.converged,
  };
}

function restore(state: ClusteringState, o: CheckedOptions, source: DissimilaritySource): Loop {
  checkState(state, o, source);
  const assignment = state.assignment.slice();
  return {
    iteration: state.iteration,
    averaged: true,
    assignment,
    sizes: classSizes(assignment, o.k),
    references: state.references.slice(),
    trace: state.trace.map((r) => ({ ...r, sizes: [...r.sizes] })),
    converged: state.converged,
  };
}
