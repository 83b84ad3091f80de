/**
 * The one declared native surface (src/native.ts) against the built addon, and the global SIMD
 * switch: every kernel with an AVX2 path gives the same results with it off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { align } from '../src/align/align.js';
import { ackPass } from '../src/cluster/ack.js';
import { distanceTable } from '../src/distances.js';
import { info, NATIVE_EXPORTS, native, setSimd, simdEnabled } from '../src/native.js';
import { randomArray } from './helpers/random.js';

describe('the native surface', () => {
  it('declares exactly what the built addon exports', () => {
    const addon = native() as unknown as Record<string, unknown>;
    expect(Object.keys(addon).sort()).toEqual(Object.keys(NATIVE_EXPORTS).sort());
    for (const name of Object.keys(addon)) expect(typeof addon[name], name).toBe('function');
  });

  it('takes one options object per call and names a missing field', () => {
    const addon = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const [name, arity] of Object.entries(NATIVE_EXPORTS)) {
      if (arity === 0) continue;
      expect(() => addon[name](), name).toThrow('the native call takes one options object');
      expect(() => addon[name](new Float32Array(4), 1, 2), name).toThrow(
        'the native call takes one options object',
      );
    }
    expect(() => native().distanceTable({} as never)).toThrow('options.images must be a Float32Array');
    expect(typeof native().info().fftw).toBe('string');
  });
});

describe('the SIMD switch', () => {
  const initially = simdEnabled();
  afterEach(() => {
    setSimd(initially);
  });

  it('turns the AVX2 paths off and says so in info()', () => {
    expect(setSimd(false)).toBe(false);
    expect(info().simd).toBe('sse2');
    expect(setSimd(true)).toBe(initially);
    expect(info().simd).toBe(initially ? 'avx2' : 'sse2');
    expect(() => setSimd('no' as never)).toThrow(TypeError);
  });

  it('gives bit-identical distances, ACK passes and alignments with the AVX2 paths on and off', async () => {
    const n = 60;
    const k = 7;
    const box = 24;
    const images = randomArray(n * box * box, 1);
    const refs = randomArray(k * box * box, 2);
    const order = Int32Array.from({ length: n }, (_, i) => (i * 17) % n);
    const run = async () => {
      const table = await distanceTable(images, refs, { dim: box * box, threads: 2 });
      const assignment = Int32Array.from({ length: n }, (_, i) => i % k);
      const sizes = new Int32Array(k);
      for (const a of assignment) sizes[a]++;
      const moves = await ackPass(table, k, assignment, sizes, 3.5, order);
      const aligned = await align(images.subarray(0, 10 * box * box), refs, {
        box,
        shiftRange: 1,
        threads: 2,
      });
      return { table, assignment, moves, aligned };
    };
    setSimd(true);
    const wide = await run();
    setSimd(false);
    const base = await run();
    expect(Buffer.from(base.table.buffer).equals(Buffer.from(wide.table.buffer))).toBe(true);
    expect(base.moves).toBe(wide.moves);
    expect(Array.from(base.assignment)).toEqual(Array.from(wide.assignment));
    for (const key of ['score', 'psi', 'shiftX', 'shiftY', 'mirror'] as const)
      expect(Array.from(base.aligned[key]), key).toEqual(Array.from(wide.aligned[key]));
  });
});
