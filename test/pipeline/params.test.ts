/**
 * The one parameter table: every key goes through the API (checkParams/resolveParams), the CLI
 * (our flag and RELION's name) and HTTP, which accept the same values and refuse the same
 * values with the same human message.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, type ClassifyRunner } from '../../src/cli/classify.js';
import { flagOf } from '../../src/cli/params-options.js';
import {
  CLASSIFY_DEFAULTS,
  checkParams,
  describeSchema,
  PARAM_NAMES,
  PARAMS,
  type ParamName,
  type ParamSpec,
  resolveParams,
  SCALE_ENGINE_MIN_PARTICLES,
  visitAllowance,
} from '../../src/pipeline/params.js';
import { whyNotScaleEngine } from '../../src/pipeline/mra.js';
import type { RunningServer } from '../../src/server/serve.js';
import { runCommand } from '../helpers/cli.js';
import { client, removeDir, startFakeServer, tempDir, writeSpec } from '../server/helpers.js';

/** A valid value other than the default and a value the schema refuses, for every parameter. */
const CASES: Record<ParamName, { valid: unknown; invalid: unknown }> = {
  k: { valid: 3, invalid: 1 },
  method: { valid: 'kmeans', invalid: 'magic' },
  pipeline: { valid: 'msa', invalid: 'nope' },
  beta: { valid: 2, invalid: -1 },
  sigma0: { valid: 0.05, invalid: 2 },
  maxIter: { valid: 7, invalid: 0 },
  seed: { valid: 12345, invalid: -1 },
  threads: { valid: 2, invalid: 0 },
  diameter: { valid: 100, invalid: 0 },
  box: { valid: 16, invalid: 4 },
  shiftRange: { valid: 1, invalid: -1 },
  shiftStep: { valid: 0.5, invalid: 0 },
  offsetRange: { valid: 2, invalid: -1 },
  offsetStep: { valid: 1, invalid: 0 },
  alignResolution: { valid: 20, invalid: 0 },
  averageBox: { valid: 32, invalid: 4 },
  recentre: { valid: true, invalid: 'yes' },
  mirror: { valid: false, invalid: 'no' },
  shiftReferences: { valid: false, invalid: 'yes' },
  invert: { valid: true, invalid: 'yes' },
  phaseFlip: { valid: false, invalid: 1 },
  exhaustive: { valid: false, invalid: 'yes' },
  shortlist: { valid: 8, invalid: 0 },
  shortlistRefresh: { valid: 1, invalid: 0 },
  maxVisits: { valid: 3, invalid: -1 },
  settleSigma: { valid: 0.1, invalid: 2 },
  init: { valid: 'subsets', invalid: 'noise' },
  startIterations: { valid: 0, invalid: -1 },
  starts: { valid: 2, invalid: 0 },
  startResolution: { valid: 40, invalid: 0 },
  followFrc: { valid: true, invalid: 'yes' },
  filterReferences: { valid: true, invalid: 'yes' },
};

const INPUT = { count: 20, box: 32, pixelSize: 4, hasCtf: true };
const isBoolean = (name: ParamName) => typeof CASES[name].valid === 'boolean';

/** Runs `classify` in this process with a stand-in runner; returns the parameters it got. */
async function cliParams(...args: string[]) {
  let got: Record<string, unknown> | undefined;
  const run: ClassifyRunner = (_input, _out, params) => {
    got = params as Record<string, unknown>;
    return Promise.resolve({
      converged: true,
      iterations: 1,
      seconds: 0,
      sizes: [1],
      quarantined: 0,
      outDir: 'out',
    } as unknown as Awaited<ReturnType<ClassifyRunner>>);
  };
  const r = await runCommand((p: Command) => register(p, run), 'classify', ...args);
  return { ...r, params: got };
}

/** The command-line words that set `name` to `value` (booleans: their flag). */
function words(name: ParamName, value: unknown, flag = flagOf(name)): string[] {
  if (!isBoolean(name)) return [flag, String(value)];
  const p: ParamSpec = PARAMS[name];
  return [p.negated ? `--no-${flag.slice(2)}` : flag];
}

