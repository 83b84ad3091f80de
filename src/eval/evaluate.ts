/**
 * Evaluating a classification written to STAR files against the true angles of a simulation:
 * the truth file gives `_rlnAngleRot`, `_rlnAngleTilt` (and a view id column when present), the
 * result file `_rlnClassNumber` (1..K). Particles are matched by `_rlnImageName`, or by row order
 * when either file has no image names and both have the same number of rows.
 */
import { basename } from 'node:path';
import { AckmeansError } from '../errors.js';
import { readStar, type StarBlock } from '../io/star.js';
import { type EvaluateOptions, evaluateClasses, type Evaluation } from './metrics.js';

/** Options of {@link evaluateFiles}. */
export interface EvaluateFilesOptions extends EvaluateOptions {
  /**
   * Column of the truth file holding the true view id of each particle, for the adjusted Rand
   * index (without the leading underscore). Default: the first column whose name contains "view"
   * (case-insensitive), if any; without one the ARI is left out.
   */
  viewColumn?: string;
  /** Number of classes K (default: the largest class number in the result). */
  classes?: number;
}

/**
 * Reads a truth and a result STAR file and evaluates the classification (see
 * {@link evaluateClasses}). Every particle of the result must be in the truth file; the truth
 * may hold more.
 *
 * @throws AckmeansError with a code naming the problem and the file: ERR_STAR_COLUMN (a required
 *   column is missing or not numeric), ERR_STAR_VALUE (a class number that is not an integer in
 *   1..K, a view id that is not an integer), ERR_EVAL_MATCH (particles cannot be matched);
 *   the STAR reader's own errors for unreadable files.
 */
export async function evaluateFiles(
  truthStar: string,
  resultStar: string,
  options: EvaluateFilesOptions = {},
): Promise<Evaluation> {
  if (typeof truthStar !== 'string' || truthStar === '') throw new TypeError('truthStar must be a file path');
  if (typeof resultStar !== 'string' || resultStar === '')
    throw new TypeError('resultStar must be a file path');
  const [truthFile, resultFile] = await Promise.all([readStar(truthStar), readStar(resultStar)]);
  const truth = particles(truthFile.blocks, truthStar, ['rlnAngleRot', 'rlnAngleTilt']);
  const result = particles(resultFile.blocks, resultStar, ['rlnClassNumber']);
  const rows = matchRows(truth, truthStar, result, resultStar);

  const classNumbers = numericColumn(result, resultStar, 'rlnClassNumber');
  const maxClass = classNumbers.reduce((a, c) => Math.max(a, c), 0);
  const k = options.classes ?? maxClass;
  const classes = new Int32Array(classNumbers.length);
  for (let i = 0; i < classes.length; i++) {
    const c = classNumbers[i];
    if (!Number.isInteger(c) || c < 1 || c > k)
      throw new AckmeansError(
        'ERR_STAR_VALUE',
        `${basename(resultStar)}: _rlnClassNumber of row ${i + 1} is ${c}, not an integer in 1..${k}`,
        { file: resultStar },
      );
    classes[i] = c - 1;
  }
  const pick = (values: Float64Array) => Float64Array.from(rows, (r) => values[r]);
  const viewColumn = options.viewColumn ?? truth.columns.find((c) => /view/i.test(c));
  let viewIds: Int32Array | undefined;
  if (viewColumn !== undefined) {
    const ids = pick(numericColumn(truth, truthStar, viewColumn));
    const bad = ids.findIndex((v) => !Number.isInteger(v));
    if (bad >= 0)
      throw new AckmeansError(
        'ERR_STAR_VALUE',
        `${basename(truthStar)}: view id column _${viewColumn} holds ${ids[bad]} (row ${rows[bad] + 1}), not an integer`,
        { file: truthStar },
      );
    viewIds = Int32Array.from(ids);
  }
  return evaluateClasses(
    {
      rot: pick(numericColumn(truth, truthStar, 'rlnAngleRot')),
      tilt: pick(numericColumn(truth, truthStar, 'rlnAngleTilt')),
      classes,
      k,
      viewIds,
    },
    options,
  );
}

/** The particles table: the `particles` block (RELION 3.1+), else the first loop with `required`. */
function particles(blocks: StarBlock[], file: string, required: string[]): StarBlock {
  const block =
    blocks.find((b) => b.loop && b.name === 'particles') ??
    blocks.find((b) => b.loop && required.every((c) => b.has(c)));
  if (block === undefined)
    throw new AckmeansError(
      'ERR_STAR_COLUMN',
      `${basename(file)}: no particle table with ${required.map((c) => `_${c}`).join(', ')}`,
      { file },
    );
  return block;
}

function numericColumn(block: StarBlock, file: string, name: string): Float64Array {
  const values = block.numeric(name);
  if (values === undefined)
    throw new AckmeansError(
      'ERR_STAR_COLUMN',
      `${basename(file)}: column _${name} is ${block.has(name) ? 'not numeric' : 'missing'}`,
      { file },
    );
  return values;
}

/** `000001@dir/stack.mrcs` and `1@stack.mrcs` name the same image. */
function imageKey(name: string): string {
  const at = name.indexOf('@');
  if (at < 0) return basename(name);
  const index = Number(name.slice(0, at));
  return `${Number.isInteger(index) ? index : name.slice(0, at)}@${basename(name.slice(at + 1))}`;
}

/** For each result row, its row in the truth table. */
function matchRows(truth: StarBlock, truthFile: string, result: StarBlock, resultFile: string): Int32Array {
  const truthNames = truth.strings('rlnImageName');
  const resultNames = result.strings('rlnImageName');
  if (truthNames === undefined || resultNames === undefined) {
    if (truth.rowCount !== result.rowCount)
      throw new AckmeansError(
        'ERR_EVAL_MATCH',
        `cannot match particles: ${basename(truthNames ? resultFile : truthFile)} has no _rlnImageName and the files have ${truth.rowCount} and ${result.rowCount} rows`,
        { file: truthNames ? resultFile : truthFile },
      );
    return Int32Array.from({ length: result.rowCount }, (_, i) => i);
  }
  const index = new Map<string, number>();
  truthNames.forEach((name, row) => {
    const key = imageKey(name);
    if (index.has(key))
      throw new AckmeansError(
        'ERR_EVAL_MATCH',
        `${basename(truthFile)}: image ${name} appears twice (rows ${index.get(key)! + 1} and ${row + 1})`,
        { file: truthFile },
      );
    index.set(key, row);
  });
  return Int32Array.from(resultNames, (name, row) => {
    const t = index.get(imageKey(name));
    if (t === undefined)
      throw new AckmeansError(
        'ERR_EVAL_MATCH',
        `${basename(resultFile)}: image ${name} (row ${row + 1}) is not in ${basename(truthFile)}`,
        { file: resultFile },
      );
    return t;
  });
}
