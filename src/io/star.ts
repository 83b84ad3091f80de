/**
 * RELION STAR files: any number of `data_` blocks, loops and key–value blocks, comments,
 * quoted strings and `# version` lines. Reading types each column (numbers → Float64Array,
 * anything else → strings); writing keeps every column and the original text of unchanged cells.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { FormatError, checkRegularFile, fileError } from './errors.js';
import { STAR_NUMBER, StarBlock, parseStarNumber, type StarRawText } from './star-block.js';

export { StarBlock, formatStarNumber, formatStarString, type StarValues } from './star-block.js';

/** A parsed STAR file: its blocks in file order. */
export class StarFile {
  constructor(
    /** The blocks, in file order (add, remove or reorder freely). */
    public blocks: StarBlock[] = [],
    /** The file it was read from, if any. */
    public path?: string,
  ) {}

  /** The first block called `name` (without `data_`), or undefined. */
  block(name: string): StarBlock | undefined {
    return this.blocks.find((b) => b.name === name);
  }
}

/** Tokens of one line as [start, end, quoted] triples (offsets into the whole text). */
function tokenize(text: string, from: number, to: number, fail: (msg: string) => never): number[] {
  const out: number[] = [];
  let i = from;
  while (i < to) {
    const ch = text.charCodeAt(i);
    if (ch === 32 || ch === 9 || ch === 13) {
      i++;
      continue;
    }
    if (ch === 35) break; // '#': comment to end of line
    if (ch === 39 || ch === 34) {
      // A quote closes only when followed by whitespace or the end of the line.
      let j = i + 1;
      for (;;) {
        j = text.indexOf(text[i], j);
        if (j < 0 || j >= to) fail(`unterminated quoted string`);
        const next = text.charCodeAt(j + 1);
        if (j + 1 >= to || next === 32 || next === 9 || next === 13) break;
        j++;
      }
      out.push(i + 1, j, 1);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < to) {
      const c = text.charCodeAt(j);
      if (c === 32 || c === 9 || c === 13) break;
      j++;
    }
    out.push(i, j, 0);
    i = j;
  }
  return out;
}

