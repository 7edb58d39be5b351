// The ingest pipeline: reads a source block by block and yields its chunks (FastCDC) with
// their SHA-256 ids, in order, computed in the HashPool.
//
// Blocks are cut in parallel, each as if a chunk started at its first byte. Then, in order,
// the true chunk chain (which carries a tail over from the previous block) is continued into
// the block by a "stitch" job until it lands on one of the block's own cut points; from there
// both chains are identical (chunking from a cut point depends only on the bytes after it), so
// the rest of the block's cuts are used as they are. With random data the chains meet within
// a chunk or two. If they do not meet within the junction (e.g. long zero runs, which only cut
// at MAX), the block is cut again sequentially from the tail. The result always equals a
// plain sequential pass (tested).
import { promises as fsp } from "node:fs";
import { MAX_CHUNK, SMALL_FILE_THRESHOLD } from "./fastcdc.js";
import { hashInline, type ChunkedBlock, type CutBlock, type HashPool } from "./hash-pool.js";

/** Input bytes per block. */
export const BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * Marks a source whose yielded buffers the chunker may take over: the producer never
 * touches a buffer again once yielded, and each owns its memory (Buffer.allocUnsafeSlow).
 * A yielded buffer of exactly BLOCK_BYTES then becomes a block as it is, with no copy
 * (the mount's sequential feed yields such blocks).
 */
export const OWNED_BLOCKS: unique symbol = Symbol("wormhole.ownedBlocks");
/**
 * A source with this method gets back the full-size blocks (BLOCK_BYTES) the chunker and its
 * consumer are done with, to fill them again. Each block comes back from the hashing workers
 * as a new ArrayBuffer that V8 counts as external memory until a GC finds it dead: a GiB
 * written as fresh blocks cost ~64 full GCs (`--trace-gc`, "external memory pressure").
 */
export const RECYCLE_BLOCK: unique symbol = Symbol("wormhole.recycleBlock");
/** Blocks read and being cut ahead of the stitching point. */
const CUTS_AHEAD = 2;
/** Hashed pieces waiting for the consumer: bounds memory to a few blocks per stream. */
const QUEUE_DEPTH = 3;
/** How far into a block the chain may run before giving up on meeting the block's cuts. */
const JUNCTION_BYTES = 2 * MAX_CHUNK;

/** A file path, bytes in memory, a Readable, or any (async) iterable of bytes (see OWNED_BLOCKS). */
export type ChunkSourceInput =
  | string
  | Uint8Array
  | ((AsyncIterable<Uint8Array> | Iterable<Uint8Array>) & { [OWNED_BLOCKS]?: boolean; [RECYCLE_BLOCK]?: (block: Buffer) => void });

/** Fills `target[offset, offset+length)` from the source; returns fewer bytes only at the end. */
interface Filler {
  fill(target: Buffer, offset: number, length: number): Promise<number>;
  /** The next `length` bytes as a buffer the chunker may own, when the source has one ready as is. */
  take?(length: number): Promise<Buffer | undefined>;
  close(): Promise<void>;
  /** Bytes the source holds, when known (a file's size at open): blocks are sized to fit. */
  size?: number;
}

/**
 * Chunks and hashes a whole input. Inputs of at most SMALL_FILE_THRESHOLD bytes are one chunk
 * (none if empty). The concatenation of the yielded pieces' `data` is the input.
 */
export async function* chunkInput(source: ChunkSourceInput, pool: HashPool): AsyncGenerator<ChunkedBlock> {
  if (source instanceof Uint8Array && source.length <= SMALL_FILE_THRESHOLD) {
    // Small bytes in memory: no block buffer, no copy.
    yield wholeBlock(Buffer.from(source.buffer, source.byteOffset, source.byteLength));
    return;
  }
  const filler = typeof source === "string" ? await fileFiller(source) : iterableFiller(source);
  const recycle = typeof source === "object" && !(source instanceof Uint8Array) ? source[RECYCLE_BLOCK]?.bind(source) : undefined;
  let unread = filler.size;
  const signal = new Signal();
  const cutting: Promise<IndependentCut>[] = [];
  const output: Promise<ChunkedBlock>[] = [];
  let stop = false;
  let readerDone = false;
  let stitcherDone = false;

  // Reads blocks and starts cutting each one as soon as it is read.
  const reader = (async () => {
    try {
      for (let first = true; !stop; first = false) {
        while (cutting.length >= CUTS_AHEAD && !stop) await signal.wait();
        if (stop) break;
        // A block no larger than what is left (+1 byte, so a source read to its known end
        // still reads short and is seen to end): a tree of small files must not allocate
        // 16 MiB per file, which costs more in garbage collection than the files' I/O.
        const blockBytes = unread === undefined ? BLOCK_BYTES : Math.min(BLOCK_BYTES, unread + 1);
        const taken = await filler.take?.(blockBytes);
        const buffer = taken ?? Buffer.allocUnsafeSlow(blockBytes);
        const fresh = taken ? taken.length : await filler.fill(buffer, 0, blockBytes);
        const final = fresh < blockBytes;
        // Past the known end and not finished: the file grew while read; full blocks from here.
        if (unread !== undefined) unread = !final && fresh >= unread ? undefined : unread - fresh;
        const block = buffer.subarray(0, fresh);
        const job: Promise<IndependentCut> =
          first && final && fresh <= SMALL_FILE_THRESHOLD ? Promise.resolve({ whole: block, final }) : pool.cut(block, final, true).then((cut) => ({ cut, final }));
        job.catch(() => {}); // observed by the stitcher
        cutting.push(job);
        signal.notify();
        if (final) break;
      }
    } finally {
      readerDone = true;
      signal.notify();
    }
  })();

  reader.catch(() => {}); // awaited after the loop below; until then not "unhandled"

  const emit = (piece: Promise<ChunkedBlock>): void => {
    piece.catch(() => {}); // observed by the consumer
    output.push(piece);
    signal.notify();
  };

  // Joins the blocks' cuts into the true chain, in order, and queues the hashing.
  const stitcher = (async () => {
    try {
      let tail: Buffer = Buffer.alloc(0);
      while (!stop) {
        if (cutting.length === 0) {
          if (readerDone) break;
          await signal.wait();
          continue;
        }
        if (output.length >= QUEUE_DEPTH) {
          await signal.wait();
          continue;
        }
        const item = await cutting.shift()!;
        signal.notify();
        if (item.whole) {
          emit(Promise.resolve(wholeBlock(item.whole)));
          break;
        }
        tail = await stitchBlock(pool, tail, item.cut, item.final, emit);
        if (item.final) break;
      }
    } finally {
      stitcherDone = true;
      signal.notify();
    }
  })();

  stitcher.catch(() => {}); // likewise

  try {
    for (;;) {
      if (output.length === 0) {
        if (stitcherDone) break;
        await Promise.race([stitcher, signal.wait()]); // not `reader`: once settled it would spin
        continue;
      }
      const piece = await output.shift()!;
      signal.notify();
      if (piece.lengths.length) yield offeredBack(piece, recycle);
    }
    await reader; // surfaces a read error
    await stitcher; // surfaces a worker error
  } finally {
    stop = true;
    signal.notify();
    await Promise.allSettled([reader, stitcher, ...cutting, ...output]);
    await filler.close();
  }
}

/**
 * A piece whose memory is a whole full-size block (the source's, or one the chunker filled
 * from it) can go back to the source once the consumer is done with it. Every other buffer
 * the chunker makes (junctions, re-cut blocks, copied tails) is smaller or larger.
 */
function offeredBack(piece: ChunkedBlock, recycle: ((block: Buffer) => void) | undefined): ChunkedBlock {
  const memory = piece.data.buffer;
  if (recycle === undefined || memory.byteLength !== BLOCK_BYTES) return piece;
  return { ...piece, release: () => recycle(Buffer.from(memory)) };
}

type IndependentCut = { whole: Buffer; final: boolean; cut?: undefined } | { cut: CutBlock; final: boolean; whole?: undefined };

/**
 * Emits the true chunks of one block whose independent cut is `cut`, given the tail carried
 * over from the previous block; returns the new tail.
 */
async function stitchBlock(pool: HashPool, tail: Buffer, cut: CutBlock, final: boolean, emit: (piece: Promise<ChunkedBlock>) => void): Promise<Buffer> {
  const block = cut.data;
  let meetsAt = 0;
  if (tail.length > 0) {
    const headLength = Math.min(block.length, JUNCTION_BYTES);
    const junction = Buffer.allocUnsafeSlow(tail.length + headLength);
    tail.copy(junction, 0);
    block.copy(junction, tail.length, 0, headLength);
    const blockCuts = [0];
    for (const len of cut.lengths) blockCuts.push(blockCuts[blockCuts.length - 1]! + len);
    const stitched = await pool.stitch(junction, tail.length, blockCuts, final && headLength === block.length);
    if (stitched.meetsAt < 0) {
      // The chains did not meet: cut this block again, sequentially from the tail.
      const whole = Buffer.allocUnsafeSlow(tail.length + block.length);
      tail.copy(whole, 0);
      block.copy(whole, tail.length);
      const again = await pool.cut(whole, final, true);
      const nextTail = Buffer.from(again.data.subarray(again.consumed));
      emit(pool.hashChunks(again, true));
      return nextTail;
    }
    emit(Promise.resolve(stitched));
    meetsAt = stitched.meetsAt;
  }
  // From `meetsAt` on, the block's own cuts are the true ones.
  let skip = 0;
  let index = 0;
  while (skip < meetsAt) skip += cut.lengths[index++]!;
  const nextTail = Buffer.from(block.subarray(cut.consumed)); // copied: the block moves to a hashing worker
  const rest: CutBlock = { data: block.subarray(meetsAt, cut.consumed), lengths: cut.lengths.slice(index), consumed: cut.consumed - meetsAt };
  emit(pool.hashChunks(rest, true));
  return nextTail;
}

/** Wakes every waiter on each notify: the reader, stitcher and consumer wait on each other. */
class Signal {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function wholeBlock(block: Buffer): ChunkedBlock {
  const lengths = block.length === 0 ? [] : [block.length];
  return { data: block, lengths, consumed: block.length, ids: hashInline(block, lengths) };
}

async function fileFiller(file: string): Promise<Filler> {
  const handle = await fsp.open(file, "r");
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  return {
    size,
    async fill(target, offset, length) {
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(target, offset + got, length - got, null);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got;
    },
    close: () => handle.close(),
  };
}

function iterableFiller(source: Exclude<ChunkSourceInput, string>): Filler {
  const iterator = source instanceof Uint8Array ? [source][Symbol.iterator]() : Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let leftover: Uint8Array = new Uint8Array(0);
  /** A piece read ahead by `take`, for `fill` to use before pulling the next one. */
  let ahead: Uint8Array | undefined;
  let done = false;
  const owned = OWNED_BLOCKS in source && source[OWNED_BLOCKS] === true;
  return {
    take: owned
      ? async (length) => {
          if (leftover.length > 0 || done) return undefined;
          const next = await iterator.next();
          if (next.done) {
            done = true;
            return undefined;
          }
          const piece = next.value as Uint8Array;
          if (piece.length === length && Buffer.isBuffer(piece)) return piece;
          if (piece.length < length && Buffer.isBuffer(piece)) {
            // The source's last piece (all of a small file) is a whole final block as it is:
            // filling it into a new block-sized buffer cost a 16 MiB allocation per small
            // file written through the mount, and a full GC every few files.
            const after = await iterator.next();
            if (after.done) {
              done = true;
              return piece;
            }
            ahead = after.value as Uint8Array;
          }
          leftover = piece; // not a whole block: copied by fill
          return undefined;
        }
      : undefined,
    async fill(target, offset, length) {
      let got = 0;
      while (got < length && !done) {
        if (leftover.length === 0 && ahead !== undefined) {
          leftover = ahead;
          ahead = undefined;
          continue;
        }
        if (leftover.length === 0) {
          const next = await iterator.next();
          if (next.done) done = true;
          else leftover = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
          continue;
        }
        const n = Math.min(length - got, leftover.length);
        target.set(leftover.subarray(0, n), offset + got);
        leftover = leftover.subarray(n);
        got += n;
      }
      return got;
    },
    async close() {
      if (!done) await iterator.return?.();
    },
  };
}
