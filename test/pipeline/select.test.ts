import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StarBlock, StarFile, readStar, writeStar } from '../../src/io/index.js';
import { parseClassList, selectClasses } from '../../src/pipeline/select.js';

describe('select', () => {
  it('parses class lists', () => {
    expect(parseClassList('3,7,12')).toEqual([3, 7, 12]);
    expect(parseClassList('5-7, 2,6')).toEqual([2, 5, 6, 7]);
    expect(() => parseClassList('3,x')).toThrow(RangeError);
    expect(() => parseClassList('0')).toThrow(RangeError);
  });

  it('writes the rows of the chosen classes with every block and column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ack-select-'));
    const optics = StarBlock.fromColumns('optics', { rlnOpticsGroup: [1], rlnImagePixelSize: [2.5] });
    const particles = StarBlock.fromColumns('particles', {
      rlnImageName: ['000001@a.mrcs', '000002@a.mrcs', '000003@a.mrcs', '000004@a.mrcs'],
      rlnClassNumber: [3, 1, 3, 2],
      rlnDefocusU: [10000, 11000, 12000, 13000],
    });
    await writeStar(join(dir, 'run_data.star'), new StarFile([optics, particles]));
    const n = await selectClasses(join(dir, 'run_data.star'), [2, 3], join(dir, 'subset.star'));
    expect(n).toBe(3);
    const out = await readStar(join(dir, 'subset.star'));
    expect(out.block('optics')?.numeric('rlnImagePixelSize')?.[0]).toBe(2.5);
    const rows = out.block('particles')!;
    expect(rows.strings('rlnImageName')).toEqual(['000001@a.mrcs', '000003@a.mrcs', '000004@a.mrcs']);
    expect(Array.from(rows.numeric('rlnDefocusU')!)).toEqual([10000, 12000, 13000]);
    await expect(selectClasses(join(dir, 'run_data.star'), [9], join(dir, 'x.star'))).rejects.toThrow(/9/);
  });
});
