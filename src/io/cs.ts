/**
 * cryoSPARC `.cs` files: a numpy `.npy` file holding a one-dimensional structured array
 * (packed fields, no padding). Columns are decoded on demand. The newer compressed `CSDAT`
 * format is recognised and refused with `ERR_CS_UNSUPPORTED`. {@link encodeCs} / {@link writeCs}
 * write the same format (numpy `.npy` version 1.0, or 2.0 for very long headers), which
 * `numpy.load` and cryoSPARC read. Byte strings are UTF-8 (as cryoSPARC and pyem treat them).
 */
import { stat } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { FormatError, fileError } from './errors.js';
import { readFully } from './pixels.js';
import { parsePyLiteral, type PyValue } from './py-literal.js';
import { openForRead } from './stack.js';

/** One field of the record: its name, numpy dtype string (e.g. `<f4`, `|S63`) and sub-shape. */
export interface CsField {
  name: string;
  dtype: string;
  /** Sub-array shape ([] for a scalar; [2] for `blob/shape`…). */
  shape: number[];
  /** Byte offset inside a record. */
  offset: number;
}

/** Values of a column: numbers (all elements, row-major), 64-bit integers, or strings. */
export type CsColumn = Float64Array | BigInt64Array | BigUint64Array | string[];

/** A parsed `.cs` file. */
export interface CsFile {
  path: string;
  /** Number of records (particles). */
  n: number;
  fields: CsField[];
  /**
   * A column, or undefined if absent. Numeric fields → Float64Array (n·∏shape values,
   * row-major), 64-bit integers (`uid`) → BigInt64Array/BigUint64Array, byte strings → strings
   * (trailing NULs removed), booleans → 0/1.
   */
  column(name: string): CsColumn | undefined;
  /** A numeric column as Float64Array, or undefined if absent or not numeric. */
  numeric(name: string): Float64Array | undefined;
  /** A byte-string column, or undefined if absent or not a string field. */
  strings(name: string): string[] | undefined;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const CSDAT_MAGIC = [0x94, 0x43, 0x53, 0x44, 0x41, 0x54]; // \x94CSDAT

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, k) => bytes[k] === b);
}

/** Size in bytes of one element of a numpy dtype string such as `<f4` or `|S63`. */
function dtypeBytes(dtype: string, file: string): number {
  const m = /^([<>|=])([fiubSVa?])(\d*)$/.exec(dtype);
  if (!m) throw new FormatError('ERR_CS_FORMAT', file, `unsupported field type ${dtype}`);
  if (m[2] === '?') return 1;
  const size = Number(m[3]);
  const ok =
    m[2] === 'S' || m[2] === 'V' || m[2] === 'a'
      ? size > 0
      : m[2] === 'f'
        ? [4, 8].includes(size)
        : [1, 2, 4, 8].includes(size);
  if (!ok) throw new FormatError('ERR_CS_FORMAT', file, `unsupported field type ${dtype}`);
  return size;
}

function parseFields(descr: PyValue, file: string): { fields: CsField[]; itemsize: number } {
  const bad = (): never => {
    throw new FormatError('ERR_CS_FORMAT', file, 'the array is not a structured array of simple fields');
  };
  if (!Array.isArray(descr)) return bad();
  const fields: CsField[] = [];
  let offset = 0;
  for (const entry of descr) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') return bad();
    const shapeValue = entry[2] ?? [];
    if (!Array.isArray(shapeValue) || !shapeValue.every((d) => Number.isInteger(d) && (d as number) >= 0))
      return bad();
    const shape = shapeValue as number[];
    const size = dtypeBytes(entry[1], file) * shape.reduce((a, b) => a * b, 1);
    if (entry[0] !== '' && !entry[1].includes('V'))
      fields.push({ name: entry[0], dtype: entry[1], shape, offset });
    offset += size;
  }
  return { fields, itemsize: offset };
}

