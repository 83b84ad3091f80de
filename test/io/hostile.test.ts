/**
 * Hostile inputs (issue 13): each file is generated here, and each case failed before its fix —
 * a wrong result with exit 0, a hang, or a raw / unclear message. Every outcome must now be one
 * clear error (or problem line) naming the file at fault and what is wrong with it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { register as registerClassify } from '../../src/cli/classify.js';
import { register as registerInfo } from '../../src/cli/info.js';
import { register as registerValidate } from '../../src/cli/validate.js';
import {
  FormatError,
  describeFile,
  openParticles,
  readCs,
  readSpider,
  readStar,
  validateFile,
  writeMrc,
  writeSpider,
} from '../../src/io/index.js';
import { checkOutputDir } from '../../src/io/output-dir.js';
import { resolveParams } from '../../src/pipeline/params.js';
import { particleInput } from '../../src/pipeline/particles.js';
import { runCli, runCommand } from '../helpers/cli.js';
import { npy, tempDir, writeRawMrc } from './fixtures.js';

const dir = tempDir();
const at = (name: string) => join(dir, name);

/** A 16×16 stack of `n` images (values vary, so none is constant). */
async function stack(name: string, n = 4, fill?: (data: Float32Array) => void): Promise<string> {
  const data = Float32Array.from({ length: n * 256 }, (_, k) => Math.sin(k * 0.37));
  fill?.(data);
  await writeMrc(at(name), data, { nx: 16, ny: 16, nz: n, pixelSize: 2 });
  return at(name);
}

/** A RELION 3.0-style particle STAR: one loop; `rows` are the values after the image name. */
function star(name: string, columns: string[], rows: string[], prefix = ''): string {
  const text = `${prefix}data_particles\n\nloop_\n_rlnImageName\n${columns.map((c) => `_${c}\n`).join('')}${rows.join('\n')}\n`;
  writeFileSync(at(name), text);
  return at(name);
}

const CTF = [
  'rlnDefocusU',
  'rlnVoltage',
  'rlnSphericalAberration',
  'rlnAmplitudeContrast',
  'rlnImagePixelSize',
];

/** Rejects with a FormatError whose code is `code` and whose message names `file` and matches `what`. */
async function rejects(promise: Promise<unknown>, code: string, file: string, what: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'should have failed').toBeInstanceOf(FormatError);
  const e = err as FormatError;
  expect(e.code).toBe(code);
  expect(e.message.startsWith(`${file}: `), e.message).toBe(true);
  expect(e.message).toMatch(what);
}

/** validate's problem lines for `path` (at least one, else the file passed). */
async function problems(path: string): Promise<string> {
  const p = await validateFile(path);
  expect(p.length, `${path} passed validate`).toBeGreaterThan(0);
  return p.join('\n');
}

describe('a non-numeric cell in a numeric column (2)', () => {
  it('names the file, block, row and column instead of dropping the column', async () => {
    await stack('s2.mrcs');
    const rows = (bad: string) => [
      '1@s2.mrcs 10000 300 2.7 0.1 2',
      `2@s2.mrcs ${bad} 300 2.7 0.1 2`,
      '3@s2.mrcs 12000 300 2.7 0.1 2',
    ];
    for (const bad of ['N/A', '1,5', 'abc\0']) {
      const f = star('cell.star', CTF, rows(bad));
      await rejects(
        openParticles(f),
        'ERR_STAR_VALUE',
        'cell.star',
        /: line 11, data_particles, row 2: _rlnDefocusU is ".*", not a number/,
      );
      expect(await problems(f)).toMatch(/_rlnDefocusU/);
    }
    const origin = star('origin.star', ['rlnOriginXAngst', 'rlnOriginYAngst'], ['1@s2.mrcs 1,5 0']);
    await rejects(openParticles(origin), 'ERR_STAR_VALUE', 'origin.star', /_rlnOriginXAngst is "1,5"/);
  });

  it('gives the line of the file, past comments and blank lines between rows', async () => {
    await stack('s2.mrcs');
    const f = star('lines.star', CTF, [
      '1@s2.mrcs 10000 300 2.7 0.1 2',
      '# a comment',
      '',
      '2@s2.mrcs 11000 300 2.7 0.1 2',
      '3@s2.mrcs 12000 300 N/A 0.1 2',
    ]);
    // lines 1-9: data_, blank, loop_, 6 column names; the rows are on lines 10, 13 and 14
    await rejects(
      openParticles(f),
      'ERR_STAR_VALUE',
      'lines.star',
      /: line 14, data_particles, row 3: _rlnSphericalAberration is "N\/A", not a number/,
    );
    expect(await problems(f)).toMatch(/line 14, data_particles, row 3/);
  });

  it('quoted numbers are still numbers', async () => {
    const f = star('quoted.star', CTF, ["1@s2.mrcs '10000' 300 2.7 0.1 2"]);
    const set = await openParticles(f);
    await set.close();
    expect(set.ctf?.defocusU[0]).toBe(10000);
  });
});

