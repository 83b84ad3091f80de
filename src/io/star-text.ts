/**
 * Text columns of a STAR file as read, kept compactly (memory, issue 13): each distinct text is
 * kept once and every row holds its index (a column of mostly different texts keeps one per row,
 * as a string array would, without looking each up); a cell `N@rest` (RELION's image names, `000123@a.mrcs`)
 * is kept as the number N, the number of digits it was written with, and the index of `rest`. A
 * column of 10⁶ image names thus costs ~9 bytes per row instead of a string per row, and the
 * particle reader gets stack and image numbers without parsing a string per row.
 */

/** At most this many digits make an `N@rest` prefix kept as a number (so N < 2³¹). */
const MAX_PREFIX_DIGITS = 9;

/**
 * Past this many distinct texts, when they are more than half the rows, a column is taken to be
 * mostly unique (free text, one name per row): new texts are then appended without looking them
 * up (a repeat costs a second copy, as before, but no hash lookup per row).
 */
const DISTINCT_LIMIT = 1 << 16;

/** bytes[from…to) as text (a Buffer view of the same memory is made once per array). */
const views = new WeakMap<Uint8Array, Buffer>();
export function decode(bytes: Uint8Array, from: number, to: number): string {
  let view = views.get(bytes);
  if (!view) {
    view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    views.set(bytes, view);
  }
  return view.toString('utf8', from, to);
}

/** A text column read from a file (see the file comment). Build one with {@link StarTextBuilder}. */
export class StarTextColumn {
  constructor(
    /** The texts (whole cells, or the `rest` of `N@rest` cells): distinct, unless most are. */
    readonly dict: readonly string[],
    /** Per row: its index in `dict`. */
    readonly ref: Int32Array,
    /** Per row: N of an `N@rest` cell, −1 for other cells; absent when no cell is `N@rest`. */
    readonly prefix?: Int32Array,
    /** Per row: the number of digits N was written with (leading zeros kept). */
    readonly width?: Uint8Array,
  ) {}

  get length(): number {
    return this.ref.length;
  }

  /** N of row `row` when the cell is `N@rest` (N: at most 9 digits), else −1. */
  imageNumber(row: number): number {
    return this.prefix ? this.prefix[row] : -1;
  }

  /** The text of row `row`, exactly as read. */
  text(row: number): string {
    const n = this.imageNumber(row);
    const rest = this.dict[this.ref[row]];
    return n < 0 ? rest : `${String(n).padStart(this.width![row], '0')}@${rest}`;
  }

  /** Every row's text (a new array). */
  toArray(): string[] {
    return Array.from({ length: this.length }, (_, r) => this.text(r));
  }

  /** The rows `idx` (valid 0-based rows, any order), sharing the distinct texts. */
  select(idx: Uint32Array): StarTextColumn {
    const pick = <T extends Int32Array | Uint8Array>(a: T | undefined): T | undefined => {
      if (!a) return undefined;
      const out = new (a.constructor as new (n: number) => T)(idx.length);
      for (let k = 0; k < idx.length; k++) out[k] = a[idx[k]];
      return out;
    };
    return new StarTextColumn(this.dict, pick(this.ref)!, pick(this.prefix), pick(this.width));
  }
}

/** Builds a {@link StarTextColumn} a cell at a time, from the file's bytes or from strings. */
export class StarTextBuilder {
  private dict: string[] = [];
  private index: Map<string, number> | undefined = new Map();
  private ref: Int32Array;
  private prefix?: Int32Array;
  private width?: Uint8Array;
  private length = 0;
  /** The bytes of the last `rest` looked up, and its index (consecutive rows often share it). */
  private last = new Uint8Array(64);
  private lastLength = -1;
  private lastRef = -1;

  constructor(capacity: number) {
    this.ref = new Int32Array(Math.max(16, capacity));
  }

  /** Appends the cell bytes[from…to) (UTF-8). */
  pushBytes(bytes: Uint8Array, from: number, to: number): void {
    let n = -1;
    let k = from;
    while (k < to && k - from <= MAX_PREFIX_DIGITS && bytes[k] >= 48 && bytes[k] <= 57) k++;
    let start = from;
    if (k > from && k - from <= MAX_PREFIX_DIGITS && bytes[k] === 64 /* @ */ && k + 1 < to) {
      n = 0;
      for (let i = from; i < k; i++) n = n * 10 + bytes[i] - 48;
      start = k + 1;
    }
    const len = to - start;
    let same = len === this.lastLength;
    for (let i = 0; same && i < len; i++) same = bytes[start + i] === this.last[i];
    if (!same) {
      this.lastRef = this.lookup(decode(bytes, start, to));
      if (len > this.last.length) this.last = new Uint8Array(len * 2);
      this.last.set(bytes.subarray(start, to));
      this.lastLength = len;
    }
    this.add(this.lastRef, n, k - from);
  }

  /** Appends a cell given as a string. */
  pushString(s: string): void {
    const at = s.indexOf('@');
    if (at > 0 && at <= MAX_PREFIX_DIGITS && at < s.length - 1 && /^\d+$/.test(s.slice(0, at)))
      this.add(this.lookup(s.slice(at + 1)), Number(s.slice(0, at)), at);
    else this.add(this.lookup(s), -1, 0);
    this.lastLength = -1;
  }

  /** The column (the builder is spent). */
  finish(): StarTextColumn {
    const fit = <T extends Int32Array | Uint8Array>(a: T | undefined): T | undefined =>
      a && ((a.length > this.length * 1.1 + 16 ? a.slice(0, this.length) : a.subarray(0, this.length)) as T);
    this.index = undefined;
    return new StarTextColumn(this.dict, fit(this.ref)!, fit(this.prefix), fit(this.width));
  }

  private lookup(text: string): number {
    let i = this.index?.get(text);
    if (i === undefined) {
      i = this.dict.length;
      this.dict.push(text);
      this.index?.set(text, i);
      if (i > DISTINCT_LIMIT && i * 2 > this.length) this.index = undefined;
    }
    return i;
  }

  private add(ref: number, n: number, width: number): void {
    if (this.length === this.ref.length) this.grow();
    if (n >= 0 && !this.prefix) {
      this.prefix = new Int32Array(this.ref.length).fill(-1);
      this.width = new Uint8Array(this.ref.length);
    }
    this.ref[this.length] = ref;
    if (this.prefix) {
      this.prefix[this.length] = n;
      this.width![this.length] = width;
    }
    this.length++;
  }

  private grow(): void {
    const size = Math.ceil(this.ref.length * 1.5);
    const grown = <T extends Int32Array | Uint8Array>(a: T, fill: number): T => {
      const out = new (a.constructor as new (n: number) => T)(size);
      out.set(a);
      if (fill !== 0) out.fill(fill, a.length);
      return out;
    };
    this.ref = grown(this.ref, 0);
    if (this.prefix) {
      this.prefix = grown(this.prefix, -1);
      this.width = grown(this.width!, 0);
    }
  }
}
