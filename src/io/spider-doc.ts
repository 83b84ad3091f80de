/**
 * SPIDER document files: `;` comment lines, then one line per key: the key, the number of
 * registers, and the register values (free format, as SPIDER 11+ reads and writes them).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { FormatError, checkRegularFile, fileError } from './errors.js';

/** A SPIDER document: keys and their register values, plus the comment lines. */
export interface SpiderDoc {
  keys: number[];
  rows: number[][];
  comments: string[];
}

/** Parses SPIDER document text; `file` is used in error messages. */
export function parseSpiderDoc(text: string, file: string): SpiderDoc {
  const doc: SpiderDoc = { keys: [], rows: [], comments: [] };
  text.split(/\r?\n/).forEach((line, k) => {
    const t = line.trim();
    if (t === '') return;
    if (t.startsWith(';')) {
      doc.comments.push(t.slice(1).trim());
      return;
    }
    const tokens = t.split(/\s+/);
    const nums = tokens.map(Number);
    const where = `line ${k + 1}`;
    if (nums.some((v) => Number.isNaN(v)))
      throw new FormatError('ERR_SPIDER_DOC', file, `${where}: not a number in "${t}"`);
    if (nums.length < 2 || !Number.isInteger(nums[0]) || !Number.isInteger(nums[1]) || nums[1] < 0)
      throw new FormatError('ERR_SPIDER_DOC', file, `${where}: expected "key count values…"`);
    if (nums.length - 2 !== nums[1])
      throw new FormatError(
        'ERR_SPIDER_DOC',
        file,
        `${where}: says ${nums[1]} registers, has ${nums.length - 2}`,
      );
    doc.keys.push(nums[0]);
    doc.rows.push(nums.slice(2));
  });
  return doc;
}

/** Reads a SPIDER document file. */
export async function readSpiderDoc(path: string): Promise<SpiderDoc> {
  await checkRegularFile(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fileError(path, err);
  }
  return parseSpiderDoc(text, path);
}

/** A register value: 10 significant digits (shortest form), right-aligned in 13 characters. */
function formatValue(v: number): string {
  return ` ${String(Number(v.toPrecision(10)))
    .toUpperCase()
    .padStart(12)}`;
}

/** Formats rows as SPIDER document text (keys 1, 2, …; `comment` as a `;` line first). */
export function formatSpiderDoc(rows: number[][], options: { comment?: string } = {}): string {
  const lines: string[] = [];
  if (options.comment !== undefined) for (const c of options.comment.split('\n')) lines.push(` ; ${c}`);
  rows.forEach((row, k) => {
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new RangeError(`rows[${k}][${j}] must be a finite number`);
    });
    lines.push(
      `${String(k + 1).padStart(5)} ${String(row.length).padStart(2)}${row.map(formatValue).join('')}`,
    );
  });
  return lines.join('\n') + '\n';
}

/** Writes rows as a SPIDER document file (keys 1, 2, …), atomically. */
export async function writeSpiderDoc(
  path: string,
  rows: number[][],
  options: { comment?: string } = {},
): Promise<void> {
  const text = formatSpiderDoc(rows, options);
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    throw fileError(path, err);
  }
}
