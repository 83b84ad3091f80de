import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyCandidateTable } from '../../src/align/candidates.js';
import { ackPass } from '../../src/cluster/ack.js';
import {
  type ScaleOptions,
  type ScaleRecord,
  type ScaleState,
  ackPassSparse,
  batchSchedule,
  SUM_POSE_TOLERANCE,
  keptDoublings,
  nearestClasses,
  neighbourCandidates,
  pickBatch,
  runScale,
  spectraPlacement,
  subsetProvider,
  summedPoses,
} from '../../src/pipeline/scale.js';
import { Rng } from '../../src/random.js';
import { randomArray } from '../helpers/random.js';
import { addNoise, randomBlobs, renderTransformed, stack } from '../align/synthetic.js';

describe('the sparse ACK pass', () => {
  it('equals the dense pass on the table with +inf outside each image’s candidates', async () => {
    const n = 300;
    const k = 9;
    const m = 4;
    const rng = new Rng(5);
    const dense = randomArray(n * k, 7).map((v) => v + 2);
    const assignment = Int32Array.from({ length: n }, () => rng.int(k));
    const sparse = emptyCandidateTable(n, m);
    for (let i = 0; i < n; i++) {
      const cols = new Set([assignment[i]]);
      while (cols.size < m - (i % 2)) cols.add(rng.int(k)); // odd rows keep one empty column
      let c = 0;
      for (const h of cols) {
        sparse.classes[i * m + c] = h;
        sparse.score[i * m + c] = dense[i * k + h];
        c++;
      }
      for (let h = 0; h < k; h++) if (!cols.has(h)) dense[i * k + h] = Infinity;
    }
    const sizes = new Int32Array(k);
    for (const a of assignment) sizes[a]++;
    const order = new Rng(9).permutation(n);
    const a1 = assignment.slice();
    const s1 = sizes.slice();
    const a2 = assignment.slice();
    const s2 = sizes.slice();
    const moves1 = await ackPass(dense, k, a1, s1, 0.01, order);
    const moves2 = await ackPassSparse(sparse, k, a2, s2, 0.01, order);
    expect(moves2).toBe(moves1);
    expect(moves1).toBeGreaterThan(0);
    expect(a2).toEqual(a1);
    expect(s2).toEqual(s1);
  });
});

describe('mini-batches', () => {
  it('grow from 100·k while under n/2, and are sorted runs of consecutive images', () => {
    expect(batchSchedule(1_000_000, 200)).toEqual([20_000, 40_000, 80_000, 160_000, 320_000]);
    expect(batchSchedule(1000, 10)).toEqual([]);
    const b = pickBatch(new Rng(3), 1000, 200);
    expect(b.length).toBeGreaterThanOrEqual(200);
    expect(Array.from(b)).toEqual(Array.from(b).sort((x, y) => x - y));
    expect(new Set(b).size).toBe(b.length);
  });

  it('read through a subset provider gives exactly the chosen images', async () => {
    const box = 8;
    const images = randomArray(50 * box * box, 2);
    const items = Int32Array.from([0, 1, 2, 7, 9, 10, 49]);
    const got = await subsetProvider(images, box, items).read(1, 5);
    const want = stack(Array.from(items.subarray(1, 6), (i) => images.slice(i * 64, (i + 1) * 64)));
    expect(got).toEqual(want);
    // over a provider that reads into a caller's buffer: the runs land straight in `out`
    const into = {
      n: 50,
      read: async (s: number, c: number) => images.slice(s * 64, (s + c) * 64),
      readInto: async (s: number, c: number, out: Float32Array) => {
        out.set(images.subarray(s * 64, (s + c) * 64));
        return out.subarray(0, c * 64);
      },
    };
    const out = new Float32Array(7 * 64).fill(-1);
    const view = await subsetProvider(into, box, items).readInto?.(1, 5, out);
    expect(view).toEqual(want);
    expect(view?.buffer).toBe(out.buffer);
    expect(out.subarray(5 * 64).every((v) => v === -1)).toBe(true);
    await expect(subsetProvider(into, box, items).readInto?.(1, 5, new Float32Array(64))).rejects.toThrow(
      RangeError,
    );
  });
});

