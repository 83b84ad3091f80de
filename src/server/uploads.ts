/**
 * Uploaded inputs: each upload is a folder `<work-dir>/uploads/<id>/` holding one or more files
 * (a `.mrcs` stack, or a `.star` file with the stacks it names). A file is streamed to disk under
 * a temporary name, counted as it arrives, and renamed into place only when complete and within
 * the size limit; otherwise it is deleted and the request fails with 413.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError } from './errors.js';

/** File names an upload may have: plain names with an input extension. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Extensions of the files an input can be made of. */
export const INPUT_EXTENSIONS = ['.star', '.cs', '.mrcs', '.mrc'] as const;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A stored upload file. */
export interface UploadedFile {
  id: string;
  name: string;
  bytes: number;
}

function checkName(name: string): void {
  if (!NAME.test(name) || !INPUT_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext)))
    throw new HttpError(
      400,
      'ERR_BAD_REQUEST',
      `upload name "${name}" must be a plain file name ending in ${INPUT_EXTENSIONS.join(', ')}`,
    );
}

/** The uploads folder of a server. */
export class Uploads {
  constructor(
    /** The folder holding all uploads. */
    readonly dir: string,
    /** Largest accepted file, in bytes. */
    readonly maxBytes: number,
  ) {}

  private async folder(id: string): Promise<string> {
    const path = join(this.dir, id);
    if (!ID.test(id) || !(await stat(path).catch(() => undefined))?.isDirectory())
      throw new HttpError(404, 'ERR_NOT_FOUND', `upload ${id} not found`);
    return path;
  }

  /**
   * Streams `body` to `<id>/<name>` (a new upload when `id` is undefined). `declaredBytes` (the
   * Content-Length) is checked first, so an oversized request fails before anything is written.
   */
  async save(body: Readable, name: string, id?: string, declaredBytes?: number): Promise<UploadedFile> {
    checkName(name);
    const tooLarge = () =>
      new HttpError(413, 'ERR_TOO_LARGE', `upload larger than the limit of ${this.maxBytes} bytes`);
    if (declaredBytes !== undefined && declaredBytes > this.maxBytes) throw tooLarge();
    let folder: string;
    if (id === undefined) {
      id = randomUUID();
      folder = join(this.dir, id);
      await mkdir(folder, { recursive: true });
    } else {
      folder = await this.folder(id);
    }
    const tmp = join(folder, `.${name}.${randomUUID()}.part`);
    let bytes = 0;
    const limit = this.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(bytes > limit ? tooLarge() : null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, join(folder, name));
    } catch (err) {
      await rm(tmp, { force: true });
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'ERR_UPLOAD', `upload failed: ${(err as Error).message}`);
    }
    return { id, name, bytes };
  }

  /**
   * Real path of an uploaded file: `name`, or the only input file of the upload when `name` is
   * omitted (a `.star` file when the upload holds a STAR file and its stacks).
   */
  async resolve(id: string, name?: string): Promise<string> {
    const folder = await this.folder(id);
    if (name === undefined) {
      const files = (await readdir(folder)).filter((f) => !f.startsWith('.'));
      const stars = files.filter((f) => f.endsWith('.star') || f.endsWith('.cs'));
      const pick = stars.length === 1 ? stars : files;
      if (pick.length !== 1)
        throw new HttpError(400, 'ERR_BAD_REQUEST', `upload ${id} holds ${files.length} files: name one`);
      name = pick[0];
    }
    checkName(name);
    try {
      return await realpath(join(folder, name));
    } catch {
      throw new HttpError(404, 'ERR_NOT_FOUND', `file ${name} not found in upload ${id}`);
    }
  }
}
