/** Minimal float32 (mode 2) MRC reader for the shared test data. */
import { readFileSync } from 'node:fs';

export function readMrcFloat32(path: string): { nx: number; ny: number; nz: number; data: Float32Array } {
  const buf = readFileSync(path);
  const nx = buf.readInt32LE(0);
  const ny = buf.readInt32LE(4);
  const nz = buf.readInt32LE(8);
  const mode = buf.readInt32LE(12);
  if (mode !== 2) throw new Error(`${path}: mode ${mode}, only mode 2 is supported here`);
  const start = 1024 + buf.readInt32LE(92);
  const data = new Float32Array(nx * ny * nz);
  for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { nx, ny, nz, data };
}
