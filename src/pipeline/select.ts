/**
 * `select`: the particles of chosen classes of a run_data.star, every block and column kept;
 * `select --auto`: the classes chosen by their scores in run_model.star (class-score.ts). A
 * run_particles.cs input (or `cs: true` beside a run_data.star) gives a .cs + .csg output for
 * cryoSPARC (cs-outputs.ts).
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AckmeansError, checkInt, checkNumber } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { StarBlock, StarFile, readStar, writeStar } from '../io/index.js';
import { splitImageNames } from '../io/particles-star.js';
import { locateStacks, outputStackPath } from '../io/stack-references.js';
import { accepted, DEFAULT_MIN_SCORE, FEATURES, type FeatureName, judgeClass } from './class-score.js';
import { csFieldOf, readCs } from '../io/cs.js';
import { CS_FILES, writeCsGroup } from './cs-outputs.js';
import { featureColumn } from './outputs.js';
import { VERSION } from './version.js';

/** Parses "3,7,12" or "3-5,9" into sorted distinct class numbers (1-based). */
export function parseClassList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',').map((s) => s.trim())) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    if (range) {
      const a = checkInt('classes', Number(range[1]), 1);
      const b = checkInt('classes', Number(range[2]), a);
      for (let c = a; c <= b; c++) out.add(c);
    } else if (/^\d+$/.test(part)) out.add(checkInt('classes', Number(part), 1));
    else throw new RangeError(`classes must be a list like "3,7,12" or "3-5,9", got "${text}"`);
  }
  return [...out].sort((a, b) => a - b);
}

/** The particles block of a run_data.star: `particles`, or the only loop with _rlnClassNumber. */
function particlesBlock(star: StarFile, file: string) {
  const block = star.block('particles') ?? star.blocks.find((b) => b.loop && b.has('rlnClassNumber'));
  if (!block || !block.has('rlnClassNumber'))
    throw new AckmeansError(
      'ERR_NO_CLASSES',
      `ackmeans: ${file} has no particle table with _rlnClassNumber`,
      {
        file,
      },
    );
  return block;
}

/** Options of {@link selectClasses}. */
export interface SelectOptions {
  /** Stack remapping, as for `openParticles` (applied to the image names written). */
  remap?: Record<string, string>;
  /** Called with a sentence for each oddity (stacks that could not be found). */
  warn?: (message: string) => void;
  /**
   * With a STAR output, also write the same particles for cryoSPARC: OUTPUT with `.star` → `.cs`
   * (and `.csg`), from the run_particles.cs beside the input ({@link csPathFor}).
   */
  cs?: boolean;
}

/** The run_particles.cs of classify beside a run_data.star. */
export function csPathFor(dataStar: string): string {
  return join(dirname(dataStar), CS_FILES.particles);
}

const isCs = (path: string): boolean => /\.cs$/i.test(path);

/**
 * Writes to `output` (a `.cs`, its `.csg` beside) the records of the cryoSPARC particle file
 * `input` whose `alignments2D/class` + 1 is in `classes`, every field kept. Returns the count.
 * `expected`: the count the matching STAR selection gave (`ERR_CS_MISMATCH`, nothing written,
 * when it differs).
 */
export async function selectClassesCs(
  input: string,
  classes: number[],
  output: string,
  expected?: number,
): Promise<number> {
  if (!isCs(output))
    throw new RangeError(`a .cs input (${input}) is selected into a .cs output, not ${output}`);
  const cs = await readCs(input);
  const numbers = cs.numeric('alignments2D/class');
  if (!numbers)
    throw new AckmeansError('ERR_NO_CLASSES', `ackmeans: ${input} has no alignments2D/class field`, {
      file: input,
    });
  const present = new Set(Array.from(numbers, (c) => c + 1));
  const missing = classes.filter((c) => !present.has(c));
  if (missing.length) throw new RangeError(`classes ${missing.join(', ')} have no particles in ${input}`);
  const wanted = new Set(classes);
  const rows: number[] = [];
  numbers.forEach((c, i) => {
    if (wanted.has(c + 1)) rows.push(i);
  });
  if (expected !== undefined && expected !== rows.length)
    throw new AckmeansError(
      'ERR_CS_MISMATCH',
      `ackmeans: ${input} has ${rows.length} particles of classes ${classes.join(',')}, the STAR file ${expected}: they are not the outputs of one classification`,
      { file: input },
    );
  await mkdir(dirname(resolve(output)), { recursive: true });
  const name = basename(output);
  await writeCsGroup(
    dirname(resolve(output)),
    name,
    name.replace(/\.cs$/i, '.csg'),
    rows.length,
    cs.fields.map((f) => csFieldOf(cs, f, rows)),
    {
      name: 'particles',
      type: 'particle',
      title: `ackmeans select: classes ${classes.join(',')}`,
      description: `Particles of classes ${classes.join(',')} of ${input}`,
    },
    (await stat(input)).mtime.toISOString(),
    `ackmeans ${VERSION}`,
  );
  return rows.length;
}

