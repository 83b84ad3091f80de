/**
 * Images given either as one Float32Array (n·box² values) or as an {@link ImageProvider} that
 * reads them in tiles (so stacks larger than memory can be aligned and averaged).
 */
import { AckmeansError, checkFloat32Array, checkInt } from '../errors.js';
import type { Progress } from '../job.js';

/** A source of n images of box² values each, read in consecutive blocks. */
export interface ImageProvider {
  /** Number of images. */
  readonly n: number;
  /** Images start..start+count−1 as one Float32Array of count·box² values, row-major. */
  read(start: number, count: number): Promise<Float32Array>;
  /**
   * Optional: the same images written into `out` (at least count·box² values); returns the view
   * of its first count·box² values. {@link imageBlocks} then reads into two reused buffers.
   */
  readInto?(start: number, count: number, out: Float32Array): Promise<Float32Array>;
  /**
   * Optional: images `items` (ascending, each in 0..n−1) as items.length·box² values in the order
   * of items, in `out` when given (at least that many values; the view of its start is returned).
   * For a few scattered images it spares reading the blocks around them (the scale engine's class
   * sum updates, src/pipeline/scale.ts).
   */
  gather?(items: Int32Array, out?: Float32Array): Promise<Float32Array>;
  /** Optional: the largest |value| of all n images (NaNs ignored), when known without reading them. */
  readonly maxAbs?: number;
}

/**
 * Large typed arrays kept for reuse (at most `keep`, the most recently given back): a fresh large
 * array is page faults on first touch, which cost more than reading and decoding the pixels in
 * it (measured in perf).
 */
export class SpareArrays<T extends Float32Array | Uint16Array> {
  private readonly spare: T[] = [];
  constructor(
    private readonly make: (length: number) => T,
    private readonly keep = 2,
  ) {}
  /** A kept array of at least `length` values, or a new one of exactly `length`. */
  take(length: number): T {
    const i = this.spare.findIndex((b) => b.length >= length);
    return i >= 0 ? this.spare.splice(i, 1)[0] : this.make(length);
  }
  /** Keeps `array` for a later take (the caller no longer uses it). */
  giveBack(array: T): void {
    this.spare.push(array);
    if (this.spare.length > this.keep) this.spare.shift();
  }
}

/** Block buffers kept between {@link imageBlocks} calls. */
const blockBuffers = new SpareArrays<Float32Array>((length) => new Float32Array(length));

/** Images in memory or from a provider. */
export type Images = Float32Array | ImageProvider;

/** Number of images in `images` of box² values each; throws a RangeError/TypeError naming `name`. */
export function imageCount(name: string, images: Images, box: number): number {
  if (images instanceof Float32Array) {
    const dim = box * box;
    if (images.length === 0 || images.length % dim !== 0)
      throw new RangeError(`${name}.length (${images.length}) must be a positive multiple of box² (${dim})`);
    return images.length / dim;
  }
  if (typeof images !== 'object' || images === null || typeof images.read !== 'function')
    throw new TypeError(`${name} must be a Float32Array or an ImageProvider { n, read(start, count) }`);
  return checkInt(`${name}.n`, images.n, 1);
}

/** Images per block when reading from a provider: about 64 MB of pixels. */
export function blockSize(box: number): number {
  return Math.max(64, Math.floor((64 * 2 ** 20) / (4 * box * box)));
}

/**
 * The images in consecutive blocks `{ start, images }`: one block (the array itself) for a
 * Float32Array; blocks of `block` images for a provider, the next block read while the caller
 * works on the current one. A block's images are valid until the caller asks for the next
 * block (a provider with `readInto` is read into two buffers taken in turn).
 */
export async function* imageBlocks(
  images: Images,
  box: number,
  block: number = blockSize(box),
): AsyncGenerator<{ start: number; count: number; images: Float32Array }> {
  const dim = box * box;
  if (images instanceof Float32Array) {
    yield { start: 0, count: images.length / dim, images };
    return;
  }
  const n = images.n;
  const provider = images;
  const slots: Float32Array[] = [];
  const read = async (start: number, count: number): Promise<Float32Array> => {
    let got: Float32Array;
    if (provider.readInto) {
      const slot = Math.floor(start / block) % 2;
      slots[slot] ??= blockBuffers.take(Math.min(block, n) * dim);
      got = await provider.readInto(start, count, slots[slot]);
    } else got = await provider.read(start, count);
    const data = checkFloat32Array('ImageProvider.read() result', got);
    if (data.length !== count * dim)
      throw new AckmeansError(
        'ERR_PROVIDER',
        `ImageProvider.read(${start}, ${count}) returned ${data.length} values, expected ${count * dim} (count·box²)`,
      );
    return data;
  };
  try {
    for await (const b of readAhead(n, block, read)) yield { start: b.start, count: b.count, images: b.data };
  } finally {
    for (const b of slots) if (b) blockBuffers.giveBack(b);
  }
}

/**
 * Blocks start = 0, block, 2·block, … (< n) of `read(start, count)`, in order, each next block read
 * while the caller works on the current one; when the generator ends, even early, no read is
 * left running (so buffers a read writes into can be given back).
 */
export async function* readAhead<T>(
  n: number,
  block: number,
  read: (start: number, count: number) => Promise<T>,
): AsyncGenerator<{ start: number; count: number; data: T }> {
  const prefetch = (start: number): Promise<T> => {
    const p = read(start, Math.min(block, n - start));
    p.catch(() => undefined); // a read the caller never awaits (it stopped early) must not be an unhandled rejection
    return p;
  };
  let next = prefetch(0);
  try {
    for (let start = 0; start < n; start += block) {
      const data = await next;
      if (start + block < n) next = prefetch(start + block);
      yield { start, count: Math.min(block, n - start), data };
    }
  } finally {
    await next.catch(() => undefined);
  }
}

/** A progress callback for one block that reports progress over all n images. */
export function blockProgress(
  onProgress: ((p: Progress) => void) | undefined,
  start: number,
  n: number,
): ((p: Progress) => void) | undefined {
  return (
    onProgress && ((p) => onProgress({ done: start + p.done, total: n, fraction: (start + p.done) / n }))
  );
}
