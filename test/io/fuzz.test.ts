/**
 * Fuzzing the readers (issue 13): random truncations and byte flips of valid MRC, STAR, .cs and
 * SPIDER files, with a fixed seed. Every outcome must be a clean FormatError naming the mutated
 * file, or a read — never a raw JavaScript error or a hang — and a truncated binary file must
 * never read as if it were whole.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AckmeansError } from '../../src/errors.js';
import { readCs, readMrc, readSpider, readStar, writeMrc, writeSpider } from '../../src/io/index.js';
import { csMetadata } from '../../src/io/particles-cs.js';
import { starMetadata } from '../../src/io/particles-star.js';
import { rng } from '../helpers/random.js';
import { npy, tempDir } from './fixtures.js';

const dir = tempDir();
const MUTATIONS = 100; // per format

const STAR = `# version 30001

data_optics

loop_
_rlnOpticsGroup #1
_rlnImagePixelSize #2
_rlnVoltage #3
_rlnSphericalAberration #4
_rlnAmplitudeContrast #5
1 1.5 300 2.7 0.1

data_particles

loop_
_rlnImageName #1
_rlnDefocusU #2
_rlnOriginXAngst #3
_rlnOpticsGroup #4
000001@Extract/stack.mrcs 10000.000000 1.5 1
000002@Extract/stack.mrcs 12000.500000 -0.75 1
'000003@Extract/odd name.mrcs' 9000 0 1
`;

/** The valid file of each format and how to read it (and its metadata, for STAR and .cs). */
const FORMATS: Record<
  string,
  { name: string; make: () => Promise<void>; read: (path: string) => Promise<unknown> }
> = {
  mrc: {
    name: 'f.mrcs',
    make: () =>
      writeMrc(join(dir, 'f.mrcs'), Float32Array.from({ length: 3 * 64 }, Math.sin), {
        nx: 8,
        ny: 8,
        nz: 3,
        pixelSize: 2,
      }),
    read: (p) => readMrc(p),
  },
  spider: {
    name: 'f.spi',
    make: () =>
      writeSpider(join(dir, 'f.spi'), Float32Array.from({ length: 3 * 64 }, Math.cos), {
        nx: 8,
        ny: 8,
        stack: true,
        pixelSize: 2,
      }),
    read: (p) => readSpider(p),
  },
  star: {
    name: 'f.star',
    make: async () => writeFileSync(join(dir, 'f.star'), STAR),
    read: async (p) => starMetadata(await readStar(p), p, dirname(p)),
  },
  cs: {
    name: 'f.cs',
    make: async () =>
      writeFileSync(
        join(dir, 'f.cs'),
        npy(
          "[('uid', '<u8'), ('blob/path', '|S12'), ('blob/idx', '<u4'), ('blob/psize_A', '<f4'), ('ctf/df1_A', '<f4')]",
          4,
          (dv, b, i) => {
            dv.setBigUint64(b, BigInt(1000 + i), true);
            Buffer.from('>stack.mrcs', 'latin1').forEach((c, k) => dv.setUint8(b + 8 + k, c));
            dv.setUint32(b + 20, i, true);
            dv.setFloat32(b + 24, 1.5, true);
            dv.setFloat32(b + 28, 10000 + i, true);
          },
          32,
        ),
      ),
    read: async (p) => csMetadata(await readCs(p), dirname(p)),
  },
};

describe.each(Object.keys(FORMATS))('fuzzing the %s reader', (format) => {
  it(`${MUTATIONS} truncations and byte flips: a read or one FormatError naming the file`, async () => {
    const f = FORMATS[format];
    await f.make();
    const valid = readFileSync(join(dir, f.name));
    await expect(f.read(join(dir, f.name))).resolves.toBeDefined(); // the unmutated file reads
    const random = rng(13 + format.length);
    const outcomes = { read: 0, refused: 0 };
    for (let m = 0; m < MUTATIONS; m++) {
      const truncate = m % 2 === 0;
      let bytes: Uint8Array;
      if (truncate) bytes = valid.subarray(0, Math.floor(random() * valid.length));
      else {
        bytes = Uint8Array.from(valid);
        const flips = 1 + Math.floor(random() * 4);
        for (let k = 0; k < flips; k++)
          bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      const path = join(dir, `m${m}-${f.name}`);
      writeFileSync(path, bytes);
      const what = `${format} mutation ${m} (${truncate ? `cut to ${bytes.length} bytes` : 'byte flips'})`;
      try {
        await f.read(path);
        outcomes.read++;
        // a binary file cut short must never read as if it were whole
        if (truncate && format !== 'star') expect.fail(`${what} read without error`);
      } catch (err) {
        expect(err, `${what}: ${String(err)}`).toBeInstanceOf(AckmeansError);
        const e = err as AckmeansError;
        expect(e.file, what).toBe(path);
        expect(e.message.startsWith(`${basename(path)}: `), `${what}: ${e.message}`).toBe(true);
        outcomes.refused++;
      }
    }
    expect(outcomes.read + outcomes.refused).toBe(MUTATIONS);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
