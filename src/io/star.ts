/**
 * RELION STAR files: any number of `data_` blocks, loops and key–value blocks, comments,
 * quoted strings and `# version` lines. Reading types each column (numbers → Float64Array,
 * anything else → strings); writing keeps every column and the original text of unchanged cells.
 */
import { open } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { FormatError, checkRegularFile, fileError } from './errors.js';
import { OTHER_TEXT, STAR_NUMBER, StarBlock, parseStarNumber, rawText } from './star-block.js';
import { StarTextBuilder, decode } from './star-text.js';

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

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const HASH = 35;
const isBlank = (c: number) => c === SPACE || c === TAB || c === CR;

/**
 * Where the quoted string opened at bytes[open] (' or ") closes, before `to`: a quote closes only
 * when followed by whitespace or the end of the line.
 */
function closingQuote(bytes: Uint8Array, open: number, to: number, fail: (msg: string) => never): number {
  const ch = bytes[open];
  let j = open + 1;
  for (;;) {
    j = bytes.indexOf(ch, j);
    if (j < 0 || j >= to) fail('unterminated quoted string');
    if (j + 1 >= to || isBlank(bytes[j + 1])) return j;
    j++;
  }
}

/** Tokens of one line (bytes from…to) as [start, end, quoted] triples. */
function tokenize(bytes: Uint8Array, from: number, to: number, fail: (msg: string) => never): number[] {
  const out: number[] = [];
  let i = from;
  while (i < to) {
    const ch = bytes[i];
    if (isBlank(ch)) {
      i++;
      continue;
    }
    if (ch === HASH) break; // comment to end of line
    if (ch === 39 || ch === 34) {
      const j = closingQuote(bytes, i, to, fail);
      out.push(i + 1, j, 1);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < to && !isBlank(bytes[j])) j++;
    out.push(i, j, 0);
    i = j;
  }
  return out;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * Set by {@link fastNumber}: the fraction digits d of the token just read when `value.toFixed(d)`
 * is its text exactly (no `+`, no leading zero before a digit, a digit before and after any `.`,
 * not −0), else {@link OTHER_TEXT}.
 */
let fastDigits = OTHER_TEXT;

/**
 * The value of the unquoted token bytes[from…to) when it is a plain decimal ([+-]digits[.digits],
 * at most 15 significant digits: exact, like Number()); NaN when it needs the general path.
 */
function fastNumber(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  let neg = false;
  fastDigits = OTHER_TEXT;
  const plus = bytes[i] === 43;
  if (bytes[i] === 45 || plus) neg = bytes[i++] === 45;
  const intStart = i;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < to; i++) {
    const c = bytes[i];
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      if (mantissa > 0) digits++;
      if (fraction >= 0) fraction++;
    } else if (c === 46 && fraction < 0) fraction = 0;
    else return NaN;
  }
  const ndigits = to - from - (neg || bytes[from] === 43 ? 1 : 0) - (fraction >= 0 ? 1 : 0);
  if (ndigits === 0 || digits > 15 || fraction > 22) return NaN;
  const v = fraction > 0 ? mantissa / POW10[fraction] : mantissa;
  const intDigits = fraction < 0 ? to - intStart : to - intStart - fraction - 1;
  const canonical =
    !plus &&
    intDigits >= 1 &&
    fraction !== 0 &&
    !(intDigits > 1 && bytes[intStart] === 48) &&
    !(neg && v === 0);
  if (canonical) fastDigits = fraction < 0 ? 0 : fraction;
  return neg ? -v : v;
}

/**
 * One column of a table being read: numbers (value + how to give back its text, see StarRawText)
 * until a cell is not one, then text (see StarTextColumn).
 */