describe('image indices (3)', () => {
  it('refuses numbers beyond 2³¹ and past the end of the stack, in openParticles and validate', async () => {
    await stack('s3.mrcs', 2);
    const wrap = star('wrap.star', [], ['4294967297@s3.mrcs']);
    await rejects(openParticles(wrap), 'ERR_INDEX_RANGE', 'wrap.star', /4294967297/);
    expect(await problems(wrap)).toMatch(/4294967297/);
    const past = star('past.star', [], ['3@s3.mrcs']);
    await rejects(openParticles(past), 'ERR_INDEX_RANGE', 'past.star', /image 3 of s3\.mrcs \(2 images\)/);
    const cs = at('idx.cs');
    const descr = "[('blob/path', '|S8'), ('blob/idx', '<i4')]";
    writeFileSync(
      cs,
      npy(
        descr,
        1,
        (dv, b) => {
          Buffer.from('s3.mrcs', 'latin1').forEach((c, k) => dv.setUint8(b + k, c));
          dv.setInt32(b + 8, -1, true);
        },
        12,
      ),
    );
    await rejects(openParticles(cs), 'ERR_INDEX_RANGE', 'idx.cs', /record 1: blob\/idx -1/);
  });
});

describe('pixel sizes (5, 14)', () => {
  it('0, NaN or negative in the metadata is an error naming the file, not 1 Å/px', async () => {
    await stack('s5.mrcs');
    for (const ps of ['0', 'nan', '-3']) {
      const f = star('ps.star', ['rlnImagePixelSize'], [`1@s5.mrcs ${ps}`, `2@s5.mrcs ${ps}`]);
      await rejects(openParticles(f), 'ERR_PIXEL_SIZE', 'ps.star', /particle 1 has pixel size .* Å/);
      expect(await problems(f)).toMatch(/pixel size/);
    }
  });

  it('a NaN pixel size in a .cs is reported by validate', async () => {
    const descr = "[('blob/path', '|S8'), ('blob/idx', '<u4'), ('blob/psize_A', '<f4')]";
    writeFileSync(
      at('ps.cs'),
      npy(
        descr,
        2,
        (dv, b, i) => {
          Buffer.from('s5.mrcs', 'latin1').forEach((c, k) => dv.setUint8(b + k, c));
          dv.setUint32(b + 8, i, true);
          dv.setFloat32(b + 12, NaN, true);
        },
        16,
      ),
    );
    expect(await problems(at('ps.cs'))).toMatch(/pixel size NaN/);
  });
});

