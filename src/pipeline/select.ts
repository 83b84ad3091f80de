/**
 * `select`: the particles of chosen classes of a run_data.star, every block and column kept.
 */
import { AckmeansError, checkInt } from '../errors.js';
import { dirname } from 'node:path';
import { StarBlock, StarFile, readStar, writeStar } from '../io/index.js';
import { splitImageNames } from '../io/particles-star.js';
import { locateStacks, outputStackPath } from '../io/stack-references.js';

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
  await writeStar(output, new StarFile(star.blocks.map((b) => (b === block ? selected : b))));
  return rows.length;
}
