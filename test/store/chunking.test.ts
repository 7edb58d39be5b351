import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, test } from "node:test";
import {
  AVG_CHUNK,
  CHUNKER_BLOCK_BYTES,
  HashPool,
  MAX_CHUNK,
  MIN_CHUNK,
  OWNED_BLOCKS,
  SMALL_FILE_THRESHOLD,
  chunkId,
  chunkInput,
  chunkLengths,
  type ChunkSourceInput,
} from "../../src/store/index.js";
import { irregularPieces, pseudoRandom } from "./helpers.js";

const MiB = 1024 * 1024;
const pool = new HashPool(2);
after(() => pool.close());

async function chunkIds(source: ChunkSourceInput): Promise<string[]> {
  const ids: string[] = [];
  for await (const block of chunkInput(source, pool)) ids.push(...block.ids);
  return ids;
}

test("cut points respect MIN and MAX and average about 1 MiB on random data", () => {
  const data = pseudoRandom(64 * MiB, "sizes");
  const { lengths, consumed } = chunkLengths(data, true);
  assert.equal(consumed, data.length);
  for (const len of lengths.slice(0, -1)) {
    assert.ok(len >= MIN_CHUNK && len <= MAX_CHUNK, `chunk of ${len} bytes outside [MIN, MAX]`);
  }
  const mean = data.length / lengths.length;
  assert.ok(mean > 0.75 * AVG_CHUNK && mean < 1.5 * AVG_CHUNK, `mean chunk ${mean} too far from ${AVG_CHUNK}`);
});

test("incompressible-looking runs of zeros are cut at MAX", () => {
  const { lengths } = chunkLengths(Buffer.alloc(10 * MiB), true);
  assert.deepEqual(lengths, [MAX_CHUNK, MAX_CHUNK, 2 * MiB]);
});

test("the same content gives the same chunks whatever the source shape", async () => {
  const data = pseudoRandom(40 * MiB + 12345, "shape");
  const fromBuffer = await chunkIds(data);
  assert.deepEqual(await chunkIds(irregularPieces(data, 7)), fromBuffer);
  assert.deepEqual(await chunkIds([data.subarray(0, 3), data.subarray(3)]), fromBuffer);
  const { lengths } = chunkLengths(data, true);
  let pos = 0;
  assert.deepEqual(
    fromBuffer,
    lengths.map((len) => chunkId(data.subarray(pos, (pos += len)))),
    "pipelined chunking must equal a plain sequential pass",
  );
});

test("a source of owned blocks: whole blocks are taken without a copy, the rest copied, same chunks", async () => {
  const data = pseudoRandom(3 * CHUNKER_BLOCK_BYTES + 5 * MiB + 9, "owned");
  // As the mount's sequential feed yielded them before its first blocks shrank: 1 MiB, the
  // rest of the first block, whole blocks, a tail.
  const cuts = [0, MiB, CHUNKER_BLOCK_BYTES, 2 * CHUNKER_BLOCK_BYTES, 3 * CHUNKER_BLOCK_BYTES, data.length];
  const blocks = cuts.slice(1).map((end, i) => {
    const block = Buffer.allocUnsafeSlow(end - cuts[i]!);
    data.copy(block, 0, cuts[i]!, end);
    return block;
  });
  const source = {
    [OWNED_BLOCKS]: true,
    async *[Symbol.asyncIterator]() {
      yield* blocks;
    },
  };
  assert.deepEqual(await chunkIds(source), await chunkIds(data));
  // A block taken whole moved to a hashing worker (its memory is detached here), and so did
  // the short last one, taken as the final block; the first two were copied.
  assert.deepEqual(
    blocks.map((b) => b.buffer.byteLength === 0),
    [false, false, true, true, true],
  );
});

test("a source of owned blocks whose only piece is short (a small file) is taken as it is", async () => {
  for (const size of [4096, 3 * MiB]) {
    const data = pseudoRandom(size, `short-${size}`);
    const piece = Buffer.allocUnsafeSlow(size);
    data.copy(piece);
    const source = {
      [OWNED_BLOCKS]: true,
      async *[Symbol.asyncIterator]() {
        yield piece;
      },
    };
    const memory: ArrayBufferLike[] = [];
    const ids: string[] = [];
    for await (const block of chunkInput(source, pool)) {
      memory.push(block.data.buffer);
      ids.push(...block.ids);
    }
    assert.deepEqual(ids, await chunkIds(data), `${size} bytes`);
    // No block-sized buffer was made for it: its own memory was chunked (moved to a worker
    // and back when large enough to be cut there).
    assert.ok(memory.every((m) => m.byteLength === size), `${size} bytes: chunked from memory of ${memory.map((m) => m.byteLength)} bytes`);
  }
});