class ColumnBuilder {
  values: Float64Array;
  digits: Uint8Array;
  otherRows: number[] = [];
  otherText: string[] = [];
  text: StarTextBuilder | undefined;
  length = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
    this.digits = new Uint8Array(capacity);
  }

  push(bytes: Uint8Array, from: number, to: number, quoted: boolean): void {
    if (this.text || quoted) {
      this.toText().pushBytes(bytes, from, to);
      this.length++;
      return;
    }
    let v = fastNumber(bytes, from, to);
    let d = fastDigits;
    if (Number.isNaN(v) || d === OTHER_TEXT) {
      const text = decode(bytes, from, to);
      if (Number.isNaN(v)) {
        if (!STAR_NUMBER.test(text)) {
          this.toText().pushString(text);
          this.length++;
          return;
        }
        v = parseStarNumber(text);
      }
      d = OTHER_TEXT;
      this.otherRows.push(this.length);
      this.otherText.push(text);
    }
    if (this.length === this.values.length) this.grow();
    this.values[this.length] = v;
    this.digits[this.length++] = d;
  }

  private raw(length: number) {
    return {
      digits: this.digits.subarray(0, length),
      otherRows: Uint32Array.from(this.otherRows),
      otherText: this.otherText,
    };
  }

  /** The column as text from now on (the numbers read so far as their text). */
  private toText(): StarTextBuilder {
    if (this.text) return this.text;
    const text = new StarTextBuilder(this.values.length);
    const raw = this.raw(this.length);
    for (let r = 0; r < this.length; r++) text.pushString(rawText(raw, this.values, r));
    this.values = new Float64Array(0);
    this.digits = new Uint8Array(0);
    this.otherRows = [];
    this.otherText = [];
    return (this.text = text);
  }

  private grow(): void {
    const size = Math.max(16, Math.ceil(this.values.length * 1.5));
    const values = new Float64Array(size);
    values.set(this.values);
    this.values = values;
    const digits = new Uint8Array(size);
    digits.set(this.digits);
    this.digits = digits;
  }

  finish(block: StarBlock, name: string): void {
    if (this.text) return block._addParsed(name, { kind: 'text', values: this.text.finish() });
    // Trim (a copy) only when much was over-allocated (comment lines among the rows).
    const fit = <T extends Float64Array | Uint8Array>(a: T): T =>
      (a.length > this.length * 1.1 + 16 ? a.slice(0, this.length) : a.subarray(0, this.length)) as T;
    this.digits = fit(this.digits);
    block._addParsed(name, { kind: 'number', values: fit(this.values), raw: this.raw(this.length) });
  }
}

/**
 * Reads STAR text given a piece at a time: `lines(bytes, final)` reads every complete line of
 * `bytes` (all of it when `final`) and returns where the unread rest starts (the start of a
 * line not yet ended: give it again, with what follows, next time); `finish()` gives the file.
 * `rowCounts`: per `loop_` of the file, in order, how many rows it may have (see
 * {@link loopRowCounter}); columns are allocated at that size.
 */
