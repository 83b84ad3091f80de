/**
 * One `data_` block of a STAR file: a loop (a table) or key–value pairs (a table of one row).
 * Numeric columns are Float64Arrays, the others strings; cells read from a file keep their
 * original text so that unchanged columns are written back exactly as they were.
 */
import { checkInt } from '../errors.js';
import type { StarTextColumn } from './star-text.js';

/** Values of a column: numbers or strings, one per row. */
export type StarValues = Float64Array | string[];

/** {@link StarRawText}`.digits` of a cell whose text is kept in `otherText`. */
export const OTHER_TEXT = 255;

/**
 * The original text of a numeric column's cells, without keeping the file (memory, issue 13): per
 * cell the number of fraction digits when `value.toFixed(digits)` gives the text back exactly (a
 * plain decimal such as `-12.345600`: no `+`, no leading zeros, not `-0`, at most 15 significant
 * digits), else {@link OTHER_TEXT} and the text is in `otherText` (`otherRows` ascending).
 */
export interface StarRawText {
  digits: Uint8Array;
  otherRows: Uint32Array;
  otherText: string[];
}

/** The text of cell `row` of a numeric column (see {@link StarRawText}). */
export function rawText(raw: StarRawText, values: Float64Array, row: number): string {
  const d = raw.digits[row];
  if (d !== OTHER_TEXT) return values[row].toFixed(d);
  let lo = 0;
  let hi = raw.otherRows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (raw.otherRows[mid] < row) lo = mid + 1;
    else hi = mid;
  }
  return raw.otherText[lo];
}

type Column =
  | { kind: 'number'; values: Float64Array; raw?: StarRawText }
  | { kind: 'string'; values: string[] }
  | { kind: 'text'; values: StarTextColumn }; // a text column read from a file

/**
 * Formats a number for a STAR file: integers as integers, others with 12 significant digits
 * (shortest form), NaN as `nan`, infinities as `inf` / `-inf`.
 */
export function formatStarNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(12)));
}

const RESERVED = /^(data_|loop_|save_|global_|stop_)/i;

/** What an unquoted numeric STAR token looks like (including nan / inf). */
export const STAR_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:nan|inf|infinity)$/i;