describe('NaN and infinite images (6)', () => {
  it('validate reports them, in a stack and in the stacks a STAR references (naming the stack)', async () => {
    const nan = await stack('nan.mrcs', 3, (d) => d.fill(NaN));
    expect(await problems(nan)).toMatch(/every image holds NaN or infinite values/);
    await stack('inf.mrcs', 3, (d) => (d[256 + 5] = Infinity));
    expect(await problems(at('inf.mrcs'))).toMatch(/1 of 3 images \(first: image 2\)/);
    const f = star('nanref.star', ['rlnImagePixelSize'], ['1@inf.mrcs 2']);
    expect(await problems(f)).toMatch(/^inf\.mrcs: 1 of 3 images/);
    const data = Float32Array.from({ length: 2 * 256 }, (_, k) => (k === 300 ? NaN : k));
    await writeSpider(at('nan.spi'), data, { nx: 16, ny: 16, stack: true });
    expect(await problems(at('nan.spi'))).toMatch(/first: image 2/);
  });
});

describe('FIFOs, devices and directories (7, 16)', () => {
  const fifo = at('pipe.star');
  execFileSync('mkfifo', [fifo]);

  it('are refused before anything opens them (no hang)', async () => {
    await rejects(
      readStar(fifo),
      'ERR_NOT_A_FILE',
      'pipe.star',
      /is a FIFO \(named pipe\), not a regular file/,
    );
    await rejects(openParticles(fifo), 'ERR_NOT_A_FILE', 'pipe.star', /FIFO/);
    await rejects(describeFile(fifo), 'ERR_NOT_A_FILE', 'pipe.star', /FIFO/);
    expect(await validateFile(fifo)).toEqual(['is a FIFO (named pipe), not a regular file']);
    await rejects(describeFile('/dev/zero'), 'ERR_NOT_A_FILE', 'zero', /character device/);
    await rejects(describeFile(dir), 'ERR_NOT_A_FILE', basename(dir), /is a directory/);
  }, 20_000);

  it('info and validate say what the path is (in the CLI, exit 1)', async () => {
    const info = await runCommand(registerInfo, 'info', dir);
    expect(info.code).toBe(1);
    expect(info.stderr).toMatch(/^ackmeans: .*: is a directory, not a regular file\n$/);
    const v = await runCommand(registerValidate, 'validate', fifo);
    expect(v.code).toBe(1);
    expect(v.stdout).toBe('pipe.star: is a FIFO (named pipe), not a regular file\n');
  }, 20_000);

  it('a stack reference that is a directory is called a directory, not missing', async () => {
    execFileSync('mkdir', ['-p', at('folder.mrcs')]);
    const f = star('dirref.star', [], ['1@folder.mrcs']);
    await rejects(openParticles(f), 'ERR_NOT_A_FILE', 'folder.mrcs', /is a directory/);
  });
});

describe('output folders (8)', () => {
  it('refuses /proc, /sys and paths through a file', async () => {
    for (const bad of ['/proc/x', '/proc/self/fd/ackmeans', '/sys/kernel/x'])
      await expect(checkOutputDir(bad)).rejects.toThrow(/inside \/(proc|sys), a kernel file system/);
    writeFileSync(at('plain'), 'x');
    await expect(checkOutputDir(join(at('plain'), 'out'))).rejects.toThrow(/plain is not a folder/);
    await expect(checkOutputDir(at('new/out'))).resolves.toBeUndefined();
  });
});

describe('empty inputs (9, 14)', () => {
  it('a particle loop with no rows, a .cs with no records, a stack with no images', async () => {
    const f = star('empty.star', ['rlnImagePixelSize'], []);
    await rejects(openParticles(f), 'ERR_NO_PARTICLES', 'empty.star', /data_particles has no rows/);
    expect(await problems(f)).toMatch(/no rows/);
    writeRawMrc(at('empty.mrcs'), { nx: 16, ny: 16, nz: 0, mode: 2 });
    await rejects(openParticles(at('empty.mrcs')), 'ERR_NO_PARTICLES', 'empty.mrcs', /no images \(nz = 0\)/);
    writeFileSync(
      at('empty.cs'),
      npy("[('blob/path', '|S8'), ('blob/idx', '<u4')]", 0, () => {}, 12),
    );
    await rejects(openParticles(at('empty.cs')), 'ERR_NO_PARTICLES', 'empty.cs', /no records/);
  });
});

