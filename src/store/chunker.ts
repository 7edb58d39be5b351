// The ingest pipeline: reads a source block by block, cuts it (FastCDC) and hashes the chunks
// in the HashPool, and yields hashed blocks in order. Reading block k+2, cutting block k+1 and
// hashing block k overlap, so one stream keeps both cores busy.
import { promises as fsp } from "node:fs";
import { MAX_CHUNK, SMALL_FILE_THRESHOLD } from "./fastcdc.js";
import { hashInline, type ChunkedBlock, type HashPool } from "./hash-pool.js";

/** Fresh input bytes per block; the carried-over tail (< MAX_CHUNK) goes in front of them. */
const BLOCK_BYTES = 16 * 1024 * 1024;
/** Hashed blocks waiting for the consumer: bounds memory to a few blocks per stream. */
const QUEUE_DEPTH = 2;

/** A file path, bytes in memory, a Readable, or any (async) iterable of bytes. */
export type ChunkSourceInput = string | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Fills `target[offset, offset+length)` from the source; returns fewer bytes only at the end. */
interface Filler {
  fill(target: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Chunks and hashes a whole input. Inputs of at most SMALL_FILE_THRESHOLD bytes are one chunk
 * (none if empty). The concatenation of the yielded blocks' `data` is the input.
 */
export async function* chunkInput(source: ChunkSourceInput, pool: HashPool): AsyncGenerator<ChunkedBlock> {
  if (source instanceof Uint8Array && source.length <= SMALL_FILE_THRESHOLD) {
    // Small bytes in memory: no block buffer, no copy.
    yield wholeBlock(Buffer.from(source.buffer, source.byteOffset, source.byteLength));
    return;
  }
  const filler = typeof source === "string" ? await fileFiller(source) : iterableFiller(source);
  const queue: Promise<ChunkedBlock>[] = [];
  let wake: (() => void) | undefined;
  let producerDone = false;
  let stop = false;
  const producer = (async () => {
    try {
      let carry = Buffer.alloc(0);
      let nextFill = readBlock(filler);
      for (let first = true; !stop; first = false) {
        const { buffer, fresh } = await nextFill;
        const final = fresh < BLOCK_BYTES;
        if (!final) {
          nextFill = readBlock(filler); // read ahead while this block is cut
          nextFill.catch(() => {}); // awaited on the next turn; until then not "unhandled"
        }
        const start = MAX_CHUNK - carry.length;
        carry.copy(buffer, start);
        const block = buffer.subarray(start, MAX_CHUNK + fresh);
        if (first && final && block.length <= SMALL_FILE_THRESHOLD) {
          queue.push(Promise.resolve(wholeBlock(block)));
          break;
        }
        const cut = await pool.cut(block, final, true);
        carry = Buffer.from(cut.data.subarray(cut.consumed)); // copied: the block moves to a hashing worker
        const hashed = pool.hashChunks(cut, true);
        hashed.catch(() => {}); // observed by the consumer; avoid an unhandled rejection meanwhile
        queue.push(hashed);
        wake?.();
        while (queue.length >= QUEUE_DEPTH && !stop) await new Promise<void>((resolve) => (wake = resolve));
        if (final) break;
      }
    } finally {
      producerDone = true;
      wake?.();
    }
  })();
  producer.catch(() => {});
  try {
    for (;;) {
      if (queue.length === 0) {
        if (producerDone) break;
        await Promise.race([producer, new Promise<void>((resolve) => (wake = resolve))]);
        continue;
      }
      const block = await queue.shift()!;
      wake?.();
      yield block;
    }
    await producer; // surfaces a read or worker error
  } finally {
    stop = true;
    wake?.();
    await producer.catch(() => {});
    await Promise.allSettled(queue);
    await filler.close();
  }
}

function wholeBlock(block: Buffer): ChunkedBlock {
  const lengths = block.length === 0 ? [] : [block.length];
  return { data: block, lengths, consumed: block.length, ids: hashInline(block, lengths) };
}

async function readBlock(filler: Filler): Promise<{ buffer: Buffer; fresh: number }> {
  const buffer = Buffer.allocUnsafeSlow(MAX_CHUNK + BLOCK_BYTES);
  const fresh = await filler.fill(buffer, MAX_CHUNK, BLOCK_BYTES);
  return { buffer, fresh };
}

async function fileFiller(file: string): Promise<Filler> {
  const handle = await fsp.open(file, "r");
  return {
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
  let done = false;
  return {
    async fill(target, offset, length) {
      let got = 0;
      while (got < length && !done) {
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
