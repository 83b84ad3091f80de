/** Decodes a PNG (file or bytes) and says how many distinct colours it has. */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export function decodePng(source: string | Buffer): { width: number; height: number; colours: number } {
  const png = PNG.sync.read(typeof source === 'string' ? readFileSync(source) : source);
  const seen = new Set<number>();
  for (let p = 0; p < png.width * png.height && seen.size < 1000; p++) seen.add(png.data.readUInt32BE(4 * p));
  return { width: png.width, height: png.height, colours: seen.size };
}
