import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FormatError,
  StarBlock,
  StarFile,
  formatStar,
  formatStarNumber,
  parseStar,
  readStar,
  writeStar,
} from '../../src/io/index.js';
import { tempDir } from './fixtures.js';

const dir = tempDir();

const SAMPLE = `
# version 30001

data_optics

loop_
_rlnOpticsGroup #1
_rlnOpticsGroupName #2
_rlnImagePixelSize #3
1 opticsGroup1 1.0600
2 "group two" 1.2e0

# a comment line
data_particles

loop_ # trailing comment
_rlnImageName #1
_rlnDefocusU #2
_rlnOpticsGroup #3
_myUnknownColumn #4
000001@stacks/a.mrcs 12000.50 1 'it''s fine'
000002@stacks/a.mrcs   13000 2 x#y

data_general
_rlnFinalResolution   4.5   # key-value block
_rlnComment  'hello world'
`;

/** A parsed block `t` whose column `a` holds `tokens` (and `b` the row numbers). */
const tableOf = (tokens: string[]) =>
  parseStar(`data_t\nloop_\n_a\n_b\n${tokens.map((t, i) => `${t} ${i}`).join('\n')}\n`, 't.star').block('t')!;

describe('parseStar', () => {
  const star = parseStar(SAMPLE, 'sample.star');

  it('finds every block, loops and key-value pairs, with typed columns', () => {
    expect(star.blocks.map((b) => [b.name, b.loop, b.rowCount])).toEqual([
      ['optics', true, 2],
      ['particles', true, 2],
      ['general', false, 1],
    ]);
    const optics = star.block('optics')!;
    expect(optics.version).toBe('# version 30001');
    expect(optics.columns).toEqual(['rlnOpticsGroup', 'rlnOpticsGroupName', 'rlnImagePixelSize']);
    expect(optics.numeric('rlnImagePixelSize')).toEqual(Float64Array.of(1.06, 1.2));
    expect(optics.strings('rlnOpticsGroupName')).toEqual(['opticsGroup1', 'group two']);
    expect(optics.numeric('rlnOpticsGroupName')).toBeUndefined();
    const p = star.block('particles')!;
    expect(p.column('rlnDefocusU')).toEqual(Float64Array.of(12000.5, 13000));
    expect(p.strings('rlnDefocusU')).toEqual(['12000.50', '13000']);
    expect(p.strings('myUnknownColumn')).toEqual(["it''s fine", 'x#y']);
    const g = star.block('general')!;
    expect(g.numeric('rlnFinalResolution')).toEqual(Float64Array.of(4.5));
    expect(g.strings('rlnComment')).toEqual(['hello world']);
  });

  it('writes back every column unchanged; the text is stable under a second round trip', () => {
    const text = formatStar(star);
    const again = parseStar(text, 'again.star');
    for (const b of star.blocks) {
      const c = again.block(b.name)!;
      expect(c.columns).toEqual(b.columns);
      expect(c.loop).toBe(b.loop);
      for (const col of b.columns) expect(c.strings(col)).toEqual(b.strings(col));
    }
    expect(formatStar(again)).toBe(text);
    expect(text).toContain('12000.50'); // original text of unchanged numeric cells
  });

  it('gives back the exact text of every kind of number cell, also after selecting rows', () => {
    // plain decimals are rebuilt from the value (toFixed); the others are kept as text
    const tokens = [
      '-12.345600',
      '0.000',
      '+1.5',
      '007',
      '-0.000',
      '-0',
      '.5',
      '5.',
      '-.25',
      '1e5',
      '2.5E-03',
      'nan',
      '-inf',
      'Infinity',
      '1.0000000000000000001',
      '123456789012345678',
      '999999999999999',
      '0.10',
    ];
    const block = tableOf(tokens);
    expect(block.numeric('a')).toBeDefined();
    expect(block.strings('a')).toEqual(tokens);
    expect(Array.from(block.numeric('a')!)).toEqual(
      tokens.map((t) => (/nan/i.test(t) ? NaN : t === '-inf' ? -Infinity : Number(t))),
    );
    const picked = [17, 0, 4, 4, 9, 2];
    expect(block.selectRows(picked).strings('a')).toEqual(picked.map((i) => tokens[i]));
    expect(formatStar(parseStar(formatStar(new StarFile([block])), 'u.star'))).toBe(
      formatStar(new StarFile([block])),
    );
  });

  it('keeps text cells compactly and gives back their exact text, also after selecting rows', () => {
    // a column that starts with numbers, then N@rest names of every shape, then other text
    const tokens = [
      '12',
      '1.50',
      '000001@stacks/a.mrcs',
      '000002@stacks/a.mrcs',
      '7@stacks/b.mrcs',
      '0@a',
      '000@a',
      '123456789@a',
      '1234567890@a', // 10 digits: kept as text
      '4294967297@s.mrcs',
      '@a',
      '12@',
      '1@@x',
      '-1@a',
      '+1@a',
      'a@1',
      'micrograph_001.mrc',
      'micrograph_001.mrc',
      "'quoted 1@a b'",
      '"2@with space"',
    ];
    const block = tableOf(tokens);
    const expected = tokens.map((t) => t.replace(/^['"](.*)['"]$/, '$1'));
    expect(block.numeric('a')).toBeUndefined();
    expect(block.strings('a')).toEqual(expected);
    expect(block.column('a')).toEqual(expected);
    const compact = block.textColumn('a')!;
    expect(compact.dict).not.toContain('000001@stacks/a.mrcs'); // the number is kept apart
    expect(compact.imageNumber(2)).toBe(1);
    expect(compact.imageNumber(8)).toBe(-1);
    const picked = [19, 2, 5, 5, 8, 0, 13];
    expect(block.selectRows(picked).strings('a')).toEqual(picked.map((i) => expected[i]));
    const again = parseStar(formatStar(new StarFile([block])), 'u.star').block('t')!;
    expect(again.strings('a')).toEqual(expected);
  });

  it('holds no string per row for 10⁴ image names: one per stack', () => {
    const rows = Array.from(
      { length: 10_000 },
      (_, i) => `${String(i + 1).padStart(6, '0')}@s${i % 3}.mrcs ${i}`,
    );
    const block = parseStar(`data_p\nloop_\n_rlnImageName\n_x\n${rows.join('\n')}\n`, 'p.star').block('p')!;
    const names = block.textColumn('rlnImageName')!;
    expect(names.dict).toEqual(['s0.mrcs', 's1.mrcs', 's2.mrcs']);
    expect(names.text(9_999)).toBe('010000@s0.mrcs');
  });

  it('a column of mostly different texts (no lookups past 2¹⁶ of them) reads back exactly', () => {
    const texts = Array.from({ length: 70_000 }, (_, i) => `mic_${i % 66_000}.mrc`);
    const column = tableOf(texts).textColumn('a')!;
    expect(column.dict.length).toBeGreaterThan(66_000); // the repeats after the switch are kept twice
    expect(column.toArray()).toEqual(texts);
  });

  it('sets columns (numbers formatted sensibly), selects rows, builds new blocks', () => {
    const p = parseStar(SAMPLE, 's.star').block('particles')!;
    p.setColumn('rlnClassNumber', [3, 1]);
    p.setColumn('rlnDefocusU', Float64Array.of(1 / 3, 2e-9));
    expect(p.columns.at(-1)).toBe('rlnClassNumber');
    expect(p.columns[1]).toBe('rlnDefocusU');
    const sub = p.selectRows([1]);
    expect(sub.rowCount).toBe(1);
    expect(sub.strings('rlnImageName')).toEqual(['000002@stacks/a.mrcs']);
    expect(sub.strings('rlnOpticsGroup')).toEqual(['2']);
    const back = parseStar(formatStar(new StarFile([p])), 'p.star').block('particles')!;
    expect(back.numeric('rlnClassNumber')).toEqual(Float64Array.of(3, 1));
    expect(back.strings('rlnDefocusU')).toEqual(['0.333333333333', '2e-9']);
    expect(() => p.setColumn('bad', [1, 2, 3])).toThrow(RangeError);
    expect(() => p.selectRows([2])).toThrow(RangeError);
    const b = StarBlock.fromColumns('classes', {
      rlnClassNumber: Int32Array.of(1, 2),
      rlnName: ['a b', '_x'],
      rlnId: ['007', '1e3'],
    });
    const parsed = parseStar(formatStar(new StarFile([b])), 'c.star').block('classes')!;
    expect(parsed.strings('rlnName')).toEqual(['a b', '_x']);
    expect(parsed.column('rlnId')).toEqual(['007', '1e3']); // quoted, so still strings
    expect(parsed.numeric('rlnClassNumber')).toEqual(Float64Array.of(1, 2));
  });

  it('formats numbers: integers as integers, others with 12 digits', () => {
    expect([1, -7, 0.5, 0.1 + 0.2, 1e-8, NaN, -Infinity].map(formatStarNumber)).toEqual([
      '1',
      '-7',
      '0.5',
      '0.3',
      '1e-8',
      'nan',
      '-inf',
    ]);
  });
});

const MALFORMED: [string, string, string, RegExp][] = [
  [
    'ragged row',
    'data_x\nloop_\n_a\n_b\n1 2\n3\n',
    'ERR_STAR_RAGGED',
    /line 6: row has 1 values, the loop has 2 columns/,
  ],
  ['loop without columns', 'data_x\nloop_\n1 2\n', 'ERR_STAR_SYNTAX', /loop_ without columns/],
  ['loop without columns at the end', 'data_x\nloop_\n', 'ERR_STAR_SYNTAX', /loop_ without columns/],
  ['data outside a block', '_a 1\n', 'ERR_STAR_SYNTAX', /outside any data_ block/],
  ['a key without a value', 'data_x\n_a\n', 'ERR_STAR_SYNTAX', /_a has no value/],
  ['an unterminated quote', 'data_x\n_a "open\n', 'ERR_STAR_SYNTAX', /unterminated/],
  ['duplicate columns', 'data_x\nloop_\n_a\n_a\n1 2\n', 'ERR_STAR_SYNTAX', /duplicate column/],
  ['two tables in a block', 'data_x\nloop_\n_a\n1\nloop_\n_b\n2\n', 'ERR_STAR_SYNTAX', /more than one table/],
];

describe('malformed STAR', () => {
  for (const [what, text, code, message] of MALFORMED)
    it(`${what} → ${code}`, () => {
      let err: unknown;
      try {
        parseStar(text, '/some/where/bad.star');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FormatError);
      expect(err).toMatchObject({ code, file: '/some/where/bad.star' });
      expect((err as Error).message).toMatch(/^bad\.star: /);
      expect((err as Error).message).toMatch(message);
    });

  it('a missing file → ERR_FILE_NOT_FOUND', async () => {
    await expect(readStar(join(dir, 'absent.star'))).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
  });
});

describe('writeStar / readStar', () => {
  it('round-trips through a file atomically', async () => {
    const path = join(dir, 'out.star');
    const star = parseStar(SAMPLE, 'sample.star');
    await writeStar(path, star);
    expect(readFileSync(path, 'utf8')).toBe(formatStar(star));
    const back = await readStar(path);
    expect(back.path).toBe(path);
    expect(back.block('particles')!.strings('myUnknownColumn')).toEqual(["it''s fine", 'x#y']);
  });

  it('reads a file a piece at a time exactly as it parses the whole text (pieces of 1 byte up)', async () => {
    // a BOM, no final newline, and lines longer than a piece; then each malformed case
    const texts = [`\ufeff${SAMPLE}`, SAMPLE.trimEnd(), ...MALFORMED.map(([, text]) => text)];
    for (const [k, text] of texts.entries()) {
      const path = join(dir, `piece${k}.star`);
      writeFileSync(path, text);
      const outcome = (f: () => StarFile) => {
        try {
          return formatStar(f());
        } catch (err) {
          return `${(err as FormatError).code}: ${(err as Error).message}`;
        }
      };
      const whole = outcome(() => parseStar(text, path));
      for (const pieceBytes of [1, 2, 3, 7, 64, 1 << 22]) {
        const read = await readStar(path, { pieceBytes }).then(
          (star) => () => star,
          (err: unknown) => () => {
            throw err;
          },
        );
        expect(outcome(read), `${path}, pieces of ${pieceBytes}`).toBe(whole);
      }
    }
  });
});