function starParser(fileName: string, rowCounts: readonly number[]) {
  let bytes: Uint8Array = new Uint8Array(0);
  let firstPiece = true;
  const blocks: StarBlock[] = [];
  let loops = 0;
  let block: StarBlock | undefined;
  let pendingVersion: string | undefined;
  let state: 'block' | 'header' | 'rows' = 'block';
  let names: string[] = [];
  let columns: ColumnBuilder[] = [];
  let rows = 0;
  /** The file line of each row of the current loop. */
  let rowLines = new Uint32Array(0);
  let kvCount = 0;
  let lineNo = 0;
  const fail = (code: string, msg: string): never => {
    throw new FormatError(code, fileName, `line ${lineNo}: ${msg}`);
  };
  const syntax = (msg: string): never => fail('ERR_STAR_SYNTAX', msg);
  const text2 = (from: number, to: number) => decode(bytes, from, to);

  const finishTable = () => {
    if (state === 'header' && names.length === 0) syntax('loop_ without columns');
    if (state !== 'block' && block) {
      if (state === 'header') columns = names.map(() => new ColumnBuilder(0)); // a loop without rows
      names.forEach((name, c) => columns[c].finish(block!, name));
      block._setRowCount(rows);
      if (block.loop) block._setRowLines(rows === rowLines.length ? rowLines : rowLines.slice(0, rows));
    }
    state = 'block';
    names = [];
    columns = [];
    rows = 0;
  };
  const startBlock = (name: string) => {
    finishTable();
    block = new StarBlock(name, { loop: false, rowCount: 1, version: pendingVersion });
    pendingVersion = undefined;
    kvCount = 0;
    blocks.push(block);
  };
  /** Reads one loop row (the line from…to) straight into the column builders. */
  const readRow = (from: number, to: number) => {
    const ncol = columns.length;
    let c = 0;
    let i = from;
    while (i < to) {
      const ch = bytes[i];
      if (isBlank(ch)) {
        i++;
        continue;
      }
      if (ch === HASH) break;
      let start = i;
      let end: number;
      let quoted = false;
      if (ch === 39 || ch === 34) {
        const j = closingQuote(bytes, i, to, syntax);
        start = i + 1;
        end = j;
        i = j + 1;
        quoted = true;
      } else {
        let j = i + 1;
        while (j < to && !isBlank(bytes[j])) j++;
        end = j;
        i = j;
      }
      if (c < ncol) columns[c].push(bytes, start, end, quoted);
      c++;
    }
    if (c !== ncol) fail('ERR_STAR_RAGGED', `row has ${c} values, the loop has ${ncol} columns`);
    if (rows === rowLines.length) {
      const grown = new Uint32Array(Math.max(16, Math.ceil(rows * 1.5)));
      grown.set(rowLines);
      rowLines = grown;
    }
    rowLines[rows++] = lineNo;
  };

  const lines = (piece: Uint8Array, final: boolean): number => {
    bytes = piece;
    // A UTF-8 byte-order mark (RELION 3.1 reads files that have one) is not part of the text.
    let pos = firstPiece && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    if (firstPiece && pos === 0 && bytes.length < 3 && !final) return 0; // too short to tell yet
    firstPiece = false;
    const n = bytes.length;
    while (pos <= n) {
      let end = bytes.indexOf(LF, pos);
      if (end < 0) {
        if (!final) break;
        end = n;
      }
      lineNo++;
      const lineStart = pos;
      pos = end + 1;
      let first = lineStart;
      while (first < end && isBlank(bytes[first])) first++;
      if (first === end) continue;
      const c0 = bytes[first];
      // The common case: a row of a loop (not a key, a keyword or a comment).
      if (state !== 'block' && c0 !== 95 /* _ */ && c0 !== HASH && !startsWord(bytes, first, end)) {
        if (state === 'header') {
          if (names.length === 0) syntax('loop_ without columns');
          state = 'rows';
          const capacity = rowCounts[loops - 1] ?? 16;
          columns = names.map(() => new ColumnBuilder(capacity));
          rowLines = new Uint32Array(capacity);
        }
        readRow(first, end);
        continue;
      }
      const tokens = tokenize(bytes, lineStart, end, syntax);
      if (tokens.length === 0) {
        const comment = text2(lineStart, end).trim();
        if (/^#\s*version\b/.test(comment)) pendingVersion = comment;
        continue;
      }
      const word = text2(tokens[0], tokens[1]);
      const quoted = tokens[2] === 1;
      if (!quoted && word.startsWith('data_')) {
        if (tokens.length > 3) syntax(`unexpected text after ${word}`);
        startBlock(word.slice(5));
        continue;
      }
      if (!block) syntax(`"${word}" outside any data_ block`);
      const current = block!;
      if (!quoted && word === 'loop_') {
        if (state !== 'block' || current.columns.length > 0 || kvCount > 0)
          syntax('more than one table in one data_ block');
        current.loop = true;
        state = 'header';
        loops++;
        if (tokens.length > 3) syntax('unexpected text after loop_');
        continue;
      }
      if (!quoted && word.startsWith('_')) {
        const name = word.slice(1);
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
        const one = new ColumnBuilder(1);
        one.push(bytes, tokens[3], tokens[4], tokens[5] === 1);
        one.finish(current, name);
        kvCount++;
        continue;
      }
      if (state === 'block') syntax(`unexpected "${word}" (not a key, loop_ or data_)`);
      syntax(`unexpected "${word}" in the rows of a loop`);
    }
    return pos;
  };
  const finish = (): StarFile => {
    lineNo++;
    finishTable();
    return new StarFile(blocks);
  };
  return { lines, finish };
}

/**
 * Parses STAR text (a string, or its UTF-8 bytes; nothing refers to them afterwards).
 * `fileName` is used in error messages. Throws a {@link FormatError}: `ERR_STAR_SYNTAX` (data
 * outside a block, a loop without columns, a key without a value, duplicate columns, two tables
 * in one block, an unterminated quote) or `ERR_STAR_RAGGED` (a loop row with the wrong number of
 * values), with the line number.
 */
export function parseStar(text: string | Uint8Array, fileName: string): StarFile {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const counter = loopRowCounter();
  counter.lines(bytes, true);
  const parser = starParser(fileName, counter.counts);
  parser.lines(bytes, true);
  return parser.finish();
}

/**
 * Counts, per `loop_` of STAR text given a piece at a time (`lines` as in {@link starParser}),
 * its non-blank lines from the first row up to the next key, `data_` or `loop_` (comment lines
 * among the rows are counted too: an upper bound). Counting first (a quick pass) lets the
 * columns be allocated once at their size: no growing, no trimming copy, and a short first row
 * (a one-row optics table) does not size columns for the rest of the file.
 */
function loopRowCounter() {
  const counts: number[] = [];
  let state: 'block' | 'header' | 'rows' = 'block';
  const lines = (bytes: Uint8Array, final: boolean): number => {
    const n = bytes.length;
    let pos = 0;
    while (pos < n) {
      let end = bytes.indexOf(LF, pos);
      if (end < 0) {
        if (!final) break;
        end = n;
      }
      let first = pos;
      pos = end + 1;
      while (first < end && isBlank(bytes[first])) first++;
      if (first === end) continue;
      const c = bytes[first];
      const word = c === 95 /* _ */ || startsWord(bytes, first, end);
      if (state === 'rows' && !word) counts[counts.length - 1]++;
      else if (c === 108 /* l */ && word) {
        state = 'header';
        counts.push(0);
      } else if (c === 100 /* d */ && word) state = 'block';
      else if (state === 'header' && !word && c !== HASH) {
        state = 'rows';
        counts[counts.length - 1]++;
      } else if (state === 'rows') state = 'block';
    }
    return Math.min(pos, n);
  };
  return { counts, lines };
}

/** True when the line at `from` starts with `data_` or `loop_` (which end a loop's rows). */
function startsWord(bytes: Uint8Array, from: number, to: number): boolean {
  const c = bytes[from];
  if ((c !== 100 && c !== 108) || to - from < 5 || bytes[from + 4] !== 95) return false; // d…_ l…_
  const head = String.fromCharCode(bytes[from], bytes[from + 1], bytes[from + 2], bytes[from + 3]);
  return head === 'data' || head === 'loop';
}

/**
 * Reads and parses a STAR file (see {@link parseStar}). `pieceBytes`: how much of the file is
 * read at a time (4 MiB; tests use a few bytes).
 */
export async function readStar(path: string, options: { pieceBytes?: number } = {}): Promise<StarFile> {
  const piece = options.pieceBytes ?? PIECE;
  await checkRegularFile(path);
  // Two passes over pieces of the file, never all of it in memory (issue 13): the rows of each
  // loop are counted, then the columns are read at their size.
  const counter = loopRowCounter();
  await forEachPiece(path, piece, counter.lines);
  const parser = starParser(path, counter.counts);
  await forEachPiece(path, piece, parser.lines);
  const star = parser.finish();
  star.path = path;
  return star;
}

/** Bytes read at a time by {@link readStar}. */
const PIECE = 1 << 22;

/**
 * Gives the file to `lines` a piece at a time (see {@link starParser}): the part `lines` leaves
 * unread (an unfinished line) is given again, followed by the next bytes; `final` is set once the
 * file has ended.
 */
async function forEachPiece(
  path: string,
  piece: number,
  lines: (bytes: Uint8Array, final: boolean) => number,
) {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    let buffer = Buffer.allocUnsafe(piece);
    let kept = 0;
    for (;;) {
      if (kept === buffer.length) {
        // a line longer than a piece: read it whole
        const longer = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(longer, 0, 0, kept);
        buffer = longer;
      }
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, kept, buffer.length - kept, null));
      } catch (err) {
        throw fileError(path, err);
      }
      const end = kept + bytesRead;
      const final = bytesRead === 0;
      const used = lines(buffer.subarray(0, end), final);
      if (final) return;
      buffer.copy(buffer, 0, used, end);
      kept = end - used;
    }
  } finally {
    await handle.close();
  }
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