describe('keptDoublings', () => {
  const r = (kept: boolean, keptMissed?: number): ScaleRecord =>
    ({
      stage: 'full',
      ...(kept ? { kept } : {}),
      ...(keptMissed === undefined ? {} : { keptMissed }),
    }) as ScaleRecord;
  it('counts the latest re-rankings in a row that found at most 0.1·σ0 held back per kept pass', () => {
    const ranked = r(false);
    // no re-ranking yet
    expect(keptDoublings([ranked, r(true), r(true)], 0.01)).toBe(0);
    // 0.3 % over 3 kept passes: 0.1 % per pass, at the limit
    expect(keptDoublings([ranked, r(true), r(true), r(true), r(false, 0.003)], 0.01)).toBe(1);
    expect(keptDoublings([ranked, r(true), r(true), r(true), r(false, 0.0031)], 0.01)).toBe(0);
    // kept passes after the last ranking do not matter; two good re-rankings in a row
    const two = [ranked, r(true), r(false, 0.001), r(true), r(true), r(false, 0.002), r(true)];
    expect(keptDoublings(two, 0.01)).toBe(2);
    // a bad re-ranking before the good ones ends the count; a ranking without kept passes too
    expect(keptDoublings([ranked, r(true), r(false, 0.5), ...two.slice(1)], 0.01)).toBe(2);
    expect(keptDoublings([ranked, r(true), r(false, 0.001), r(false), r(true), r(false, 0)], 0.01)).toBe(1);
    // the latest re-ranking bad: none
    expect(keptDoublings([...two, r(false, 0.01)], 0.01)).toBe(0);
    // at most 3
    const many = Array.from({ length: 6 }, () => [r(true), r(false, 0)]).flat();
    expect(keptDoublings([ranked, ...many], 0.01)).toBe(3);
    // σ0 = 0: only a re-ranking that found nothing held back counts
    expect(keptDoublings([ranked, r(true), r(false, 0)], 0)).toBe(1);
    expect(keptDoublings([ranked, r(true), r(false, 1e-9)], 0)).toBe(0);
  });
});

describe('re-ranking among neighbours', () => {
  it('the nearest classes: turned or mirrored copies of a class first, never the class itself', async () => {
    // classes 0..2 distinct blobs; 3, 4, 5 are 0, 1, 2 turned by 90° (4 also mirrored)
    const box = 32;
    const blobs = [0, 1, 2].map((q) => randomBlobs(4, 7, 300 + q));
    const refs = stack([
      ...blobs.map((b) => renderTransformed(b, box)),
      renderTransformed(blobs[0], box, { psi: 90, shiftX: 0, shiftY: 0, mirror: false }),
      renderTransformed(blobs[1], box, { psi: 90, shiftX: 0, shiftY: 0, mirror: true }),
      renderTransformed(blobs[2], box, { psi: 90, shiftX: 0, shiftY: 0, mirror: false }),
    ]);
    const near = await nearestClasses(refs, 2, { box, shiftRange: 1, bandLimit: 0.4 });
    expect(near.length).toBe(12);
    for (let j = 0; j < 6; j++) {
      expect(near[j * 2]).toBe((j + 3) % 6);
      expect(near.subarray(j * 2, j * 2 + 2)).not.toContain(j);
    }
    // more neighbours asked than there are other classes: −1 in the rest
    expect(
      Array.from((await nearestClasses(refs, 6, { box, shiftRange: 1, bandLimit: 0.4 })).subarray(0, 6)),
    ).toContain(-1);
  });

  it('candidates: the kept classes, then the own class’s nearest not listed yet, −1 after', () => {
    const kept = Int32Array.from([5, 1, -1, 7, 2, 3]); // 2 kept per image (−1: an empty slot)
    const near = Int32Array.from([1, 4, 0, 2, 0, 1, 5, 6, 5, 7, 6, 7, 3, 2, 4, 5]); // 8 classes × 2
    const own = Int32Array.from([0, 6, -1]);
    expect(Array.from(neighbourCandidates(kept, 2, own, near, 2, 4))).toEqual([
      5,
      1,
      4,
      -1, // image 0: kept 5, 1; near(0) = 1 (listed), 4
      7,
      3,
      2,
      -1, // image 1: kept 7 (and an empty slot); near(6) = 3, 2 (its own class comes with the pass)
      2,
      3,
      -1,
      -1, // image 2: no class yet, the kept ones only
    ]);
  });
});

