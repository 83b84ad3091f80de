/**
 * `openStack`: a lazy {@link ImageStack} for any stack file this package reads.
 */
import { openMrcStack, type MrcReadOptions } from './mrc.js';
import type { ImageStack } from './stack.js';

/**
 * Opens an image stack lazily: MRC (`.mrcs`, `.mrc`, `.map`, `.st`; a volume is its nz
 * sections). Images are read on demand with positioned reads; nothing else is loaded.
 */
export async function openStack(path: string, options: MrcReadOptions = {}): Promise<ImageStack> {
  return openMrcStack(path, options);
}