/** The value of a token that matches {@link STAR_NUMBER} (`nan`, `inf`, `-infinity`… included). */
export function parseStarNumber(s: string): number {
  const lower = s.toLowerCase().replace(/^\+/, '');
  if (lower === 'nan' || lower === '-nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return Number(s);
}

/**
 * A string value as a STAR token, quoted when it would otherwise be misread (empty, spaces,
 * a leading quote/underscore/#, a reserved word, or text that would read back as a number).
 */
export function formatStarString(s: string): string {
  if (s !== '' && !/\s/.test(s) && !/^['"_#$;]/.test(s) && !RESERVED.test(s) && !STAR_NUMBER.test(s))
    return s;
  return /"(\s|$)/.test(s) ? `'${s}'` : `"${s}"`;
}

function toColumn(values: ArrayLike<number> | readonly string[]): Column {
  if (ArrayBuffer.isView(values))
    return { kind: 'number', values: Float64Array.from(values as ArrayLike<number>) };
  if (!Array.isArray(values)) throw new TypeError('column values must be an array or a typed array');
  const kind = values.length > 0 && typeof values[0] === 'string' ? 'string' : 'number';
  for (let i = 0; i < values.length; i++)
    if (typeof values[i] !== kind) throw new TypeError(`values[${i}] must be a ${kind}, like values[0]`);
  return kind === 'string'
    ? { kind, values: [...(values as string[])] }
    : { kind, values: Float64Array.from(values as number[]) };
}

/** A data block. Columns are named without the leading underscore (e.g. `rlnImageName`). */
export class StarBlock {
  /** Block name without `data_` (`''` for a bare `data_`). */
  name: string;
  /** True for a `loop_` table, false for key–value pairs (then rowCount is 1). */
  loop: boolean;
  /** A `# version …` comment line that preceded the block, written back before it. */
  version?: string;
  private cols = new Map<string, Column>();
  private count: number;
  private rowLines?: Uint32Array;

  constructor(name: string, options: { loop?: boolean; rowCount?: number; version?: string } = {}) {
    this.name = name;
    this.loop = options.loop ?? true;
    this.count = options.rowCount ?? (this.loop ? 0 : 1);
    if (options.version !== undefined) this.version = options.version;
  }

  /**
   * A new block from columns (in the given order); all must have the same length.
   * Numbers (any numeric array) become numeric columns, string arrays string columns.
   */
  static fromColumns(
    name: string,
    columns: Record<string, ArrayLike<number> | readonly string[]>,
    options: { loop?: boolean } = {},
  ): StarBlock {
    const entries = Object.entries(columns);
    const loop = options.loop ?? true;
    const block = new StarBlock(name, { loop, rowCount: loop ? (entries[0]?.[1].length ?? 0) : 1 });
    for (const [col, values] of entries) block.setColumn(col, values);
    return block;
  }

  /** @internal Adds a column parsed from a file (no copying, no checks). */
  _addParsed(name: string, column: Column): void {
    this.cols.set(name, column);
  }

  /** @internal Sets the row count of a parsed loop. */
  _setRowCount(n: number): void {
    this.count = n;
  }

  /** @internal Sets the file line of each row of a parsed loop. */
  _setRowLines(lines: Uint32Array): void {
    this.rowLines = lines;
  }

  /**
   * The line of the file (1-based) that row `row` (0-based) was read from; undefined for blocks
   * not read from a file and for key–value blocks.
   */
  lineOf(row: number): number | undefined {
    return this.rowLines?.[row];
  }

  /** Column names in file order. */
  get columns(): string[] {
    return [...this.cols.keys()];
  }

  get rowCount(): number {
    return this.count;
  }

  /** True when the block has this column. */
  has(name: string): boolean {
    return this.cols.has(name);
  }

  /**
   * The values of a column (numbers or strings), or undefined when absent. A text column read
   * from a file is kept compactly (src/io/star-text.ts): its strings are a new array each call.
   */
  column(name: string): StarValues | undefined {
    const c = this.cols.get(name);
    return c?.kind === 'text' ? c.values.toArray() : c?.values;
  }

  /**
   * A text column as read from a file, kept compactly (no string per row; `N@rest` cells as
   * numbers); undefined when absent, numeric, or set with {@link setColumn}.
   */
  textColumn(name: string): StarTextColumn | undefined {
    const c = this.cols.get(name);
    return c?.kind === 'text' ? c.values : undefined;
  }

  /** The values of a numeric column; undefined when absent or not numeric. */
  numeric(name: string): Float64Array | undefined {
    const c = this.cols.get(name);
    return c?.kind === 'number' ? c.values : undefined;
  }

  /** The values of a column as text (numeric columns as written in the file); undefined when absent. */
  strings(name: string): string[] | undefined {
    const c = this.cols.get(name);
    if (!c) return undefined;
    if (c.kind === 'string') return c.values;
    if (c.kind === 'text') return c.values.toArray();
    return Array.from({ length: this.count }, (_, i) => this.cell(c, i));
  }

  /**
   * Adds a column at the end, or replaces one in place (keeping its position). Numbers are
   * written as integers when integral, otherwise with 12 significant digits.
   */
  setColumn(name: string, values: ArrayLike<number> | readonly string[]): void {
    if (typeof name !== 'string' || name === '' || /\s/.test(name))
      throw new TypeError(`column name must be a non-empty string without spaces, got "${String(name)}"`);
    const column = toColumn(values);
    if (this.cols.size === 0 && this.loop) this.count = column.values.length;
    if (column.values.length !== this.count)
      throw new RangeError(
        `column ${name} has ${column.values.length} values, the block has ${this.count} rows`,
      );
    this.cols.set(name, column);
  }

  /** Removes a column; returns whether it existed. */
  deleteColumn(name: string): boolean {
    return this.cols.delete(name);
  }

  /** A new block with the rows at `indices` (0-based, any order, repeats allowed), all columns kept. */
  selectRows(indices: ArrayLike<number>): StarBlock {
    const idx = Uint32Array.from({ length: indices.length }, (_, k) =>
      checkInt(`indices[${k}]`, indices[k], 0, this.count - 1),
    );
    const out = new StarBlock(this.name, { loop: this.loop, rowCount: this.loop ? idx.length : 1 });
    if (this.version !== undefined) out.version = this.version;
    for (const [name, c] of this.cols) {
      if (c.kind === 'string') {
        out.cols.set(name, { kind: 'string', values: Array.from(idx, (i) => c.values[i]) });
        continue;
      }
      if (c.kind === 'text') {
        out.cols.set(name, { kind: 'text', values: c.values.select(idx) });
        continue;
      }
      const values = Float64Array.from(idx, (i) => c.values[i]);
      out.cols.set(
        name,
        c.raw ? { kind: 'number', values, raw: selectRaw(c.raw, c.values, idx) } : { kind: 'number', values },
      );
    }
    return out;
  }

  private cell(c: Column, row: number): string {
    if (c.kind === 'string') return formatStarString(c.values[row]);
    if (c.kind === 'text') return formatStarString(c.values.text(row));
    if (c.raw) return rawText(c.raw, c.values, row);
    return formatStarNumber(c.values[row]);
  }

  /** The block as STAR text (with its `# version` line and `data_` header). */
  format(): string {
    const lines: string[] = [];
    if (this.version !== undefined) lines.push(this.version, '');
    lines.push(`data_${this.name}`, '');
    const cols = [...this.cols.values()];
    const names = this.columns;
    if (!this.loop) {
      const width = Math.max(0, ...names.map((n) => n.length)) + 2;
      names.forEach((n, k) => lines.push(`_${n}`.padEnd(width) + this.cell(cols[k], 0)));
    } else {
      lines.push('loop_');
      names.forEach((n, k) => lines.push(`_${n} #${k + 1}`));
      for (let r = 0; r < this.count; r++) lines.push(cols.map((c) => this.cell(c, r)).join(' '));
    }
    lines.push('');
    return lines.join('\n') + '\n';
  }
}

/** The raw text of the rows `idx` of a numeric column. */
function selectRaw(raw: StarRawText, values: Float64Array, idx: Uint32Array): StarRawText {
  const digits = Uint8Array.from(idx, (i) => raw.digits[i]);
  const otherRows: number[] = [];
  const otherText: string[] = [];
  idx.forEach((i, r) => {
    if (digits[r] !== OTHER_TEXT) return;
    otherRows.push(r);
    otherText.push(rawText(raw, values, i));
  });
  return { digits, otherRows: Uint32Array.from(otherRows), otherText };
}