/** The parts of a dtype string the codec needs: kind letter, element size, little-endian. */
function dtypeParts(dtype: string): { kind: string; size: number; le: boolean } {
  const [, order, kind, sizeText] = /^([<>|=])(.)(\d*)$/.exec(dtype)!;
  return { kind, size: kind === '?' ? 1 : Number(sizeText), le: order !== '>' };
}

function decodeColumn(bytes: Uint8Array, base: number, n: number, itemsize: number, f: CsField): CsColumn {
  const per = f.shape.reduce((a, b) => a * b, 1);
  const { kind, size, le } = dtypeParts(f.dtype);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'S' || kind === 'a') {
    const out = new Array<string>(n * per);
    for (let r = 0; r < n; r++)
      for (let e = 0; e < per; e++) {
        const start = base + r * itemsize + f.offset + e * size;
        let end = start + size;
        while (end > start && bytes[end - 1] === 0) end--;
        out[r * per + e] = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
      }
    return out;
  }
  if (size === 8 && (kind === 'i' || kind === 'u')) {
    const out = kind === 'i' ? new BigInt64Array(n * per) : new BigUint64Array(n * per);
    for (let r = 0; r < n; r++)
      for (let e = 0; e < per; e++) {
        const o = base + r * itemsize + f.offset + e * 8;
        out[r * per + e] = kind === 'i' ? dv.getBigInt64(o, le) : dv.getBigUint64(o, le);
      }
    return out;
  }
  const read: (o: number) => number =
    kind === 'f'
      ? size === 4
        ? (o) => dv.getFloat32(o, le)
        : (o) => dv.getFloat64(o, le)
      : kind === 'i'
        ? size === 1
          ? (o) => dv.getInt8(o)
          : size === 2
            ? (o) => dv.getInt16(o, le)
            : (o) => dv.getInt32(o, le)
        : size === 1
          ? (o) => dv.getUint8(o)
          : size === 2
            ? (o) => dv.getUint16(o, le)
            : (o) => dv.getUint32(o, le);
  const out = new Float64Array(n * per);
  for (let r = 0; r < n; r++)
    for (let e = 0; e < per; e++) out[r * per + e] = read(base + r * itemsize + f.offset + e * size);
  return out;
}

/** Reads a whole file into memory with positioned reads (no 2 GiB limit). */
async function readAll(path: string): Promise<Uint8Array> {
  const handle = await openForRead(path);
  try {
    const size = (await stat(path)).size;
    const bytes = new Uint8Array(size);
    await readFully(handle, path, bytes, 0);
    return bytes;
  } catch (err) {
    throw fileError(path, err);
  } finally {
    await handle.close();
  }
}

