import assert from "node:assert/strict";
import { closeSync, openSync, readdirSync, writeFileSync, writeSync, ftruncateSync, unlinkSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import {
  CHUNKER_BLOCK_BYTES,
  ChunkMismatchError,
  ChunkNotFoundError,
  ChunkStore,
  EMPTY_VERSION,
  InvalidManifestError,
  MAX_CHUNK,
  MIN_CHUNK,
  OWNED_BLOCKS,
  RECYCLE_BLOCK,
  VersionReader,
  collectLiveChunks,
  decodeManifest,
  encodeManifest,
  readManifest,
  readRange,
  writeVersion,
  type ChunkSourceInput,
} from "../../src/store/index.js";
import { irregularPieces, pseudoRandom, sha256, tempDir, withTempDir } from "./helpers.js";

const MiB = 1024 * 1024;
const temp = tempDir("version");
let store: ChunkStore;
before(async () => {
  store = await ChunkStore.open(path.join(temp.dir, "store"));
});
after(() => temp.cleanup());

const SIZES = [0, 1, 2, 4095, MIN_CHUNK - 1, MIN_CHUNK, MIN_CHUNK + 1, MiB - 1, MiB, MiB + 1, MAX_CHUNK - 1, MAX_CHUNK, MAX_CHUNK + 1, 5 * MiB + 123, 17 * MiB + 5, 64 * MiB];

test("round trip of every size from 0 bytes to 64 MiB, from memory, a stream and a file", async () => {
  const big = pseudoRandom(64 * MiB, "sizes");
  for (const [i, size] of SIZES.entries()) {
    const data = big.subarray(0, size);
    const file = path.join(temp.dir, `input-${size}`);
    writeFileSync(file, data);
    const sources: [string, ChunkSourceInput][] = [
      ["buffer", data],
      ["readable", Readable.from(irregularPieces(data, i + 1))],
      ["file", file],
    ];
    let version: string | undefined;
    for (const [kind, source] of sources) {
      const written = await writeVersion(store, source);
      assert.equal(written.size, size, `${kind} ${size}: size`);
      version ??= written.version;
      assert.equal(written.version, version, `${kind} ${size}: same content, same version`);
    }
    unlinkSync(file);
    const back = await readRange(store, version!, 0, size + 10);
    assert.equal(back.length, size);
    assert.ok(back.equals(data), `size ${size}: content differs after the round trip`);
    if (size === 0) assert.equal(version, EMPTY_VERSION);
  }
});

test("a sparse file round trips and its holes dedup to shared zero chunks", async () => {
  const file = path.join(temp.dir, "sparse");
  const fd = openSync(file, "w");
  ftruncateSync(fd, 40 * MiB);
  const islands = [0, 13 * MiB + 7, 39 * MiB];
  for (const [i, at] of islands.entries()) writeSync(fd, pseudoRandom(100_000, `island${i}`), 0, 100_000, at);
  closeSync(fd);
  const written = await writeVersion(store, file);
  assert.equal(written.size, 40 * MiB);
  const distinct = new Set(written.chunks.map((c) => c.id)).size;
  assert.ok(distinct < written.chunks.length, `holes should repeat chunk ids (${distinct} distinct of ${written.chunks.length})`);
  const reader = await VersionReader.open(store, written.version);
  try {
    for (const [i, at] of islands.entries()) assert.ok((await reader.read(at, 100_000)).equals(pseudoRandom(100_000, `island${i}`)));
    assert.ok((await reader.read(20 * MiB, MiB)).equals(Buffer.alloc(MiB)), "a hole reads as zeros");
  } finally {
    reader.close();
  }
});

test("byte-range reads at and across chunk boundaries", async () => {
  const data = pseudoRandom(20 * MiB + 333, "ranges");
  const { version, chunks } = await writeVersion(store, data);
  assert.ok(chunks.length >= 5);
  const reader = await VersionReader.open(store, version);
  try {
    let boundary = 0;
    for (const chunk of chunks) {
      boundary += chunk.length;
      for (const [offset, length] of [
        [boundary - 1, 1],
        [boundary, 1],
        [boundary - 1, 2],
        [boundary - 100, 200],
        [boundary - chunk.length, chunk.length],
      ] as const) {
        if (offset < 0) continue;
        const got = await reader.read(offset, length);
        assert.ok(got.equals(data.subarray(offset, offset + length)), `read(${offset}, ${length}) at boundary ${boundary}`);
      }
    }
    // One read spanning three chunks, reads past the end, zero-length reads.
    const start = chunks[0]!.length - 10;
    const span = chunks[1]!.length + 20;
    assert.ok((await reader.read(start, span)).equals(data.subarray(start, start + span)));
    assert.ok((await reader.read(data.length - 5, 100)).equals(data.subarray(-5)));
    assert.equal((await reader.read(data.length, 10)).length, 0);
    assert.equal((await reader.read(5, 0)).length, 0);
    await assert.rejects(reader.read(-1, 5), RangeError);
  } finally {
    reader.close();
  }
});

test("chunks missing locally come from getChunk, verified", async () => {
  const data = pseudoRandom(6 * MiB, "remote");
  const { version, chunks } = await writeVersion(store, data);
  const other = await ChunkStore.open(path.join(temp.dir, "other"));
  // The other store has only the manifest: every data chunk must come from elsewhere.
  await other.putVerified(version, await store.get(version));
  await assert.rejects(readRange(other, version, 0, 10), ChunkNotFoundError);
  const pulled: string[] = [];
  const fromPeer = async (id: string) => {
    pulled.push(id);
    return store.get(id);
  };
  assert.ok((await readRange(other, version, 0, data.length, fromPeer)).equals(data));
  assert.deepEqual(new Set(pulled), new Set(chunks.map((c) => c.id)));
  const liar = async () => Buffer.from("not what you asked for");
  await assert.rejects(readRange(other, version, 0, 10, liar), ChunkMismatchError);
});

test("manifests are compact and decoding rejects malformed input", () => {
  const id = "ab".repeat(32);
  const good = encodeManifest({ size: 300, chunks: [{ id, length: 100 }, { id, length: 200 }] });
  assert.equal(good.length, 16 + 2 * 36);
  assert.deepEqual(decodeManifest(good), { size: 300, chunks: [{ id, length: 100 }, { id, length: 200 }] });
  const bad: [string, Buffer][] = [
    ["truncated", good.subarray(0, good.length - 1)],
    ["too short for a header", good.subarray(0, 10)],
    ["wrong magic", Buffer.concat([Buffer.from("XXXX"), good.subarray(4)])],
    ["size mismatch", encodeManifest({ size: 301, chunks: [{ id, length: 100 }, { id, length: 200 }] })],
    ["zero-length chunk", encodeManifest({ size: 0, chunks: [{ id, length: 0 }] })],
    ["oversized chunk", encodeManifest({ size: MAX_CHUNK + 1, chunks: [{ id, length: MAX_CHUNK + 1 }] })],
  ];
  const hugeCount = Buffer.from(good);
  hugeCount.writeUInt32BE(0xffffffff, 12);
  bad.push(["absurd chunk count", hugeCount]);
  for (const [what, bytes] of bad) assert.throws(() => decodeManifest(bytes), InvalidManifestError, what);
});

test("gc with collectLiveChunks keeps live versions and whatever an open reader holds", () =>
  withTempDir("version-gc", async (dir) => {
    const gcStore = await ChunkStore.open(dir);
    const keep = await writeVersion(gcStore, pseudoRandom(3 * MiB, "keep"));
    const drop = await writeVersion(gcStore, pseudoRandom(3 * MiB, "drop"));
    const reading = await writeVersion(gcStore, pseudoRandom(3 * MiB, "reading"));
    const reader = await VersionReader.open(gcStore, reading.version);
    const live = await collectLiveChunks(gcStore, [keep.version]);
    const result = await gcStore.gc((id) => live.has(id));
    assert.equal(result.deleted, drop.chunks.length + 1, "the dropped version's chunks and manifest are collected");
    assert.equal(await gcStore.has(drop.version), false);
    assert.ok((await readRange(gcStore, keep.version, 0, 3 * MiB)).equals(pseudoRandom(3 * MiB, "keep")));
    assert.ok((await reader.read(0, 3 * MiB)).equals(pseudoRandom(3 * MiB, "reading")), "an open reader's chunks are held");
    reader.close();
    await gcStore.gc((id) => live.has(id));
    await assert.rejects(readManifest(gcStore, reading.version), ChunkNotFoundError);
  }));

test("a version written under a lease survives gc until the lease is released", () =>
  withTempDir("version-lease", async (dir) => {
    const leaseStore = await ChunkStore.open(dir);
    const lease = leaseStore.lease();
    const written = await writeVersion(leaseStore, pseudoRandom(2 * MiB, "lease"), { lease });
    await leaseStore.gc(() => false);
    assert.equal(sha256(await readRange(leaseStore, written.version, 0, 2 * MiB)), sha256(pseudoRandom(2 * MiB, "lease")));
    lease.release();
    await leaseStore.gc(() => false);
    assert.equal(await leaseStore.has(written.version), false);
  }));

test("concurrent writers of the same content share chunks and all succeed", () =>
  withTempDir("version-concurrent", async (dir) => {
    const shared = await ChunkStore.open(dir);
    const base = shared.usedBytes;
    const data = pseudoRandom(9 * MiB, "concurrent");
    // One bulk (syncfs rounds), one per-file, one by size (bulk), and a single put.
    const [a, b, c] = await Promise.all([
      writeVersion(shared, data, { bulk: true }),
      writeVersion(shared, data, { bulk: false }),
      writeVersion(shared, Readable.from(irregularPieces(data, 3))),
      shared.put(data.subarray(0, 1000)),
    ]);
    assert.equal(a.version, b.version);
    assert.equal(a.version, c.version);
    assert.equal(a.newChunks + b.newChunks + c.newChunks, a.chunks.length + 1, "each chunk and the manifest were written exactly once");
    const manifestBytes = (await shared.sizeOf(a.version))!;
    assert.equal(shared.usedBytes, base + data.length + manifestBytes + 1000);
    assert.ok((await readRange(shared, a.version, 0, data.length)).equals(data));
  }));

test("a failing source rejects writeVersion and leaves nothing held", () =>
  withTempDir("version-fail", async (dir) => {
    const failing = await ChunkStore.open(dir);
    async function* brokenStream(): AsyncGenerator<Buffer> {
      yield pseudoRandom(20 * MiB, "broken");
      throw new Error("disk unplugged");
    }
    await assert.rejects(writeVersion(failing, brokenStream()), /disk unplugged/);
    await assert.rejects(writeVersion(failing, path.join(dir, "no-such-file")), { code: "ENOENT" });
    const result = await failing.gc(() => false);
    assert.equal(result.skippedHeld, 0, "a failed write releases its lease");
    assert.deepEqual(readdirSync(path.join(dir, "tmp")), [], "no temp file outlives the failed bulk write");
  }));

test("bulk commits fall back to per-file syncs when `sync --file-system` cannot run", () =>
  withTempDir("version-no-syncfs", async (dir) => {
    const data = pseudoRandom(12 * MiB, "no-syncfs");
    const path0 = process.env.PATH;
    process.env.PATH = path.join(dir, "no-bin-here"); // the syncfs shell cannot start: ENOENT
    let written;
    try {
      const alone = await ChunkStore.open(dir);
      written = await writeVersion(alone, data, { bulk: true });
    } finally {
      process.env.PATH = path0;
    }
    assert.equal(written.newChunks, written.chunks.length + 1);
    assert.deepEqual(readdirSync(path.join(dir, "tmp")), []);
    const reopened = await ChunkStore.open(dir);
    assert.ok((await readRange(reopened, written.version, 0, data.length)).equals(data));
  }));

test("a forged manifest whose lengths disagree with the chunks is refused on read", async () => {
  const real = Buffer.from("twenty bytes of data");
  const id = await store.put(real);
  const forged = await store.put(encodeManifest({ size: 10, chunks: [{ id, length: 10 }] }));
  await assert.rejects(readRange(store, forged, 0, 10), InvalidManifestError);
});

test("blocks handed back to their source are not read again, even when scribbled over at once", () =>
  withTempDir("version-recycle", async (dir) => {
    // A source like the mount's sequential feed: it yields whole blocks the chunker may own,
    // and takes finished blocks back (RECYCLE_BLOCK). Each one given back is overwritten
    // before it is filled again: if the store still read a block after release, the stored
    // chunks would not match their ids, or the version would not read back.
    const data = pseudoRandom(8 * CHUNKER_BLOCK_BYTES + 12_345, "recycle");
    const spare: Buffer[] = [];
    let recycled = 0;
    let reused = 0;
    let returned: (() => void) | undefined;
    const source = {
      [OWNED_BLOCKS]: true as const,
      [RECYCLE_BLOCK](block: Buffer) {
        assert.equal(block.length, CHUNKER_BLOCK_BYTES);
        block.fill(0xee);
        recycled++;
        spare.push(block);
        returned?.();
      },
      async *[Symbol.asyncIterator]() {
        for (let at = 0, n = 0; at < data.length; at += CHUNKER_BLOCK_BYTES, n++) {
          const piece = data.subarray(at, at + CHUNKER_BLOCK_BYTES);
          // From the fifth block on, wait (a little) for a stored block to come back.
          if (n >= 4 && spare.length === 0) await new Promise<void>((resolve) => ((returned = resolve), setTimeout(resolve, 2_000)));
          const reuse = piece.length === CHUNKER_BLOCK_BYTES ? spare.pop() : undefined;
          if (reuse) reused++;
          const block = reuse ?? Buffer.allocUnsafeSlow(piece.length);
          piece.copy(block);
          yield block;
        }
      },
    };
    const local = await ChunkStore.open(path.join(dir, "store"));
    const written = await writeVersion(local, source);
    assert.ok(recycled >= 3, `only ${recycled} blocks came back`);
    assert.ok(reused >= 1, "no block was filled again");
    const reopened = await ChunkStore.open(path.join(dir, "store")); // nothing kept in memory
    const back = await readRange(reopened, written.version, 0, data.length);
    assert.equal(sha256(back), sha256(data));
  }));
