/**
 * Exact class sums (src/pipeline/class-sums.ts), what lets the Slurm executor sum ranges of the
 * images on the nodes: every value rounded to the quantum and added exactly, so any split of
 * the images gives the same bits; checked against a BigInt reference.
 */
import { describe, expect, it } from 'vitest';
import { classAverages } from '../../src/align/average.js';
import { applyAlignment } from '../../src/align/apply.js';
import {
  type ClassSums,
  addClassSums,
  classAveragesFromSums,
  classSums,
  emptyClassSums,
  maxAbsValue,
  sumQuantum,
  updateClassSums,
} from '../../src/pipeline/class-sums.js';
import { Rng } from '../../src/random.js';
import { randomArray } from '../helpers/random.js';

const box = 16;
const dim = box * box;
const n = 90;
const k = 5;
// a wide range of magnitudes, so plain double sums would depend on the order
const images = randomArray(n * dim, 11).map((v, i) => v * 10 ** ((i % 13) - 6));
const rng = new Rng(2);
const assignment = Int32Array.from({ length: n }, (_, i) => (i % 13 === 5 ? -1 : rng.int(k)));
const poses = {
  psi: Float32Array.from({ length: n }, () => 360 * rng.next()),
  shiftX: Float32Array.from({ length: n }, () => 4 * rng.next() - 2),
  shiftY: Float32Array.from({ length: n }, () => 4 * rng.next() - 2),
  mirror: Uint8Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0)),
};

/** x rounded to the nearest integer, ties to even (the native rounding mode), as a BigInt. */
function roundEven(x: number): bigint {
  const f = Math.floor(x);
  const d = x - f;
  const r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  return BigInt(r);
}

/** The sums in units of the quantum, computed one value at a time with BigInts. */
function referenceSums(quantum: number): {
  even: bigint[];
  odd: bigint[];
  members: number[];
  evenMembers: number[];
} {
  const even = new Array<bigint>(k * dim).fill(0n);
  const odd = new Array<bigint>(k * dim).fill(0n);
  const members = new Array<number>(k).fill(0);
  const evenMembers = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const j = assignment[i];
    if (j < 0) continue;
    const aligned = applyAlignment(images.subarray(i * dim, (i + 1) * dim), box, {
      psi: poses.psi[i],
      shiftX: poses.shiftX[i],
      shiftY: poses.shiftY[i],
      mirror: poses.mirror[i] === 1,
    });
    // image i's half is i's parity, whatever the other images
    const sum = i % 2 === 0 ? even : odd;
    for (let p = 0; p < dim; p++) sum[j * dim + p] += roundEven(aligned[p] / quantum);
    members[j]++;
    if (i % 2 === 0) evenMembers[j]++;
  }
  return { even, odd, members, evenMembers };
}

const part = (a: number, b: number) => ({
  psi: poses.psi.subarray(a, b),
  shiftX: poses.shiftX.subarray(a, b),
  shiftY: poses.shiftY.subarray(a, b),
  mirror: poses.mirror.subarray(a, b),
});

