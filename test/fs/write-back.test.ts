// The write-back pieces without a mount: extent tracking against a byte-array model, the
// staging file over a real base version, the sequential feed, the page-cache guard.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { ExtentSet } from "../../src/fs/extents.js";
import { StagedFile } from "../../src/fs/staged-file.js";
import { SequentialFeed } from "../../src/fs/sequential-feed.js";
import { CacheGuard } from "../../src/fs/cache-guard.js";
import { CHUNKER_BLOCK_BYTES, ChunkStore, HashPool, RECYCLE_BLOCK, VersionReader, writeVersion } from "../../src/store/index.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wormhole-wb-"));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await HashPool.shared().close();
});

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

describe("ExtentSet", () => {
  it("agrees with a per-byte model under random adds and cuts", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), start: fc.nat(200), len: fc.nat(40) }),
      fc.record({ kind: fc.constant("cut" as const), start: fc.nat(220), len: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.nat(240), fc.nat(60), (ops, qStart, qLen) => {
        const set = new ExtentSet();
        const model = new Array<boolean>(300).fill(false);
        for (const o of ops) {
          if (o.kind === "add") {
            set.add(o.start, o.start + o.len);
            for (let i = o.start; i < o.start + o.len; i++) model[i] = true;
          } else {
            set.cut(o.start);
            for (let i = o.start; i < model.length; i++) model[i] = false;
          }
        }
        const segments = set.segments(qStart, qStart + qLen);
        let pos = qStart;
        for (const s of segments) {
          assert.equal(s.start, pos, "segments are contiguous");
          assert.ok(s.end > s.start);
          for (let i = s.start; i < s.end; i++) assert.equal(model[i], s.staged, `byte ${i}`);
          pos = s.end;
        }
        assert.equal(pos, qLen === 0 ? qStart : qStart + qLen);
      }),
      { numRuns: 500 },
    );
  });
});

describe("StagedFile", () => {
  it("overlays writes, truncations and holes on a base version, and snapshots exactly that", async () => {
    const dir = await tempDir();
    const store = await ChunkStore.open(join(dir, "store"));
    const original = randomBytes(3 * 1024 * 1024 + 17);
    const { version } = await writeVersion(store, Readable.from([original]));
    const base = await VersionReader.open(store, version);
    const staged = new StagedFile(dir, base, 1000);
    const model = Buffer.from(original);

    await staged.write(Buffer.from("hello"), 10);
    model.write("hello", 10);
    await staged.truncate(2_000_000);
    await staged.write(Buffer.from("tail"), 2_500_000);
    const expected = Buffer.alloc(2_500_004);
    model.copy(expected, 0, 0, 2_000_000);
    expected.write("tail", 2_500_000);
    assert.equal(staged.size, expected.length);
    assert.ok(staged.dirty);

    const probe = Buffer.alloc(64);
    assert.equal(await staged.read(probe, 1_999_990, 64), 64);
    assert.deepEqual(probe, expected.subarray(1_999_990, 2_000_054), "base bytes then zeros across the truncation point");

    const content = await staged.snapshot((blocks) => collect(blocks));
    assert.deepEqual(content, expected);
    assert.equal(staged.dirty, false);
    await staged.close();
    assert.deepEqual(await readdir(dir), ["store"], "the staging file is deleted on close");
  });

  it("creates no staging file for a file that is never written", async () => {
    const dir = await tempDir();
    const staged = new StagedFile(dir, undefined, 0);
    const out = Buffer.alloc(4);
    assert.equal(await staged.read(out, 0, 4), 0);
    await staged.close();
    assert.deepEqual(await readdir(dir), []);
  });
});

describe("SequentialFeed", () => {
  it("streams what is pushed, applying back-pressure past its limit", async () => {
    // Only full blocks count against the limit (the first three blocks make 16 MiB).
    const feed = new SequentialFeed(1024 * 1024);
    const big = randomBytes(17 * 1024 * 1024 + 7);
    let released = false;
    const pushing = feed.push(big).then(() => (released = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(released, false, "the producer waits while more than the limit is queued");
    const consumed = collect(feed);
    await pushing;
    feed.end();
    assert.deepEqual(await consumed, big);
    assert.equal(feed.expected, big.length);
  });

  it("fills full-size blocks handed back by the chunker again, and no others", async () => {
    const feed = new SequentialFeed();
    const blocks: Buffer[] = [];
    const consuming = (async () => {
      for await (const block of feed) blocks.push(block);
    })();
    const first = randomBytes(CHUNKER_BLOCK_BYTES); // blocks of 128 KiB, 896 KiB and 15 MiB
    await feed.push(first);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(blocks.map((b) => b.length), [128 * 1024, 896 * 1024, 15 * 1024 * 1024]);
    feed[RECYCLE_BLOCK](blocks[2]!); // 15 MiB: not a whole chunker block, not kept
    const spare = Buffer.allocUnsafeSlow(CHUNKER_BLOCK_BYTES).fill(0xee);
    feed[RECYCLE_BLOCK](spare);
    const third = randomBytes(CHUNKER_BLOCK_BYTES);
    await feed.push(third);
    const fourth = randomBytes(CHUNKER_BLOCK_BYTES);
    await feed.push(fourth);
    feed.end();
    await consuming;
    assert.equal(blocks.length, 5);
    assert.equal(blocks[3]!.buffer, spare.buffer, "the block handed back was filled again");
    assert.notEqual(blocks[4]!.buffer, blocks[2]!.buffer, "the 15 MiB block was not");
    assert.deepEqual(Buffer.concat(blocks), Buffer.concat([first, third, fourth]));
  });

  it("fails its consumer when aborted", async () => {
    const feed = new SequentialFeed();
    const consumed = collect(feed);
    await feed.push(Buffer.from("x"));
    feed.abort("test");
    await assert.rejects(consumed, /aborted: test/);
    assert.equal(feed.active, false);
  });
});

describe("CacheGuard", () => {
  it("changes the shown mtime when a new version has the same size and mtime", () => {
    const guard = new CacheGuard();
    assert.equal(guard.mtime("/f", "v1", 10, 5000), 5000);
    assert.equal(guard.mtime("/f", "v1", 10, 5000), 5000, "same version: same answer");
    assert.equal(guard.mtime("/f", "v2", 10, 5000), 5001, "same size and mtime, new content");
    assert.equal(guard.mtime("/f", "v2", 10, 5000), 5001, "stable while the version stays");
    assert.equal(guard.mtime("/f", "v3", 11, 5000), 5000, "size differs: the true mtime is enough");
    assert.equal(guard.mtime("/f", "v4", 11, 7000), 7000);
  });
});
