import { describe, expect, it } from 'vitest';
import { decodeFloat16, encodeFloat16, encodeFloat16Bits } from '../../src/io/float16.js';
import { Rng } from '../../src/random.js';

/** Slow reference: the value of a binary16 bit pattern straight from the definition. */
function halfValue(h: number): number {
  const s = h >> 15 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

describe('float16', () => {
  it('decodes every bit pattern as the definition says', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const out = new Float32Array(65536);
    decodeFloat16(all, out);
    const wrong = [];
    for (let h = 0; h < 65536; h++) {
      const ref = Math.fround(halfValue(h));
      if (!Object.is(out[h], ref) && !(Number.isNaN(out[h]) && Number.isNaN(ref))) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('encode ∘ decode is the identity on every non-NaN pattern', () => {
    const wrong = [];
    for (let h = 0; h < 65536; h++) {
      const v = halfValue(h);
      const ok = Number.isNaN(v) ? Number.isNaN(halfValue(encodeFloat16Bits(v))) : encodeFloat16Bits(v) === h;
      if (!ok) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds to the nearest half (ties to even), as a brute-force search does', () => {
    const finite = Array.from({ length: 0x7c00 }, (_, h) => halfValue(h)); // positive finite halves, ascending
    const rng = new Rng(7);
    const values = Float32Array.from({ length: 3000 }, (_, k) => {
      const mag = 2 ** rng.uniform(-26, 10);
      return (k % 2 ? -1 : 1) * (k % 10 === 0 ? finite[rng.int(0x7bff)] + 2 ** -25 : mag);
    });
    const bits = encodeFloat16(values);
    const wrong: number[] = [];
    values.forEach((v, k) => {
      const a = Math.abs(v);
      let best = 0;
      for (let h = 1; h < finite.length; h++) {
        const d = Math.abs(finite[h] - a) - Math.abs(finite[best] - a);
        if (d < 0 || (d === 0 && h % 2 === 0)) best = h;
      }
      const expected = a > 65520 ? 0x7c00 : best;
      if ((bits[k] & 0x7fff) !== expected) wrong.push(k);
    });
    expect(wrong).toEqual([]);
  });
});
