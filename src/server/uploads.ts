/**
 * Uploaded inputs: each upload is a folder `<work-dir>/uploads/<id>/` holding one or more files
 * (a `.mrcs` stack, or a `.star` file with the stacks it names). A file is streamed to disk under
 * a temporary name, counted as it arrives, and linked into place only when complete and within
 * the limits; otherwise it is deleted (with the folder of a new upload) and the request fails.
 *
 * Files are write-once: a second upload of the same name into the same upload is refused (409),
 * so a file's content never changes once stored. A job does not use the upload folder itself:
 * {@link Uploads.stage} hard-links the upload's files into the job's own folder before they are
 * checked, so what the job runs on is exactly what was checked, even if the upload is deleted.
 *
 * Limits: `maxBytes` per file (413) and `quotaBytes` for all uploads together (507); a disk that
 * runs out of space is a 507 too.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, realpath, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError, isDiskFull } from './errors.js';

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
      `upload name "${name}" must be a plain file name (letters, digits, . _ -) ending in ${INPUT_EXTENSIONS.join(', ')}`,
    );
}

/** Total size of the files below `dir`. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path);
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** The uploads folder of a server. */
export class Uploads {
  /** Bytes stored or being received (reserved as they arrive). */
  private used: number | undefined;

  constructor(
    /** The folder holding all uploads. */
    readonly dir: string,
    /** Largest accepted file, in bytes. */
    readonly maxBytes: number,
    /** Largest total of all uploads, in bytes. */
    readonly quotaBytes = Number.MAX_SAFE_INTEGER,
  ) {}

  /** Bytes the stored uploads take (counted once from disk, then kept up to date). */
  async usedBytes(): Promise<number> {
    this.used ??= await folderBytes(this.dir);
    return this.used;
  }

  private async folder(id: string): Promise<string> {
    const path = join(this.dir, id);
    if (!ID.test(id) || !(await stat(path).catch(() => undefined))?.isDirectory())
      throw new HttpError(404, 'ERR_NOT_FOUND', `upload ${id} not found`);
    return path;
  }

  private quotaError(): HttpError {
    return new HttpError(
      507,
      'ERR_QUOTA',
      `the server's upload space (${this.quotaBytes} bytes) is full: delete uploads you no longer need`,
    );
  }

  /**
   * Streams `body` to `<id>/<name>` (a new upload when `id` is undefined). `declaredBytes` (the
   * Content-Length) is checked first, so an oversized request fails before anything is written.
   */
  async save(body: Readable, name: string, id?: string, declaredBytes?: number): Promise<UploadedFile> {
    checkName(name);
    const tooLarge = () =>
      new HttpError(413, 'ERR_TOO_LARGE', `upload larger than this server's limit of ${this.maxBytes} bytes`);
    if (declaredBytes !== undefined && declaredBytes > this.maxBytes) throw tooLarge();
    let folder: string;
    let created = false;
    if (id !== undefined) {
      folder = await this.folder(id);
      if (await stat(join(folder, name)).catch(() => undefined)) throw this.exists(id, name);
    }
    await this.usedBytes();
    if (declaredBytes !== undefined && this.used! + declaredBytes > this.quotaBytes) throw this.quotaError();
    if (id === undefined) {
      id = randomUUID();
      folder = join(this.dir, id);
      await mkdir(folder, { recursive: true }).catch((err: unknown) => {
        throw isDiskFull(err) ? this.diskFull() : err;
      });
      created = true;
    } else folder = join(this.dir, id);
    const tmp = join(folder, `.${name}.${randomUUID()}.part`);
    let bytes = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        bytes += chunk.length;
        this.used! += chunk.length;
        if (bytes > this.maxBytes) return done(tooLarge());
        if (this.used! > this.quotaBytes) return done(this.quotaError());
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(tmp, { flags: 'wx' }));
      // link() never replaces: a file stored under this name stays as it is.
      await link(tmp, join(folder, name)).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).code === 'EEXIST' ? this.exists(id, name) : err;
      });
      await unlink(tmp);
    } catch (err) {
      this.used! -= bytes;
      await rm(created ? folder : tmp, { recursive: true, force: true });
      if (err instanceof HttpError) throw err;
      if (isDiskFull(err)) throw this.diskFull();
      throw new HttpError(400, 'ERR_UPLOAD', `upload failed: ${(err as Error).message}`);
    }
    return { id, name, bytes };
  }

  private diskFull(): HttpError {
    return new HttpError(507, 'ERR_NO_SPACE', "the server's disk is full: the upload was not stored");
  }

  private exists(id: string, name: string): HttpError {
    return new HttpError(
      409,
      'ERR_UPLOAD_EXISTS',
      `upload ${id} already has a file ${name}; stored files never change: upload under another name or into a new upload`,
    );
  }

  /** Deletes an upload (jobs started from it keep their own links to its files). */
  async remove(id: string): Promise<void> {
    const folder = await this.folder(id);
    const bytes = await folderBytes(folder);
    await rm(folder, { recursive: true, force: true });
    if (this.used !== undefined) this.used = Math.max(0, this.used - bytes);
  }

  /**
   * The file of an upload a job runs on: `name`, or the only input file of the upload when
   * `name` is omitted (a `.star`/`.cs` file when the upload holds one and its stacks).
   */
  async pick(id: string, name?: string): Promise<string> {
    const folder = await this.folder(id);
    if (name === undefined) {
      const files = (await readdir(folder)).filter((f) => !f.startsWith('.'));
      const stars = files.filter((f) => f.endsWith('.star') || f.endsWith('.cs'));
      const pick = stars.length === 1 ? stars : files;
      if (pick.length !== 1)
        throw new HttpError(
          400,
          'ERR_BAD_REQUEST',
          `upload ${id} holds ${files.length} files: say which one is the input (input.name)`,
        );
      name = pick[0];
    }
    checkName(name);
    if (!(await stat(join(folder, name)).catch(() => undefined))?.isFile())
      throw new HttpError(404, 'ERR_NOT_FOUND', `file ${name} not found in upload ${id}`);
    return name;
  }

  /**
   * Hard-links (copies, across file systems) every file of upload `id` into `dest` and returns
   * the real path of the input file `name` there. The job then owns what it was checked on.
   */
  async stage(id: string, name: string, dest: string): Promise<string> {
    const folder = await this.folder(id);
    await mkdir(dest, { recursive: true });
    for (const file of await readdir(folder)) {
      if (file.startsWith('.')) continue;
      await link(join(folder, file), join(dest, file)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'EXDEV')
          return copyFile(join(folder, file), join(dest, file));
        throw err;
      });
    }
    return realpath(join(dest, name));
  }
}
