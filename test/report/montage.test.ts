import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { montagePng, montageSvg, tilePng } from '../../src/report/montage.js';
import { discAverages } from './fixtures.js';
import { decodePng } from './png.js';

describe('montage', () => {
  it('stretches each tile to the full grey range; a constant tile is mid-grey', () => {
    const img = Float32Array.from({ length: 16 * 16 }, (_, p) => 1000 + (p % 16));
    const png = PNG.sync.read(tilePng(img, 16));
    expect(png.data[0]).toBe(0);
    expect(png.data[4 * 15]).toBe(255);
    const flat = PNG.sync.read(tilePng(new Float32Array(64).fill(3), 8));
    expect(flat.data[0]).toBe(128);
  });

  it('lays the classes out in a grid with their number and size on each tile', () => {
    const sizes = Int32Array.from([10, 0, 7, 3, 1]);
    const svg = montageSvg(discAverages(5, 32), 32, sizes, { columns: 3, tile: 100 });
    for (const label of ['>1<', '>5<', 'n=10', 'n=0', 'n=7']) expect(svg).toContain(label);
    expect(svg.match(/<image /g)).toHaveLength(4); // the empty class is hatched, not drawn
    const png = decodePng(montagePng(discAverages(5, 32), 32, sizes, { columns: 3, tile: 100 }));
    expect(png.width).toBe(3 * 104 + 4);
    expect(png.height).toBe(2 * 104 + 4);
    expect(png.colours).toBeGreaterThan(50);
  });

  it('rejects averages that do not match k×box×box', () => {
    expect(() => montageSvg(new Float32Array(10), 4, [1])).toThrow(
      /classAverages has 10 values, expected 1 classes × 4×4 = 16/,
    );
    expect(() => montageSvg(new Float64Array(16) as unknown as Float32Array, 4, [1])).toThrow(
      /classAverages must be a Float32Array/,
    );
  });
});