describe('exact class sums', () => {
  it('equal the integer sums of the rounded values, exactly', async () => {
    const quantum = sumQuantum(n, await maxAbsValue(images, box));
    const sums = await classSums(images, box, assignment, k, poses, { quantum, threads: 2 });
    const ref = referenceSums(quantum);
    expect(Array.from(sums.members)).toEqual(ref.members);
    expect(Array.from(sums.evenMembers)).toEqual(ref.evenMembers);
    for (let p = 0; p < k * dim; p++) {
      expect(Number.isInteger(sums.evenSum[p] / quantum)).toBe(true);
      expect(BigInt(sums.evenSum[p] / quantum)).toBe(ref.even[p]);
      expect(BigInt(sums.oddSum[p] / quantum)).toBe(ref.odd[p]);
    }
  });

  it('do not depend on how the images are split (the bits of the averages neither)', async () => {
    const quantum = sumQuantum(n, await maxAbsValue(images, box));
    const whole = await classSums(images, box, assignment, k, poses, { quantum, threads: 1 });
    for (const cuts of [
      [0, 1, 2, 47, 90],
      [0, 30, 60, 90],
      [0, 89, 90],
    ]) {
      const total: ClassSums = emptyClassSums(k, box);
      // added in reverse, to show the order does not matter either
      for (let c = cuts.length - 2; c >= 0; c--) {
        const [a, b] = [cuts[c], cuts[c + 1]];
        const piece = await classSums(
          images.subarray(a * dim, b * dim),
          box,
          assignment.subarray(a, b),
          k,
          part(a, b),
          { quantum, first: a, threads: 2 },
        );
        addClassSums(total, piece);
      }
      expect(total.evenSum).toEqual(whole.evenSum);
      expect(total.oddSum).toEqual(whole.oddSum);
      expect(total.members).toEqual(whole.members);
      expect(total.evenMembers).toEqual(whole.evenMembers);
      const a = await classAveragesFromSums(total, k, box);
      const b = await classAveragesFromSums(whole, k, box);
      expect(a.averages).toEqual(b.averages);
      expect(a.frc).toEqual(b.frc);
    }
  });

  it('updated by the images whose class or pose changed hold the bits of sums made afresh', async () => {
    const quantum = sumQuantum(n, await maxAbsValue(images, box));
    const sums = await classSums(images, box, assignment, k, poses, { quantum, threads: 2 });
    // new classes and poses for every 3rd image (and one image leaving its class)
    const changed = Int32Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === 1);
    const moved = assignment.slice();
    const after = {
      psi: poses.psi.slice(),
      shiftX: poses.shiftX.slice(),
      shiftY: poses.shiftY.slice(),
      mirror: poses.mirror.slice(),
    };
    for (const i of changed) {
      moved[i] = i === 4 ? -1 : (assignment[i] + 1 + (i % 2)) % k;
      after.psi[i] += 7.5;
      after.shiftX[i] = -after.shiftX[i];
      after.mirror[i] ^= 1;
    }
    const gather = (p: typeof poses) => ({
      psi: Float32Array.from(changed, (i) => p.psi[i]),
      shiftX: Float32Array.from(changed, (i) => p.shiftX[i]),
      shiftY: Float32Array.from(changed, (i) => p.shiftY[i]),
      mirror: Uint8Array.from(changed, (i) => p.mirror[i]),
    });
    const subset = new Float32Array(changed.length * dim);
    changed.forEach((i, r) => subset.set(images.subarray(i * dim, (i + 1) * dim), r * dim));
    const opts = { quantum, indices: changed, threads: 2 };
    await updateClassSums(
      sums,
      subset,
      box,
      Int32Array.from(changed, (i) => assignment[i]),
      k,
      gather(poses),
      {
        ...opts,
        sign: -1,
      },
    );
    await updateClassSums(
      sums,
      subset,
      box,
      Int32Array.from(changed, (i) => moved[i]),
      k,
      gather(after),
      opts,
    );
    const fresh = await classSums(images, box, moved, k, after, { quantum, threads: 1 });
    expect(sums.evenSum).toEqual(fresh.evenSum);
    expect(sums.oddSum).toEqual(fresh.oddSum);
    expect(sums.members).toEqual(fresh.members);
    expect(sums.evenMembers).toEqual(fresh.evenMembers);
    // taking every image out leaves nothing
    await updateClassSums(sums, images, box, moved, k, after, { quantum, sign: -1 });
    expect(sums.evenSum.every((v) => v === 0) && sums.oddSum.every((v) => v === 0)).toBe(true);
    expect(
      Array.from(sums.members)
        .concat(Array.from(sums.evenMembers))
        .every((v) => v === 0),
    ).toBe(true);
  });

  it('refuse bad update options: indices of the wrong length, a zero quantum', async () => {
    const sums = emptyClassSums(k, box);
    await expect(
      updateClassSums(sums, images, box, assignment, k, poses, { quantum: 1, indices: new Int32Array(3) }),
    ).rejects.toThrow(/indices/);
    await expect(updateClassSums(sums, images, box, assignment, k, poses, { quantum: 0 })).rejects.toThrow(
      /quantum/,
    );
  });

  it('with too fine a quantum (sums no longer exact) a split changes bits: the check above can fail', async () => {
    const quantum = 2 ** -300;
    const whole = await classSums(images, box, assignment, k, poses, { quantum });
    const total = await classSums(
      images.subarray(0, 40 * dim),
      box,
      assignment.subarray(0, 40),
      k,
      part(0, 40),
      {
        quantum,
      },
    );
    addClassSums(
      total,
      await classSums(images.subarray(40 * dim), box, assignment.subarray(40), k, part(40, n), {
        quantum,
        first: 40,
      }),
    );
    expect(total.members).toEqual(whole.members);
    expect(total.evenSum).not.toEqual(whole.evenSum);
  });

  it('give the plain averages up to the rounding (≤ quantum/2 per value)', async () => {
    const maxAbs = await maxAbsValue(images, box);
    const quantum = sumQuantum(n, maxAbs);
    const exact = await classAveragesFromSums(
      await classSums(images, box, assignment, k, poses, { quantum }),
      k,
      box,
    );
    const plain = await classAverages(images, box, assignment, k, poses);
    expect(exact.sizes).toEqual(plain.sizes);
    let worst = 0;
    for (let p = 0; p < k * dim; p++)
      worst = Math.max(
        worst,
        Math.abs(exact.averages[p] - plain.averages[p]) - 1e-7 * Math.abs(plain.averages[p]),
      );
    expect(worst).toBeLessThanOrEqual(quantum / 2);
  });

  it('take the largest |value| of the stack: NaNs skipped, over blocks, or a provider’s own', async () => {
    const box = 8;
    const values = Float32Array.from({ length: 37 * box * box }, (_, i) => Math.sin(i) * (i % 7));
    values[5] = NaN;
    values[1000] = -9.25;
    let want = 0;
    for (const v of values) if (Math.abs(v) > want) want = Math.abs(v);
    expect(want).toBe(9.25);
    expect(await maxAbsValue(values, box)).toBe(want);
    const dim = box * box;
    const read = async (s: number, c: number) => values.slice(s * dim, (s + c) * dim);
    expect(await maxAbsValue({ n: 37, read }, box)).toBe(want);
    expect(await maxAbsValue({ n: 37, read, maxAbs: 3 }, box)).toBe(3); // not read
  });

  it('choose a quantum that keeps every sum of n values exact', () => {
    for (const [count, maxAbs] of [
      [1, 1],
      [90, 31.7],
      [1_000_000, 12.5],
      [3, 1e-30],
    ]) {
      const q = sumQuantum(count, maxAbs);
      expect(Number.isInteger(Math.log2(q))).toBe(true); // a power of two
      // every value ≤ 2^51·q (the native rounding's range), any sum of `count` values rounded
      // to q ≤ 2^53·q (exact), and q no coarser than needed by more than a factor 2
      expect(maxAbs).toBeLessThanOrEqual(2 ** 51 * q);
      expect(count * (maxAbs + q / 2)).toBeLessThanOrEqual(2 ** 53 * q);
      expect(count * maxAbs).toBeGreaterThan(2 ** 50 * q);
    }
    expect(sumQuantum(10, 0)).toBe(1);
  });
});
