/**
 * `openStack`: a lazy {@link ImageStack} for any image file this package reads (MRC or SPIDER).
 */
import { extname } from 'node:path';
import { openMrcStack, type MrcReadOptions } from './mrc.js';
import { isSpiderFile, openSpiderStack } from './spider.js';
import type { ImageStack } from './stack.js';

const MRC_EXTENSIONS = ['.mrc', '.mrcs', '.map', '.st', '.ali', '.rec'];
const SPIDER_EXTENSIONS = ['.spi', '.spider', '.stk', '.dat', '.xmp'];

/** The image format of `path`: from its extension, else from its first 1024 bytes. */
export async function imageFormat(path: string): Promise<'mrc' | 'spider'> {
  const ext = extname(path).toLowerCase();
  if (MRC_EXTENSIONS.includes(ext)) return 'mrc';
  if (SPIDER_EXTENSIONS.includes(ext)) return 'spider';
  return (await isSpiderFile(path)) ? 'spider' : 'mrc';
}

/**
 * Opens an image stack lazily: MRC (`.mrcs`, `.mrc`, `.map`…; a volume is its nz sections) or
 * SPIDER (`.spi`, `.stk`, `.dat`…: a stack, or one image/volume). Images are read on demand
 * with positioned reads into arrays you may supply; nothing else is loaded.
 */
export async function openStack(path: string, options: MrcReadOptions = {}): Promise<ImageStack> {
  return (await imageFormat(path)) === 'spider' ? openSpiderStack(path) : openMrcStack(path, options);
}
