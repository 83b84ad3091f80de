/**
 * A bounded pool of open stacks for particle sets that span thousands of files: at most
 * `limit` stay open; idle ones are closed least-recently-used first, busy ones never.
 */
import { openStack } from './stack-open.js';
import type { ImageStack } from './stack.js';

interface Entry {
  stack: Promise<ImageStack>;
  busy: number;
  lastUse: number;
}

export class StackPool {
  private open = new Map<number, Entry>();
  private clock = 0;

  constructor(
    private readonly paths: string[],
    private readonly limit = 32,
    private readonly permissive = false,
  ) {}

  /** Runs `fn` with stack `index` open. */
  async use<T>(index: number, fn: (stack: ImageStack) => Promise<T>): Promise<T> {
    let entry = this.open.get(index);
    if (!entry) {
      entry = { stack: openStack(this.paths[index], { permissive: this.permissive }), busy: 0, lastUse: 0 };
      this.open.set(index, entry);
      await this.evict();
    }
    entry.busy++;
    entry.lastUse = ++this.clock;
    try {
      return await fn(await entry.stack);
    } finally {
      entry.busy--;
    }
  }

  private async evict(): Promise<void> {
    while (this.open.size > this.limit) {
      let victim: number | undefined;
      let oldest = Infinity;
      for (const [i, e] of this.open)
        if (e.busy === 0 && e.lastUse < oldest && e.lastUse > 0) {
          oldest = e.lastUse;
          victim = i;
        }
      if (victim === undefined) return;
      const e = this.open.get(victim)!;
      this.open.delete(victim);
      await (await e.stack).close();
    }
  }

  /** Closes every open stack. */
  async close(): Promise<void> {
    const entries = [...this.open.values()];
    this.open.clear();
    await Promise.all(entries.map(async (e) => (await e.stack.catch(() => undefined))?.close()));
  }
}
