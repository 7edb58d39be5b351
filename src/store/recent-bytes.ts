// The bytes of chunks this process handled lately, bounded by their total size, newest kept.
//
// Two patterns make the same chunk file be opened and read again moments later:
// - a version's manifest (a few dozen bytes per chunk) is read at every open, every GC and
//   when a client moves an upload into its cache;
// - a chunk a client serves to one full pod is asked for by the next target pod soon after.
// Each such read is four file-system calls (open, fstat, read, close) through libuv's thread
// pool, which on a busy two-core machine cost more than the bytes (see docs/performance.md).
// Chunks are content-addressed: a kept copy never goes stale; deleting the chunk drops it.
import { ownedCopy } from "./owned-copy.js";

export class RecentBytes {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    /** Larger chunks are never kept: one would push out many small ones. */
    readonly maxItemBytes: number,
  ) {}

  /** The kept bytes of `id` (shared: callers must not modify them), refreshed as newest. */
  get(id: string): Buffer | undefined {
    const data = this.entries.get(id);
    if (data) {
      this.entries.delete(id);
      this.entries.set(id, data);
    }
    return data;
  }

  /** Keeps `data` as the bytes of `id`, unless larger than `maxItemBytes`. */
  add(id: string, data: Uint8Array): void {
    if (data.byteLength > this.maxItemBytes) return;
    this.delete(id);
    // A view into a larger buffer (a chunker block, a socket read, Buffer's shared 8 KiB pool)
    // would keep all of it alive: such bytes are copied into memory of their own.
    const owned = data.byteOffset === 0 && data.buffer.byteLength === data.byteLength;
    const kept = owned ? Buffer.from(data.buffer, 0, data.byteLength) : ownedCopy(data);
    this.entries.set(id, kept);
    this.bytes += kept.length;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.length;
    }
  }

  delete(id: string): void {
    const data = this.entries.get(id);
    if (!data) return;
    this.entries.delete(id);
    this.bytes -= data.length;
  }

  /** Bytes kept now (tests, observability). */
  get size(): number {
    return this.bytes;
  }
}