/**
 * The particle table's `_rlnImageName` values renamed so they resolve from the current folder
 * (src/io/stack-references.ts), with `remap` applied. References whose stack cannot be found are
 * kept as written (and reported through `warn`).
 */
async function relocatedImageNames(block: StarBlock, file: string, options: SelectOptions) {
  const names = block.strings('rlnImageName');
  if (!names) return undefined;
  const { references, stackIndex } = splitImageNames(names, file);
  const found = await locateStacks(references, dirname(file), options.remap ?? {});
  const missing = references.filter((_, s) => found.paths[s] === undefined);
  if (missing.length)
    options.warn?.(
      `${missing.length} referenced stack file${missing.length > 1 ? 's' : ''} not found (${found.searched}); their image names are copied as written: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
    );
  const written = found.paths.map((p, s) => (p === undefined ? references[s] : outputStackPath(p)));
  return names.map((name, i) => `${name.slice(0, name.indexOf('@'))}@${written[stackIndex[i]]}`);
}

/**
 * Writes to `output` the rows of `input`'s particle table whose _rlnClassNumber is in `classes`
 * (other blocks, e.g. optics, are copied); image names are rewritten to resolve from the current
 * folder (RELION's convention). Returns the number of particles written.
 * @throws AckmeansError `ERR_NO_CLASSES` when the table has no class column, RangeError for a
 *   class number the file does not contain.
 */
export async function selectClasses(
  input: string,
  classes: number[],
  output: string,
  options: SelectOptions = {},
): Promise<number> {
  if (isCs(input)) return selectClassesCs(input, classes, output);
  if (isCs(output))
    throw new RangeError(
      `${output}: a .cs output needs a .cs input (run_particles.cs), or a .star output with --cs`,
    );
  const star = await readStar(input);
  const block = particlesBlock(star, input);
  const numbers = block.numeric('rlnClassNumber');
  if (!numbers)
    throw new AckmeansError('ERR_NO_CLASSES', `ackmeans: ${input}: _rlnClassNumber is not numeric`, {
      file: input,
    });
  const present = new Set(numbers);
  const missing = classes.filter((c) => !present.has(c));
  if (missing.length) throw new RangeError(`classes ${missing.join(', ')} have no particles in ${input}`);
  const wanted = new Set(classes);
  const rows: number[] = [];
  numbers.forEach((c, i) => {
    if (wanted.has(c)) rows.push(i);
  });
  const selected = block.selectRows(rows);
  const names = await relocatedImageNames(block, input, options);
  if (names)
    selected.setColumn(
      'rlnImageName',
      rows.map((r) => names[r]),
    );
  await mkdir(dirname(resolve(output)), { recursive: true }); // RELION-style Select/jobNNN/ folders
  if (options.cs)
    await selectClassesCs(csPathFor(input), classes, output.replace(/\.star$/i, '') + '.cs', rows.length);
  await writeStar(output, new StarFile(star.blocks.map((b) => (b === block ? selected : b))));
  return rows.length;
}

/** One class in the table of {@link selectAuto}. */
export interface ClassDecision {
  /** 1-based class number. */
  class: number;
  particles: number;
  /** Even/odd FRC resolution in Å (null when undetermined). */
  resolution: number | null;
  score: number;
  accepted: boolean;
  /** Why the class was rejected (or its weak points when accepted); empty when nothing is weak. */
  reasons: string[];
}

/** Options of {@link selectAuto}. */
export interface AutoSelectOptions extends SelectOptions {
  /** Smallest score of an accepted class (default {@link DEFAULT_MIN_SCORE}). */
  minScore?: number;
  /** The run_model.star with the class scores (default: beside the input, `*_data.star` → `*_model.star`). */
  model?: string;
  /** Where to write the table of classes (default: the output with `.star` → `_classes.tsv`). */
  table?: string;
}

/** The run_model.star beside a run_data.star. */
export function modelPathFor(dataStar: string): string {
  return /_data\.star$/.test(dataStar)
    ? dataStar.replace(/_data\.star$/, '_model.star')
    : join(dirname(dataStar), 'run_model.star');
}

/**
 * The decision on every class of a run_model.star written by `ackmeans classify`: each class's
 * score and reasons re-derived from its stored feature values (src/pipeline/class-score.ts), so
 * a different `minScore` needs no new run.
 * @throws AckmeansError `ERR_NO_SCORES` when the model has no ackmeans class features.
 */
export async function classDecisions(model: string, minScore = DEFAULT_MIN_SCORE): Promise<ClassDecision[]> {
  checkNumber('minScore', minScore, 0, 1);
  const star = await readStar(model);
  const general = star.block('model_general');
  const classes = star.block('model_classes');
  const names = Object.keys(FEATURES) as FeatureName[];
  const sizes = classes?.numeric('ackClassSize');
  const columns = names.map((f) => classes?.numeric(featureColumn(f)));
  const box = general?.numeric('rlnCurrentImageSize')?.[0];
  if (!classes || !sizes || columns.some((c) => !c) || box === undefined)
    throw new AckmeansError(
      'ERR_NO_SCORES',
      `ackmeans: ${model} has no class scores (_ackClassSize and _ackFeature* columns); it must be a run_model.star of "ackmeans classify"`,
      { file: model },
    );
  const resolution = classes.numeric('rlnEstimatedResolution');
  const total = sizes.reduce((a, s) => a + s, 0);
  return Array.from(sizes, (members, j) => {
    const values = Object.fromEntries(names.map((f, i) => [f, columns[i]![j]])) as Record<
      FeatureName,
      number
    >;
    const judged = judgeClass(values, members, total, box);
    const r = resolution?.[j];
    const ok = accepted(judged, minScore);
    return {
      class: j + 1,
      particles: members,
      resolution: r !== undefined && r < 999 ? r : null,
      score: judged.score,
      accepted: ok,
      reasons:
        ok || judged.score >= minScore || judged.reasons.length ? judged.reasons : [`score < ${minScore}`],
    };
  });
}

/** The table of {@link ClassDecision}s as tab-separated text (one header line). */
export function decisionTable(decisions: readonly ClassDecision[]): string {
  const lines = ['class\tparticles\tresolution_A\tscore\tdecision\treasons'];
  for (const d of decisions)
    lines.push(
      [
        d.class,
        d.particles,
        d.resolution === null ? '' : d.resolution.toFixed(1),
        d.score.toFixed(3),
        d.accepted ? 'accepted' : 'rejected',
        d.reasons.join('; '),
      ].join('\t'),
    );
  return `${lines.join('\n')}\n`;
}

/**
 * `select --auto`: the particles of the classes whose score is at least `minScore` and that no
 * gate rejects, written to `output` as {@link selectClasses} does, and the table of every class
 * (accepted/rejected and why) written to `options.table`.
 * @returns the decisions, the number of particles written and the table's path.
 * @throws AckmeansError `ERR_NO_SCORES` (see {@link classDecisions}), `ERR_NOTHING_SELECTED` when
 *   no class passes (nothing is written then).
 */
export async function selectAuto(
  input: string,
  output: string,
  options: AutoSelectOptions = {},
): Promise<{ decisions: ClassDecision[]; particles: number; table: string }> {
  const decisions = await classDecisions(options.model ?? modelPathFor(input), options.minScore);
  const keep = decisions.filter((d) => d.accepted && d.particles > 0).map((d) => d.class);
  if (keep.length === 0)
    throw new AckmeansError(
      'ERR_NOTHING_SELECTED',
      `ackmeans: no class of ${input} passes (best score ${Math.max(...decisions.map((d) => d.score)).toFixed(3)}, --min-score ${options.minScore ?? DEFAULT_MIN_SCORE})`,
      { file: input },
    );
  const particles = await selectClasses(input, keep, output, options);
  const table = options.table ?? output.replace(/\.(star|cs)$/i, '') + '_classes.tsv';
  await writeFileAtomic(table, decisionTable(decisions));
  return { decisions, particles, table };
}