/** Cells of a loop being read: flat [start, end, quoted] per cell, row-major. */
class CellBuffer {
  data = new Uint32Array(3 * 1024);
  length = 0;
  push(tokens: number[]): void {
    if (this.length + tokens.length > this.data.length) {
      const bigger = new Uint32Array(Math.max(this.data.length * 2, this.length + tokens.length));
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    this.data.set(tokens, this.length);
    this.length += tokens.length;
  }
}

function buildLoop(block: StarBlock, names: string[], cells: CellBuffer, text: string): void {
  const ncol = names.length;
  const rows = cells.length / (3 * ncol);
  const d = cells.data;
  names.forEach((name, c) => {
    let numeric = true;
    const values = new Float64Array(rows);
    for (let r = 0; r < rows && numeric; r++) {
      const k = 3 * (r * ncol + c);
      const s = text.slice(d[k], d[k + 1]);
      if (d[k + 2] === 1 || !STAR_NUMBER.test(s)) numeric = false;
      else values[r] = parseStarNumber(s);
    }
    if (numeric) {
      const raw: StarRawText = { source: text, start: new Uint32Array(rows), end: new Uint32Array(rows) };
      for (let r = 0; r < rows; r++) {
        const k = 3 * (r * ncol + c);
        raw.start[r] = d[k];
        raw.end[r] = d[k + 1];
      }
      block._addParsed(name, { kind: 'number', values, raw });
    } else {
      const strings = new Array<string>(rows);
      for (let r = 0; r < rows; r++) {
        const k = 3 * (r * ncol + c);
        strings[r] = text.slice(d[k], d[k + 1]);
      }
      block._addParsed(name, { kind: 'string', values: strings });
    }
  });
}

/**
 * Parses STAR text. `fileName` is used in error messages. Throws a {@link FormatError}:
 * `ERR_STAR_SYNTAX` (data outside a block, a loop without columns, a key without a value,
 * duplicate columns, two tables in one block, an unterminated quote) or `ERR_STAR_RAGGED`
 * (a loop row with the wrong number of values), with the line number.
 */
export function parseStar(text: string, fileName: string): StarFile {
  if (text.length >= 2 ** 32)
    throw new FormatError('ERR_STAR_SYNTAX', fileName, 'file too large (≥ 4 GiB of text)');
  const blocks: StarBlock[] = [];
  // A UTF-8 byte-order mark (RELION 3.1 reads files that have one) is not part of the text.
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let block: StarBlock | undefined;
  let pendingVersion: string | undefined;
  let state: 'block' | 'header' | 'rows' = 'block';
  let names: string[] = [];
  let cells = new CellBuffer();
  let kvCount = 0;
  let lineNo = 0;
  const fail = (code: string, msg: string): never => {
    throw new FormatError(code, fileName, `line ${lineNo}: ${msg}`);
  };
  const syntax = (msg: string): never => fail('ERR_STAR_SYNTAX', msg);

  const finishTable = () => {
    if (state === 'header' && names.length === 0) syntax('loop_ without columns');
    if (state !== 'block' && block) {
      buildLoop(block, names, cells, text);
      block._setRowCount(cells.length / (3 * names.length));
    }
    state = 'block';
    names = [];
    cells = new CellBuffer();
  };
  const startBlock = (name: string) => {
    finishTable();
    block = new StarBlock(name, { loop: false, rowCount: 1, version: pendingVersion });
    pendingVersion = undefined;
    kvCount = 0;
    blocks.push(block);
  };

  let pos = bom;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    lineNo++;
    const tokens = tokenize(text, pos, end, syntax);
    const lineStart = pos;
    pos = end + 1;
    if (tokens.length === 0) {
      const comment = text.slice(lineStart, end).trim();
      if (/^#\s*version\b/.test(comment)) pendingVersion = comment;
      continue;
    }
    const first = text.slice(tokens[0], tokens[1]);
    const quoted = tokens[2] === 1;
    if (!quoted && first.startsWith('data_')) {
      if (tokens.length > 3) syntax(`unexpected text after ${first}`);
      startBlock(first.slice(5));
      continue;
    }
    if (!block) syntax(`"${first}" outside any data_ block`);
    const current = block!;
    if (!quoted && first === 'loop_') {
      if (state !== 'block' || current.columns.length > 0 || kvCount > 0)
        syntax('more than one table in one data_ block');
      current.loop = true;
      state = 'header';
      if (tokens.length > 3) syntax('unexpected text after loop_');
      continue;
    }
    if (!quoted && first.startsWith('_')) {
      const name = first.slice(1);
      if (name === '') syntax('empty column name');
      if (state === 'header') {
        if (names.includes(name)) syntax(`duplicate column _${name}`);
        names.push(name);
        continue;
      }
      if (state === 'rows') syntax(`_${name} after the rows of a loop`);
      if (current.loop) syntax('more than one table in one data_ block');
      if (tokens.length < 6) syntax(`_${name} has no value`);
      if (tokens.length > 6) syntax(`_${name} has more than one value`);
      if (current.has(name)) syntax(`duplicate key _${name}`);
      const one = new CellBuffer();
      one.push(tokens.slice(3, 6));
      buildLoop(current, [name], one, text);
      kvCount++;
      continue;
    }
    if (state === 'block') syntax(`unexpected "${first}" (not a key, loop_ or data_)`);
    if (state === 'header') {
      if (names.length === 0) syntax('loop_ without columns');
      state = 'rows';
    }
    if (tokens.length !== 3 * names.length)
      fail('ERR_STAR_RAGGED', `row has ${tokens.length / 3} values, the loop has ${names.length} columns`);
    cells.push(tokens);
  }
  lineNo++;
  finishTable();
  return new StarFile(blocks);
}

/** Reads and parses a STAR file (see {@link parseStar}). */
export async function readStar(path: string): Promise<StarFile> {
  await checkRegularFile(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fileError(path, err);
  }
  const star = parseStar(text, path);
  star.path = path;
  return star;
}

/** The STAR text of `star`: every block and column, unchanged cells with their original text. */
export function formatStar(star: StarFile): string {
  return star.blocks.map((b) => b.format()).join('');
}

/** Writes `star` to `path` atomically (temporary name, then rename). */
export async function writeStar(path: string, star: StarFile): Promise<void> {
  try {
    await writeFileAtomic(path, formatStar(star));
  } catch (err) {
    throw fileError(path, err);
  }
}
