/**
 * What kind of file a path holds, from its extension and, when that is ambiguous, its content.
 */
import { extname } from 'node:path';
import { isSpiderFile } from './spider.js';
import { imageFormat } from './stack-open.js';

/** The kinds of file `ackmeans info` / `validate` understand. */
export type FileKind = 'star' | 'cs' | 'mrc' | 'spider' | 'spider-doc';

/** The kind of `path` (`.doc`, and `.dat` files that are not SPIDER images, are SPIDER documents). */
export async function fileKind(path: string): Promise<FileKind> {
  const ext = extname(path).toLowerCase();
  if (ext === '.star') return 'star';
  if (ext === '.cs') return 'cs';
  if (ext === '.doc') return 'spider-doc';
  if (ext === '.dat') return (await isSpiderFile(path)) ? 'spider' : 'spider-doc';
  return imageFormat(path);
}