describe('record and image counts (10)', () => {
  it('.cs: a negative or fractional record count', async () => {
    const good = npy("[('blob/idx', '<u4')]", 3, () => {}, 4);
    for (const n of ['-5', '2.5']) {
      const text = Buffer.from(good).toString('latin1').replace("'shape': (3,)", `'shape': (${n},)`);
      writeFileSync(
        at('count.cs'),
        Buffer.from(text.replace(/ {3}\n/, `${' '.repeat(3 - n.length + 1)}\n`), 'latin1'),
      );
      await rejects(readCs(at('count.cs')), 'ERR_CS_FORMAT', 'count.cs', new RegExp(`gives ${n} records`));
    }
  });

  it('SPIDER: a negative, NaN or fractional image count', async () => {
    await writeSpider(at('count.spi'), new Float32Array(2 * 64).fill(1), { nx: 8, ny: 8, stack: true });
    const bytes = readFileSync(at('count.spi'));
    for (const n of [-5, NaN, 2.5]) {
      const copy = Buffer.from(bytes);
      new DataView(copy.buffer, copy.byteOffset).setFloat32(100, n, true);
      writeFileSync(at('bad.spi'), copy);
      await rejects(readSpider(at('bad.spi')), 'ERR_SPIDER_HEADER', 'bad.spi', /images \(word 26, MAXIM\)/);
    }
  });
});

describe('a STAR with a UTF-8 byte-order mark (12)', () => {
  it('is read like one without', async () => {
    await stack('s12.mrcs');
    const f = star('bom.star', ['rlnImagePixelSize'], ['1@s12.mrcs 2', '2@s12.mrcs 2'], '\ufeff');
    const set = await openParticles(f);
    await set.close();
    expect(set.count).toBe(2);
    expect(await validateFile(f)).toEqual([]);
  });
});

describe('validate names the file at fault (13)', () => {
  it('a truncated stack behind a STAR is named, not the STAR', async () => {
    writeRawMrc(at('cut.mrcs'), { nx: 16, ny: 16, nz: 4, mode: 2, extra: -100 });
    const f = star('cut.star', ['rlnImagePixelSize'], ['1@cut.mrcs 2']);
    expect(await problems(f)).toMatch(/^cut\.mrcs: file is truncated/);
  });
});

describe('clear messages for the classifier (14, 19)', () => {
  it('4×4 images name the file and the minimum size', async () => {
    await writeMrc(at('tiny.mrcs'), Float32Array.from({ length: 64 }, Math.sin), {
      nx: 4,
      ny: 4,
      nz: 4,
      pixelSize: 1,
    });
    const set = await openParticles(at('tiny.mrcs'));
    await set.close();
    expect(() => particleInput(set)).toThrow(
      /tiny\.mrcs: images are 4×4 pixels; classification needs at least 8×8/,
    );
  });

  it('a shift step that multiplies the work is refused with the reason', () => {
    const input = { count: 100, box: 64, pixelSize: 2, hasCtf: false };
    expect(() => resolveParams({ k: 4, shiftStep: 0.05 }, input)).toThrow(
      /shiftStep \(0\.05 .*400× as many shifts/,
    );
    expect(resolveParams({ k: 4, shiftStep: 0.5 }, input).shiftStep).toBe(0.5);
  });
});

describe('the command line (16, 17)', () => {
  it('option-parser errors are one ackmeans: line, exit 2', async () => {
    for (const args of [['classify', '--bogus'], ['info'], ['classify', 'x.star', '-k', 'many']]) {
      const r = await runCli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^ackmeans: [^\n]+\n$/);
    }
  }, 180_000);

  it('classify on a directory or a FIFO says what it is', async () => {
    for (const [input, what] of [
      [dir, 'is a directory'],
      [at('pipe.star'), 'is a FIFO'],
    ]) {
      const r = await runCommand(registerClassify, 'classify', input, '-k', '2', '-o', at('never'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^ackmeans: [^\\n]*${what}[^\\n]*\\n$`));
    }
  }, 60_000);
});
