// Streams the writes of a file written front to back (cp, a download, a build artifact)
// into the chunker while the application is still writing, so close() only finishes the last
// chunk instead of re-reading the whole staging file: the version is produced in parallel
// with the writes (docs/mount.md, "Write path"). These writes skip the staging file: any
// other access ends the feed, and the version it produced becomes the staged file's base.
import { CHUNKER_BLOCK_BYTES, OWNED_BLOCKS, RECYCLE_BLOCK } from "../store/index.js";

/**
 * Writes are gathered into blocks of the chunker's own block size, which it takes over as
 * they are (OWNED_BLOCKS): the bytes are copied once, from the FUSE buffer into the block.
 */
const BLOCK = CHUNKER_BLOCK_BYTES;
/**
 * Most files written are small, so the first blocks are small: 128 KiB, then up to 1 MiB,
 * then up to BLOCK, so that from the fourth on the blocks line up with the chunker's and are
 * taken whole. V8 counts every block as external memory until a GC: 1 MiB per small file
 * cost a full GC every ~50 files (2,000 files of 4 KiB: 40 against 10 with 128 KiB).
 */
const FIRST_BLOCKS = [128 * 1024, 1024 * 1024 - 128 * 1024, BLOCK - 1024 * 1024];
/** Blocks the chunker handed back, kept to be filled again (64 MiB at most per file). */
const SPARE_BLOCKS = 4;

export class SequentialFeed implements AsyncIterable<Buffer> {
  /** A yielded block is never touched again here: the chunker may move it to a worker. */
  readonly [OWNED_BLOCKS] = true;
  /** Offset the next write must start at to stay sequential. */
  expected = 0;
  private readonly queue: Buffer[] = [];
  private block: Buffer | undefined;
  private blockUsed = 0;
  private blocksMade = 0;
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wakeConsumer: (() => void) | undefined;
  private readonly wakeProducers: Array<() => void> = [];
  private readonly spare: Buffer[] = [];

  /** `limit`: bytes in full blocks waiting for the chunker before writers wait (back-pressure); the block being filled comes on top. */
  constructor(private readonly limit = 64 * 1024 * 1024) {}

  get active(): boolean {
    return !this.ended && !this.failure;
  }

  /** Queues a copy of `data`, made before this returns (`data` may be the FUSE binding's receive buffer, reused by the next request). */
  async push(data: Buffer): Promise<void> {
    if (!this.active) return;
    this.expected += data.length;
    for (let done = 0; done < data.length; ) {
      this.block ??= this.newBlock();
      const n = data.copy(this.block, this.blockUsed, done);
      this.blockUsed += n;
      done += n;
      if (this.blockUsed === this.block.length) this.enqueueBlock();
    }
    while (this.queued > this.limit && this.active) await new Promise<void>((wake) => this.wakeProducers.push(wake));
  }

  end(): void {
    if (this.active) this.enqueueBlock();
    this.ended = true;
    this.wake();
  }

  /** Stops the feed: its consumer (writeVersion) fails and the partial version is dropped. */
  abort(reason: string): void {
    if (!this.active) return;
    this.failure = new Error(`sequential feed aborted: ${reason}`);
    this.queue.length = 0;
    this.queued = 0;
    this.block = undefined;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.queue.shift();
      if (next) {
        this.queued -= next.length;
        while (this.queued <= this.limit && this.wakeProducers.length > 0) this.wakeProducers.shift()!();
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((wake) => (this.wakeConsumer = wake));
      this.wakeConsumer = undefined;
    }
  }

  /** The chunker is done with `block` (its chunks are stored): it is filled again. */
  [RECYCLE_BLOCK](block: Buffer): void {
    if (this.active && block.length === BLOCK && this.spare.length < SPARE_BLOCKS) this.spare.push(block);
  }

  private newBlock(): Buffer {
    const size = this.nextBlockSize();
    return (size === BLOCK ? this.spare.pop() : undefined) ?? Buffer.allocUnsafeSlow(size);
  }

  /** FIRST_BLOCKS (which add up to the chunker's first block), then whole chunker blocks. */
  private nextBlockSize(): number {
    return FIRST_BLOCKS[this.blocksMade] ?? BLOCK;
  }

  private enqueueBlock(): void {
    if (!this.block || this.blockUsed === 0) return;
    this.queue.push(this.block.subarray(0, this.blockUsed));
    this.queued += this.blockUsed;
    this.blocksMade++;
    this.block = undefined;
    this.blockUsed = 0;
    this.wakeConsumer?.();
  }

  private wake(): void {
    this.wakeConsumer?.();
    for (const wake of this.wakeProducers.splice(0)) wake();
  }
}