/** Parses the bytes of a `.cs` / `.npy` structured-array file; `path` is for messages. */
export function parseCs(bytes: Uint8Array, path: string): CsFile {
  if (startsWith(bytes, CSDAT_MAGIC))
    throw new FormatError(
      'ERR_CS_UNSUPPORTED',
      path,
      'the compressed CSDAT .cs format is not supported yet; export the dataset from cryoSPARC in the classic .cs (numpy) format',
    );
  if (bytes.byteLength < 10 || !startsWith(bytes, NPY_MAGIC))
    throw new FormatError('ERR_CS_FORMAT', path, 'not a cryoSPARC .cs file (no \\x93NUMPY magic)');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (major < 1 || major > 3 || start + headerLen > bytes.byteLength)
    throw new FormatError('ERR_CS_FORMAT', path, `bad .npy header (version ${major}, ${headerLen} bytes)`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLen).toString(
    major === 3 ? 'utf8' : 'latin1',
  );
  let header: PyValue;
  try {
    header = parsePyLiteral(text.trim());
  } catch (err) {
    throw new FormatError('ERR_CS_FORMAT', path, `unreadable .npy header: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new FormatError('ERR_CS_FORMAT', path, 'the .npy header is not a dictionary');
  const shape = header.shape;
  if (!Array.isArray(shape) || shape.length !== 1 || typeof shape[0] !== 'number')
    throw new FormatError(
      'ERR_CS_FORMAT',
      path,
      `expected a one-dimensional array, shape is ${JSON.stringify(shape)}`,
    );
  const n = shape[0];
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new FormatError(
      'ERR_CS_FORMAT',
      path,
      `the .npy header gives ${n} records: not a count (a whole number ≥ 0)`,
    );
  const { fields, itemsize } = parseFields(header.descr, path);
  const base = start + headerLen;
  if (itemsize === 0 && fields.length > 0)
    throw new FormatError('ERR_CS_FORMAT', path, 'the record has fields but no bytes');
  if (base + n * itemsize > bytes.byteLength)
    throw new FormatError(
      'ERR_CS_FORMAT',
      path,
      `file is truncated: ${n} records of ${itemsize} bytes need ${base + n * itemsize} bytes, the file has ${bytes.byteLength}`,
    );
  const cache = new Map<string, CsColumn>();
  const column = (name: string): CsColumn | undefined => {
    const f = fields.find((x) => x.name === name);
    if (!f) return undefined;
    let c = cache.get(name);
    if (!c) cache.set(name, (c = decodeColumn(bytes, base, n, itemsize, f)));
    return c;
  };
  return {
    path,
    n,
    fields,
    column,
    numeric: (name) => {
      const c = column(name);
      return c instanceof Float64Array ? c : undefined;
    },
    strings: (name) => {
      const c = column(name);
      return Array.isArray(c) ? c : undefined;
    },
  };
}

/** Reads a cryoSPARC `.cs` file (see {@link CsFile}). */
export async function readCs(path: string): Promise<CsFile> {
  return parseCs(await readAll(path), path);
}

/** One field to write: its name, numpy dtype (`<u8`, `<f4`, `<u4`, `|S0` …), sub-shape and values. */
export interface CsWriteField {
  name: string;
  /**
   * numpy dtype string, as {@link CsField.dtype}. For byte strings `|S0` (or any size) is sized to
   * the longest value (at least 1 byte); a longer given size is kept.
   */
  dtype: string;
  /** Sub-array shape ([] or omitted for a scalar; [2] for `blob/shape`, `alignments2D/shift`). */
  shape?: number[];
  /**
   * n·∏shape values, row-major: numbers (any numeric field), bigints (64-bit integer fields also
   * take numbers) or strings (byte-string fields).
   */
  values: ArrayLike<number> | ArrayLike<bigint> | readonly string[];
}

/** A field read from `cs` as a field to write, rows `rows` (all when omitted), dtype and shape kept. */
export function csFieldOf(cs: CsFile, field: CsField, rows?: ArrayLike<number>): CsWriteField {
  const values = cs.column(field.name)!;
  if (!rows) return { name: field.name, dtype: field.dtype, shape: field.shape, values };
  const per = field.shape.reduce((a, b) => a * b, 1);
  const pick = <T, A extends { [i: number]: T }>(src: ArrayLike<T>, out: A): A => {
    for (let r = 0; r < rows.length; r++)
      for (let e = 0; e < per; e++) out[r * per + e] = src[rows[r] * per + e];
    return out;
  };
  const m = rows.length * per;
  const picked: CsWriteField['values'] =
    values instanceof Float64Array
      ? pick(values, new Float64Array(m))
      : values instanceof BigInt64Array
        ? pick(values, new BigInt64Array(m))
        : values instanceof BigUint64Array
          ? pick(values, new BigUint64Array(m))
          : (pick(values, new Array<string>(m)) as string[]);
  return { name: field.name, dtype: field.dtype, shape: field.shape, values: picked };
}

const pyString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The bytes of a `.cs` file (a numpy structured array of `n` records) holding `fields` in order,
 * packed. Throws a RangeError for a field whose values do not fit (wrong count, unsupported dtype).
 */
export function encodeCs(n: number, fields: readonly CsWriteField[]): Uint8Array {
  const encodedStrings = new Map<string, Buffer[]>();
  const layout = fields.map((f) => {
    const shape = f.shape ?? [];
    const per = shape.reduce((a, b) => a * b, 1);
    if (f.values.length !== n * per)
      throw new RangeError(`field ${f.name}: ${f.values.length} values for ${n} records of ${per}`);
    let dtype = f.dtype;
    const m = /^([<>|=])([SaU]?)(\d*)$/.exec(dtype);
    if (m && m[2] && m[2] !== 'U') {
      const buffers = Array.from(f.values as readonly string[], (v) => Buffer.from(String(v), 'utf8'));
      encodedStrings.set(f.name, buffers);
      const longest = buffers.reduce((a, b) => Math.max(a, b.byteLength), 1);
      dtype = `|S${Math.max(longest, Number(m[3]) || 0)}`;
    }
    if (!/^[<>|=][fiub?SVa]\d*$/.test(dtype) || dtype.includes('V'))
      throw new RangeError(`field ${f.name}: unsupported numpy type ${dtype}`);
    let size: number;
    try {
      size = dtypeBytes(dtype, f.name);
    } catch {
      throw new RangeError(`field ${f.name}: unsupported numpy type ${dtype}`);
    }
    return { f, shape, per, dtype, size, bytes: size * per };
  });
  const itemsize = layout.reduce((a, l) => a + l.bytes, 0);
  const descr = layout
    .map(
      (l) =>
        `(${pyString(l.f.name)}, ${pyString(l.dtype)}${l.shape.length ? `, (${l.shape.join(', ')}${l.shape.length === 1 ? ',' : ''})` : ''})`,
    )
    .join(', ');
  let header = `{'descr': [${descr}], 'fortran_order': False, 'shape': (${n},), }`;
  const headerBytes = Buffer.byteLength(header, 'latin1');
  const major = headerBytes + 1 + 10 > 0xffff ? 2 : 1;
  const preamble = major === 1 ? 10 : 12;
  const total = Math.ceil((preamble + headerBytes + 1) / 64) * 64;
  header = header.padEnd(total - preamble - 1, ' ') + '\n';
  const out = new Uint8Array(total + n * itemsize);
  const dv = new DataView(out.buffer);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) dv.setUint16(8, total - preamble, true);
  else dv.setUint32(8, total - preamble, true);
  out.set(Buffer.from(header, 'latin1'), preamble);
  let offset = 0;
  for (const l of layout) {
    const { kind, size, le } = dtypeParts(l.dtype);
    const strings = encodedStrings.get(l.f.name);
    const write: (o: number, v: unknown) => void = strings
      ? () => undefined
      : kind === 'f'
        ? size === 4
          ? (o, v) => dv.setFloat32(o, Number(v), le)
          : (o, v) => dv.setFloat64(o, Number(v), le)
        : size === 8
          ? kind === 'i'
            ? (o, v) => dv.setBigInt64(o, typeof v === 'bigint' ? v : BigInt(Math.round(Number(v))), le)
            : (o, v) => dv.setBigUint64(o, typeof v === 'bigint' ? v : BigInt(Math.round(Number(v))), le)
          : size === 1
            ? (o, v) => dv.setUint8(o, Number(v) & 0xff)
            : size === 2
              ? (o, v) => (kind === 'i' ? dv.setInt16(o, Number(v), le) : dv.setUint16(o, Number(v), le))
              : (o, v) => (kind === 'i' ? dv.setInt32(o, Number(v), le) : dv.setUint32(o, Number(v), le));
    for (let r = 0; r < n; r++)
      for (let e = 0; e < l.per; e++) {
        const o = total + r * itemsize + offset + e * size;
        if (strings) out.set(strings[r * l.per + e], o);
        else write(o, (l.f.values as ArrayLike<unknown>)[r * l.per + e]);
      }
    offset += l.bytes;
  }
  return out;
}

/** Writes `fields` of `n` records as a `.cs` file at `path`, atomically (see {@link encodeCs}). */
export async function writeCs(path: string, n: number, fields: readonly CsWriteField[]): Promise<void> {
  await writeFileAtomic(path, encodeCs(n, fields));
}