describe('summedPoses', () => {
  it('keeps a summed pose only while class and mirror stay and no pixel of the particle moves more than the tolerance', () => {
    const radius = 20;
    const turn = (SUM_POSE_TOLERANCE / radius) * (180 / Math.PI); // degrees moving the rim by the tolerance
    const summed = {
      psi: Float32Array.of(10, 10, 359.99, 10, 10, 10, 10),
      shiftX: new Float32Array(7),
      shiftY: new Float32Array(7),
      mirror: Uint8Array.of(0, 0, 0, 0, 1, 0, 0),
    };
    const poses = {
      psi: Float32Array.of(10 + 0.9 * turn, 10 + 1.1 * turn, 0.5 * turn, 10, 10, 10, 10),
      shiftX: Float32Array.of(0, 0, 0, 0.09, 0, 0.11, 0),
      shiftY: new Float32Array(7),
      mirror: Uint8Array.of(0, 0, 0, 0, 0, 0, 0),
    };
    const before = Int32Array.of(1, 1, 1, 1, 1, 1, 1);
    const after = Int32Array.of(1, 1, 1, 1, 1, 1, 2);
    const r = summedPoses(summed, poses, before, after, radius);
    // 0: small turn, 2: across 0°, 3: small shift stay; 1: turn, 4: mirror, 5: shift, 6: class move
    expect(Array.from(r.changed)).toEqual([1, 4, 5, 6]);
    expect(Array.from(r.poses.psi)).toEqual([10, poses.psi[1], 359.99, 10, 10, 10, 10].map(Math.fround));
    expect(Array.from(r.poses.mirror)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(r.poses.shiftX[5]).toBe(Math.fround(0.11));
    expect(r.poses.shiftX[3]).toBe(0);
    // the inputs are not changed
    expect(summed.psi[1]).toBe(10);
  });
});

describe('runScale', () => {
  const box = 32;
  const k0 = 6;
  const per = 40;
  const views = Array.from({ length: k0 }, (_, j) => randomBlobs(5, 11, 500 + j));
  const imgs: Float32Array[] = [];
  for (let r = 0; r < per; r++)
    for (let j = 0; j < k0; j++)
      imgs.push(
        addNoise(
          renderTransformed(views[j], box, {
            psi: (61 * r + 29 * j) % 360,
            shiftX: (r % 3) - 1,
            shiftY: 0,
            mirror: r % 2 === 1,
          }),
          1,
          7000 + r * k0 + j,
        ),
      );
  const images = stack(imgs);
  const n = images.length / (box * box);
  const options = {
    k: 6,
    seed: 4,
    maxIter: 6,
    sigma0: 0,
    shortlist: 3,
    batches: [72, 144],
    align: { box, shiftRange: 1, bandLimit: 0.3 },
  };

  /** A run over `images` on 2 threads, with the state after every iteration. */
  const trackedRun = async (opts: Omit<ScaleOptions, 'threads' | 'onIteration'>) => {
    const states: ScaleState[] = [];
    const result = await runScale(images, {
      ...opts,
      threads: 2,
      onIteration: (_r, st) => void states.push(st),
    });
    return { result, states, trace: result.trace as ScaleRecord[] };
  };

  it('classifies, reports stages and visits, and is the same streamed, in memory and for 1 or 2 threads', async () => {
    const records: ScaleRecord[] = [];
    const a = await runScale(images, { ...options, threads: 2, onIteration: (r) => void records.push(r) });
    const dim = box * box;
    const b = await runScale(
      { n, read: async (s, c) => images.slice(s * dim, (s + c) * dim) },
      { ...options, threads: 1 },
    );
    expect(b.assignment).toEqual(a.assignment);
    expect(b.references).toEqual(a.references);
    expect(records.map((r) => r.stage).slice(0, 3)).toEqual(['batch', 'batch', 'full']);
    expect(records[0].setSize).toBeGreaterThanOrEqual(72);
    expect(records.at(-1)?.visits).toBeCloseTo(
      records.reduce((s, r) => s + r.setSize / n, 0),
      10,
    );
    expect(a.assignment.every((c) => c >= 0 && c < 6)).toBe(true);
    // the six views come out as six classes: each class mostly one view
    let agree = 0;
    for (let j = 0; j < 6; j++) {
      const counts = new Array(6).fill(0);
      for (let i = 0; i < n; i++) if (a.assignment[i] === j) counts[i % k0]++;
      agree += Math.max(...counts);
    }
    expect(agree / n).toBeGreaterThan(0.9);
  }, 300_000);

  it('resumed from the state after any iteration (mid-batch-stage too) ends bit-identically', async () => {
    const states: ScaleState[] = [];
    const full = await runScale(images, { ...options, onIteration: (_r, s) => void states.push(s) });
    for (const at of [1, 3]) {
      const resumed = await runScale(images, { ...options, state: structuredClone(states[at - 1]) });
      expect(resumed.assignment, `resumed after iteration ${at}`).toEqual(full.assignment);
      expect(resumed.references).toEqual(full.references);
      expect(resumed.trace.map((r) => r.sigma)).toEqual(full.trace.map((r) => r.sigma));
    }
  }, 300_000);

  it('stops at its particle-visit budget, after at least one full pass, as the uncapped run would be then', async () => {
    const states: ScaleState[] = [];
    const free = await runScale(images, { ...options, onIteration: (_r, s) => void states.push(s) });
    const fullPasses = free.trace.filter((x) => (x as ScaleRecord).stage === 'full').length;
    expect(free.converged).toBe(true); // σ reaches 0 on this set
    expect(fullPasses).toBeGreaterThanOrEqual(2);
    expect(free.trace.some((x) => (x as ScaleRecord).budgetReached)).toBe(false);
    const v0 = (free.trace[1] as ScaleRecord).visits; // after the two batches; a full pass is 1
    // a budget below one full pass: the first runs anyway, and the run stops there
    const one = await runScale(images, { ...options, maxVisits: 1 });
    expect(one.trace.map((x) => (x as ScaleRecord).stage)).toEqual(['batch', 'batch', 'full']);
    expect((one.trace.at(-1) as ScaleRecord).budgetReached).toBe(true);
    expect(one.converged).toBe(false);
    expect(one.assignment).toEqual(states[2].assignment);
    expect(one.references).toEqual(states[2].references);
    // a budget the run does not reach changes nothing
    const roomy = await runScale(images, { ...options, maxVisits: v0 + fullPasses });
    expect(roomy.assignment).toEqual(free.assignment);
    expect(roomy.trace.some((x) => (x as ScaleRecord).budgetReached)).toBe(false);
    await expect(runScale(images, { ...options, maxVisits: 0.5 })).rejects.toThrow(/maxVisits/);
  }, 300_000);

  it('settles past its visit allowance once σ is small, and not before', async () => {
    const states: ScaleState[] = [];
    const free = await runScale(images, { ...options, onIteration: (_r, s) => void states.push(s) });
    const trace = free.trace as ScaleRecord[];
    const full = trace.map((r, t) => ({ r, t })).filter(({ r }) => r.stage === 'full');
    expect(full.length).toBeGreaterThanOrEqual(2);
    // σ of the first full pass as the threshold: the run stops right after it once past the allowance
    const first = full[0];
    const settled = await runScale(images, { ...options, settle: { visits: 0, sigma: first.r.sigma } });
    expect(settled.trace).toHaveLength(first.t + 1);
    expect((settled.trace.at(-1) as ScaleRecord).settled).toBe(true);
    expect(settled.converged).toBe(false);
    expect(settled.assignment).toEqual(states[first.t].assignment);
    // within the allowance it goes on, even with σ under the threshold
    const allowance = first.r.visits + 1.5; // one more full pass fits, the third would not
    const later = await runScale(images, { ...options, settle: { visits: allowance, sigma: 1 } });
    expect(later.trace).toHaveLength(first.t + 2);
    // (the second full pass may converge on this small set: then it ends as converged)
    expect((later.trace.at(-1) as ScaleRecord).settled === true || later.converged).toBe(true);
    expect(later.assignment).toEqual(states[first.t + 1].assignment);
    // a threshold σ never reaches changes nothing
    const never = await runScale(images, { ...options, settle: { visits: 0, sigma: 0 } });
    expect(never.assignment).toEqual(free.assignment);
    expect(never.trace.some((r) => (r as ScaleRecord).settled)).toBe(false);
    await expect(runScale(images, { ...options, settle: { visits: 0, sigma: 2 } })).rejects.toThrow(
      /settle.sigma/,
    );
  }, 300_000);

  it('between rankings aligns only to the kept classes, and resumes and threads bit-identically', async () => {
    // more classes than views, so that classes keep changing: m = 6 ranked, 4 kept; a ranking
    // every 3rd full pass once σ ≤ 0.15
    const noisy = images;
    const sticky = { ...options, k: 7, shortlist: 6, shortlistRefresh: 3, maxIter: 12, sigma0: 0 };
    const { result: full, states, trace } = await trackedRun(sticky);
    const keptAt = trace.flatMap((r, t) => (r.kept ? [t] : []));
    expect(keptAt.length, trace.map((r) => `${r.stage} σ ${r.sigma}`).join(', ')).toBeGreaterThanOrEqual(2);
    for (const t of keptAt) {
      const before = states[t - 1];
      expect(trace[t - 1].sigma).toBeLessThanOrEqual(0.15);
      expect(trace[t - 1].sigma).toBeGreaterThan(0);
      expect(t + 1 - (before.keptIteration as number)).toBeLessThan(
        3 * 2 ** keptDoublings(trace.slice(0, t), 0),
      );
      // the class after a kept pass is one of the image's kept classes or its class before
      const kept = before.kept as Int32Array;
      for (let i = 0; i < n; i++) {
        const c = states[t].assignment[i];
        expect(c === before.assignment[i] || kept.subarray(4 * i, 4 * i + 4).includes(c)).toBe(true);
      }
    }
    // the class sums were updated by some of the images only, and the resumes below (which sum
    // afresh) end with the same bits
    const updated = trace.flatMap((r) => (r.sumsUpdated === undefined ? [] : [r.sumsUpdated]));
    expect(
      updated.some((u) => u > 0 && u < 1),
      updated.join(', '),
    ).toBe(true);
    // a ranked pass comes back after two kept ones; while σ > σ0 = 0 it re-ranks among the kept
    // classes and the own class's nearest, and can never end the run
    expect(trace.some((r, t) => t > keptAt[0] && r.stage === 'full' && !r.kept)).toBe(true);
    const neighbourAt = trace.flatMap((r, t) => (r.neighbours ? [t] : []));
    expect(neighbourAt.length).toBeGreaterThanOrEqual(1);
    for (const t of neighbourAt) {
      expect(trace[t - 1].kept).toBe(true);
      expect(trace[t].keptMissed).toBeGreaterThanOrEqual(0);
      expect(trace[t].kept).toBeUndefined();
    }
    if (full.converged) expect(trace.at(-1)?.kept || trace.at(-1)?.neighbours).toBeFalsy();
    // one thread, read through a provider (the updates then read the changed images in spans)
    const dim = box * box;
    const provider = { n, read: async (s: number, c: number) => noisy.slice(s * dim, (s + c) * dim) };
    const one = await runScale(provider, { ...sticky, threads: 1 });
    expect(one.assignment).toEqual(full.assignment);
    expect(one.references).toEqual(full.references);
    // and through a provider that gathers the changed images (as the scratch stack does)
    const gathered: number[] = [];
    const gathering = {
      ...provider,
      gather: async (items: Int32Array, out?: Float32Array) => {
        gathered.push(items.length);
        const into = out?.subarray(0, items.length * dim) ?? new Float32Array(items.length * dim);
        items.forEach((i, r) => into.set(noisy.subarray(i * dim, (i + 1) * dim), r * dim));
        return into;
      },
    };
    const viaGather = await runScale(gathering, { ...sticky, threads: 2 });
    expect(gathered.length).toBeGreaterThan(0);
    expect(gathered.every((c) => c > 0 && c < n)).toBe(true);
    expect(viaGather.assignment).toEqual(full.assignment);
    expect(viaGather.references).toEqual(full.references);
    const resumed = await runScale(noisy, { ...sticky, state: structuredClone(states[keptAt[0]]) });
    expect(resumed.assignment).toEqual(full.assignment);
    expect(resumed.references).toEqual(full.references);
    const damaged = structuredClone(states[keptAt[0]]);
    damaged.kept = new Int32Array(3);
    await expect(runScale(noisy, { ...sticky, state: damaged })).rejects.toThrow(/kept classes/);
  }, 300_000);

  it('re-scores the shortlists of a ranking that moved many images, and resumes and threads bit-identically', async () => {
    // small first batch and more classes than views: the first full passes move many images
    const moving = { ...options, k: 10, shortlist: 6, shortlistRefresh: 3, maxIter: 8, batches: [30] };
    const { result: run, states, trace } = await trackedRun(moving);
    const at = trace.flatMap((r, t) => (r.shortlisted ? [t] : []));
    expect(at.length, trace.map((r) => `${r.stage} σ ${r.sigma}`).join(', ')).toBeGreaterThanOrEqual(1);
    trace.forEach((r, t) => {
      const ranked = r.stage === 'full' && !r.kept && !r.neighbours && !r.shortlisted;
      // a ranking's shortlists are kept for the next pass only when it moved many images
      expect(states[t].shortlisted?.length).toBe(ranked && r.sigma > 0.15 ? n * 6 : undefined);
    });
    for (const t of at) {
      const last = trace[t - 1];
      expect(last.stage === 'full' && !last.kept && !last.neighbours && !last.shortlisted).toBe(true);
      expect(last.sigma).toBeGreaterThan(0.15);
      expect(last.referenceChange).toBeLessThanOrEqual(0.1);
      expect(trace[t].kept).toBeUndefined();
      // the class after it is one of the image's shortlisted classes or its class before
      const list = states[t - 1].shortlisted as Int32Array;
      for (let i = 0; i < n; i++) {
        const c = states[t].assignment[i];
        expect(c === states[t - 1].assignment[i] || list.subarray(6 * i, 6 * i + 6).includes(c)).toBe(true);
      }
    }
    const one = await runScale(images, { ...moving, threads: 1 });
    expect(one.assignment).toEqual(run.assignment);
    expect(one.references).toEqual(run.references);
    const resumed = await runScale(images, { ...moving, state: structuredClone(states[at[0] - 1]) });
    expect(resumed.assignment).toEqual(run.assignment);
    expect(resumed.references).toEqual(run.references);
    expect(resumed.trace.map((r) => r.sigma)).toEqual(run.trace.map((r) => r.sigma));
  }, 300_000);

  it('keeps the images’ spectra when shifting references: the classes of resampling every pass', async () => {
    // a whole-grid "window" (radius ≥ the shift range) searches as usual but keeps no spectra
    const shifting = {
      ...options,
      k: 7,
      shortlist: 6,
      shortlistRefresh: 3,
      maxIter: 8,
      align: { ...options.align, shiftReferences: true },
    };
    const kept = await runScale(images, shifting);
    const resampled = await runScale(images, { ...shifting, localShiftRadius: 5 });
    expect((kept.trace as ScaleRecord[]).some((r) => r.kept)).toBe(true);
    expect(kept.assignment).toEqual(resampled.assignment);
    expect(kept.references).toEqual(resampled.references);
    // kept in a scratch file (as sets too large for memory are): the same classes, nothing left
    const dir = mkdtempSync(join(tmpdir(), 'ack-spectra-'));
    try {
      const onFile = { ...shifting, scratch: dir, inMemorySpectraLimit: 0 };
      expect((await spectraPlacement(n, onFile)).place).toBe('scratch');
      expect((await spectraPlacement(n, shifting)).place).toBe('memory');
      expect((await spectraPlacement(n, { ...onFile, localShiftRadius: 5 })).place).toBe('none');
      expect((await spectraPlacement(n, { ...shifting, inMemorySpectraLimit: 0 })).place).toBe('none');
      const filed = await runScale(images, onFile);
      expect(filed.assignment).toEqual(kept.assignment);
      expect(filed.references).toEqual(kept.references);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('with a local shift window: stays in its window, and resumes bit-identically', async () => {
    // a 5×5 grid searched in 3×3 windows around the previous shift (moved inside the grid)
    const local = { ...options, align: { ...options.align, shiftRange: 2 }, localShiftRadius: 1 };
    const centre = (s: number): number => Math.min(1, Math.max(-1, Math.round(s)));
    const states: ScaleState[] = [];
    const full = await runScale(images, { ...local, onIteration: (_r, s) => void states.push(s) });
    const fullPasses = (full.trace as ScaleRecord[]).filter((r) => r.stage === 'full').length;
    expect(fullPasses, 'a local pass needs a full pass before it').toBeGreaterThanOrEqual(2);
    // after a local pass, every shift lies in the window around the previous pass's
    for (let t = 1; t < states.length; t++) {
      const before = states[t - 1];
      if (before.trace.at(-1)?.stage !== 'full') continue;
      const [bx, by] = [before.shiftX as Float32Array, before.shiftY as Float32Array];
      const [ax, ay] = [states[t].shiftX as Float32Array, states[t].shiftY as Float32Array];
      for (let i = 0; i < n; i++) {
        expect(Math.abs(ax[i] - centre(bx[i]))).toBeLessThanOrEqual(1);
        expect(Math.abs(ay[i] - centre(by[i]))).toBeLessThanOrEqual(1);
      }
    }
    const at = states.length - 2;
    const resumed = await runScale(images, { ...local, state: structuredClone(states[at - 1]) });
    expect(resumed.assignment).toEqual(full.assignment);
    expect(resumed.references).toEqual(full.references);
  }, 300_000);
});