test("parallel cutting with stitching equals a sequential pass, also where chains never meet", async () => {
  // Random data meets quickly; a zero run across block edges only cuts at MAX and forces the
  // sequential fallback; small files in between test short blocks.
  const mixed = Buffer.concat([pseudoRandom(20 * MiB + 3, "mix-a"), Buffer.alloc(21 * MiB), pseudoRandom(17 * MiB + 11, "mix-b"), Buffer.alloc(5)]);
  for (const data of [mixed.subarray(0, 16 * MiB), mixed.subarray(7)]) {
    const { lengths } = chunkLengths(data, true);
    let pos = 0;
    const expected = lengths.map((len) => chunkId(data.subarray(pos, (pos += len))));
    assert.deepEqual(await chunkIds(data), expected, `${data.length} bytes`);
  }
});

test("inputs up to the small-file threshold are one chunk, larger ones are cut", async () => {
  assert.deepEqual(await chunkIds(Buffer.alloc(0)), []);
  assert.equal((await chunkIds(pseudoRandom(SMALL_FILE_THRESHOLD, "small"))).length, 1);
  const larger = await chunkIds(pseudoRandom(3 * SMALL_FILE_THRESHOLD, "larger"));
  assert.ok(larger.length >= 2, "a 3 MiB input should be cut");
});

test("inserting or deleting one byte in the middle of 64 MiB changes at most 2 chunks", async () => {
  const data = pseudoRandom(64 * MiB, "edit");
  const middle = 32 * MiB + 777;
  const original = await chunkIds(data);
  const known = new Set(original);
  const inserted = await chunkIds(Buffer.concat([data.subarray(0, middle), Buffer.from([0x5a]), data.subarray(middle)]));
  const deleted = await chunkIds(Buffer.concat([data.subarray(0, middle), data.subarray(middle + 1)]));
  for (const [edit, ids] of [["insert", inserted], ["delete", deleted]] as const) {
    const changed = ids.filter((id) => !known.has(id)).length;
    assert.ok(changed >= 1 && changed <= 2, `${edit}: ${changed} chunks changed, expected 1 or 2`);
    assert.ok(Math.abs(ids.length - original.length) <= 1, `${edit}: chunk count moved from ${original.length} to ${ids.length}`);
  }
});

test("the pool hashes like node:crypto and survives its inputs being transferred", async () => {
  const data = pseudoRandom(3 * MiB, "pool");
  const { id } = await pool.hash(data);
  assert.equal(id, chunkId(data));
  const cut = await pool.cut(data, true);
  assert.deepEqual(cut.lengths, chunkLengths(data, true).lengths);
  assert.equal(data.length, 3 * MiB, "without transfer the caller keeps its buffer");
});

/**
 * The gear hash as plain JavaScript, straight from the FastCDC paper with our parameters: the
 * WebAssembly scanner must find exactly these cut points (they decide dedup between pods, so
 * they may never change).
 */
function referenceLengths(data: Uint8Array): number[] {
  const gear = Array.from({ length: 256 }, (_, i) => createHash("sha256").update(`wormhole-gear-${i}`).digest().readInt32LE(0));
  const [hard, easy] = [0xfffffc00 | 0, 0xffffc000 | 0];
  const lengths: number[] = [];
  for (let start = 0; start < data.length; ) {
    const limit = Math.min(data.length, start + MAX_CHUNK);
    let end = limit;
    let h = 0;
    for (let i = start + MIN_CHUNK; i < limit; i++) {
      h = ((h << 1) + gear[data[i]!]!) | 0;
      if ((h & (i < start + AVG_CHUNK ? hard : easy)) === 0) {
        end = i + 1;
        break;
      }
    }
    lengths.push(end - start);
    start = end;
  }
  return lengths;
}

test("the WebAssembly gear scan cuts exactly where the plain algorithm does", () => {
  const inputs = [
    pseudoRandom(48 * MiB + 5, "reference"),
    Buffer.concat([pseudoRandom(3 * MiB + 1, "ref-a"), Buffer.alloc(9 * MiB), pseudoRandom(2 * MiB + 3, "ref-b")]),
    pseudoRandom(MIN_CHUNK + 3, "tiny"),
  ];
  for (const data of inputs) assert.deepEqual(chunkLengths(data, true).lengths, referenceLengths(data), `${data.length} bytes`);
});
