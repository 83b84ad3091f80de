/**
 * Reads what the server checks before queueing an input: particle count and box (from the
 * headers, through io's `openParticles`, which also checks that every referenced stack exists
 * and holds the images named), and the real paths of the stacks, for the data-root check.
 */
import { realpath } from 'node:fs/promises';
import { openParticles } from '../io/index.js';
import type { InputFacts } from './app.js';

/** Count, box, pixel size, CTF presence and referenced stack files of a .star, .cs or .mrcs input. */
export async function inspectInput(path: string): Promise<InputFacts> {
  const set = await openParticles(path);
  try {
    const files = await Promise.all(set.stacks.map((s) => realpath(s)));
    return {
      particles: set.count,
      box: set.box,
      pixelSize: set.pixelSize ?? 1,
      hasCtf: set.ctf !== undefined,
      files,
    };
  } finally {
    await set.close();
  }
}