describe('the parameter table', () => {
  it('has a test case for every parameter', () => {
    expect(Object.keys(CASES).sort()).toEqual([...PARAM_NAMES].sort());
  });

  it('derives the defaults from the table and checks them with their own schema', () => {
    for (const [name, value] of Object.entries(CLASSIFY_DEFAULTS)) {
      expect((PARAMS[name as ParamName] as ParamSpec).schema.safeParse(value).success).toBe(true);
      expect(CASES[name as ParamName].valid).not.toEqual(value);
    }
    expect(CLASSIFY_DEFAULTS).toMatchObject({ method: 'ack', pipeline: 'mra', maxIter: 30, mirror: true });
  });

  it('writes messages for people', () => {
    expect(describeSchema(PARAMS.k.schema)).toBe('an integer in [2, 100000]');
    expect(describeSchema(PARAMS.diameter.schema)).toBe('a number > 0 and ≤ 100000');
    expect(describeSchema(PARAMS.method.schema)).toBe('one of ack, kmeans, spider, eqk');
    expect(() => checkParams({ k: 1 })).toThrow('k must be an integer in [2, 100000], got 1');
    expect(() => checkParams({ k: 3, seed: -1 })).toThrow(
      'seed must be an integer in [0, 4294967295], got -1',
    );
    expect(() => checkParams({ k: '3' })).toThrow(TypeError);
    expect(() => checkParams({ k: 3, kk: 1 })).toThrow(/unknown parameter "kk" \(known: k, method/);
    expect(() => checkParams({})).toThrow('k must be an integer in [2, 100000], got nothing');
  });

  it('offers --exhaustive and --no-exhaustive (the scale engine); unset, the input decides', async () => {
    const args = ['in.star', '-k', '3', '-o', 'out'];
    expect((await cliParams(...args)).params?.exhaustive).toBeUndefined();
    expect((await cliParams(...args, '--exhaustive')).params?.exhaustive).toBe(true);
    expect((await cliParams(...args, '--no-exhaustive')).params?.exhaustive).toBe(false);
    expect('exhaustive' in CLASSIFY_DEFAULTS).toBe(false);
    const facts = (count: number) => ({ ...INPUT, count });
    const n = SCALE_ENGINE_MIN_PARTICLES;
    expect(resolveParams({ k: 3 }, facts(n - 1)).exhaustive).toBe(true);
    expect(resolveParams({ k: 3 }, facts(n)).exhaustive).toBe(false);
    expect(resolveParams({ k: 3, exhaustive: true }, facts(10 * n)).exhaustive).toBe(true);
    expect(resolveParams({ k: 3, exhaustive: false }, facts(100)).exhaustive).toBe(false);
    // what an executor other than the local one is told (it runs only the scale engine)
    expect(whyNotScaleEngine({ k: 3 }, n)).toBeUndefined();
    expect(whyNotScaleEngine({ k: 3, exhaustive: false }, 100)).toBeUndefined();
    expect(whyNotScaleEngine({ k: 3 }, 100)).toMatch(
      /^100 particles \(under 20000\) run the exhaustive engine unless exhaustive is false \(--no-exhaustive\)$/,
    );
    expect(whyNotScaleEngine({ k: 3, exhaustive: true }, n)).toBe('exhaustive was asked for');
    expect(whyNotScaleEngine({ k: 3, method: 'kmeans' }, n)).toBe('method kmeans runs the exhaustive engine');
    expect(whyNotScaleEngine({ k: 3, pipeline: 'msa' }, n)).toBe(
      'the msa pipeline runs the exhaustive engine',
    );
  });

  it('the scale engine has no visit budget and does not settle by default; its allowance', () => {
    const facts = (count: number) => ({ ...INPUT, count });
    expect(resolveParams({ k: 100 }, facts(50_000)).maxVisits).toBe(0);
    expect(resolveParams({ k: 100 }, facts(50_000)).settleSigma).toBe(0);
    expect(visitAllowance(50_000, 100)).toBe(9);
    expect(visitAllowance(1_000_000, 200)).toBe(2);
    expect(visitAllowance(20_000, 40)).toBe(9);
    expect(visitAllowance(2_000, 20)).toBe(41);
  });
});

describe.each(PARAM_NAMES)('parameter %s', (name) => {
  const { valid, invalid } = CASES[name];
  // offsets are in input pixels: with a 16 px working box for a 32 px input they halve
  const base = name === 'k' ? {} : name.startsWith('offset') ? { k: 3, box: 16 } : { k: 3 };

  it('API: accepts a valid value and refuses an invalid one by name', () => {
    const resolved = resolveParams({ ...base, [name]: valid } as never, INPUT) as unknown as Record<
      string,
      unknown
    >;
    if (name === 'offsetRange') expect(resolved.shiftRange).toBe(1);
    else if (name === 'offsetStep') expect(resolved.shiftStep).toBe(0.5);
    else expect(resolved[name]).toEqual(valid);
    expect(() => resolveParams({ ...base, [name]: invalid } as never, INPUT)).toThrow(
      new RegExp(`^${name} must be `),
    );
  });

  it('CLI: our flag and RELION name give the same value; a bad value is a usage error', async () => {
    const required = name === 'k' ? ['in.star', '-o', 'out'] : ['in.star', '-k', '3', '-o', 'out'];
    const box = name.startsWith('offset') ? ['--box', '16'] : [];
    const ours = await cliParams(...required, ...box, ...words(name, valid));
    expect(ours.code).toBe(0);
    expect(ours.params?.[name]).toEqual(valid);
    const p: ParamSpec = PARAMS[name];
    if (p.relion) {
      const theirs = await cliParams(...required, ...words(name, valid, p.relion));
      expect(theirs.params?.[name]).toEqual(valid);
    }
    if (!isBoolean(name)) {
      const bad = await cliParams(...required, ...words(name, invalid));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(
        `${p.short ? `-${p.short}` : flagOf(name)} must be ${describeSchema(p.schema)}`,
      );
      expect(bad.params).toBeUndefined();
    }
  });
});

describe('shift range units', () => {
  it('offsetRange is in input pixels, shiftRange in working pixels; errors say which the user gave', () => {
    // 32 px input, 16 px working box: one working pixel is two input pixels
    expect(resolveParams({ k: 3, box: 16, offsetRange: 4 }, INPUT).shiftRange).toBe(2);
    expect(resolveParams({ k: 3, box: 16, shiftRange: 2 }, INPUT).shiftRange).toBe(2);
    expect(() => resolveParams({ k: 3, box: 16, offsetRange: 10 }, INPUT)).toThrow(
      'offsetRange (10 input pixels = 5 working pixels) must be at most box/4 = 4 working pixels',
    );
    expect(() => resolveParams({ k: 3, box: 16, shiftRange: 5 }, INPUT)).toThrow(
      'shiftRange (5 working pixels) must be at most box/4 = 4 working pixels',
    );
    expect(() => resolveParams({ k: 3, box: 16, offsetRange: 2, shiftRange: 1 }, INPUT)).toThrow(
      'give shiftRange (working pixels) or offsetRange (input pixels), not both',
    );
  });
});

describe('HTTP', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = await tempDir('params');
    await mkdir(join(dir, 'data'));
    await writeSpec(join(dir, 'data'), 'small.star', { particles: 20, box: 32 });
    server = await startFakeServer({
      workDir: join(dir, 'work'),
      dataRoots: [join(dir, 'data')],
      concurrency: 1,
    });
  });
  afterAll(async () => {
    await server?.close();
    await removeDir(dir);
  });

  it.each(PARAM_NAMES)(
    '%s: the schema accepts a valid value and refuses an invalid one by name',
    async (name) => {
      const api = client(server.url);
      // k = 21 > 20 particles: a 422 after the schema passed, so no job is started.
      const ok = await api.post('/v1/jobs', {
        input: 'small.star',
        params: { k: 21, [name]: name === 'k' ? 21 : CASES[name].valid },
      });
      expect(ok.status).toBe(422);
      expect(ok.body).toMatchObject({ code: 'ERR_PARAMS' });
      const bad = await api.post('/v1/jobs', {
        input: 'small.star',
        params: { k: 3, [name]: CASES[name].invalid },
      });
      expect(bad.status).toBe(400);
      expect((bad.body as { error: string }).error).toBe(
        `params.${name} must be ${describeSchema(PARAMS[name].schema)}, got ${JSON.stringify(CASES[name].invalid)}`,
      );
    },
  );
});
