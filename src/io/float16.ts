/**
 * IEEE 754 binary16 (MRC mode 12) ↔ float32, since Node 20 has no Float16Array.
 * Decoding uses a 65,536-entry table; encoding rounds to nearest, ties to even.
 */

let table: Float32Array | undefined;

function decodeOne(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The float32 value of every half-precision bit pattern. */
function decodeTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = decodeOne(h);
  }
  return table;
}

/**
 * Decodes `src` (binary16 bit patterns) into `out` starting at `outOffset`. Normal values are
 * rebuilt bit by bit (sign, exponent rebiased by 127 − 15 = 112, mantissa shifted by 13), which
 * is several times faster than a table lookup per value; zeros, subnormals, infinities and NaN
 * come from the table.
 */
export function decodeFloat16(src: Uint16Array, out: Float32Array, outOffset = 0): void {
  const t = decodeTable();
  const bits = new Uint32Array(out.buffer, out.byteOffset + 4 * outOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const e = h & 0x7c00;
    if (e !== 0 && e !== 0x7c00) bits[i] = ((h & 0x8000) << 16) | (((h & 0x7fff) + 0x1c000) << 13);
    else out[outOffset + i] = t[h];
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern nearest to `value` (round to nearest even; overflow → ±Infinity). */
export function encodeFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rem > half || (rem === half && r & 1)) r += 1;
    return sign | r;
  }
  const rem = mant & 0x1fff;
  let r = (e << 10) | (mant >>> 13);
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r += 1; // may carry into the exponent: correct
  return sign | r;
}

/** Encodes `src` to binary16 bit patterns. */
export function encodeFloat16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = encodeFloat16Bits(src[i]);
  return out;
}
