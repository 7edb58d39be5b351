import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { ChunkMismatchError, ChunkNotFoundError, ChunkStore, CorruptChunkError, EMPTY_VERSION, chunkId } from "../../src/store/index.js";
import { pseudoRandom, withTempDir } from "./helpers.js";

function withStore(label: string, body: (store: ChunkStore, dir: string) => Promise<void>): Promise<void> {
  return withTempDir(label, async (dir) => body(await ChunkStore.open(dir), dir));
}

test("put/get/has/delete round trip with size accounting, idempotent put", () =>
  withStore("basic", async (store, dir) => {
    const base = store.usedBytes;
    assert.ok(await store.has(EMPTY_VERSION), "the empty manifest exists in every store");
    const data = pseudoRandom(300_000, "basic");
    const id = await store.put(data);
    assert.equal(id, chunkId(data));
    assert.equal(await store.put(data), id);
    assert.equal(store.usedBytes, base + data.length, "a second put of the same bytes stores nothing");
    assert.ok(await store.has(id));
    assert.deepEqual(await store.get(id), data);
    assert.equal(readFileSync(path.join(dir, "chunks", id.slice(0, 2), id.slice(2, 4), id)).length, data.length);
    const reopened = await ChunkStore.open(dir);
    assert.equal(reopened.usedBytes, store.usedBytes, "accounting is rebuilt at open");
    assert.ok(await reopened.has(id), "a store opened later finds the chunk (its directory is known from the scan)");
    assert.equal(await reopened.has(chunkId(Buffer.from("never stored"))), false);
    assert.ok(await store.delete(id));
    assert.equal(await store.has(id), false);
    assert.equal(store.usedBytes, base);
    await assert.rejects(store.get(id), ChunkNotFoundError);
  }));

test("putVerified stores matching data and rejects a mismatch without storing it", () =>
  withStore("verified", async (store) => {
    const data = Buffer.from("chunk from a peer");
    await store.putVerified(chunkId(data), data);
    assert.ok(await store.has(chunkId(data)));
    const wrongId = chunkId(Buffer.from("something else"));
    await assert.rejects(store.putVerified(wrongId, data), ChunkMismatchError);
    assert.equal(await store.has(wrongId), false);
  }));

test("ids that are not SHA-256 hex are refused before touching the disk", () =>
  withStore("ids", async (store) => {
    for (const bad of ["../../etc/passwd", "ABC", "", "g".repeat(64)]) {
      await assert.rejects(store.get(bad), TypeError);
      await assert.rejects(store.has(bad), TypeError);
      await assert.rejects(store.putVerified(bad, Buffer.from("x")), TypeError);
    }
  }));

test("a corrupt chunk is reported, quarantined and never returned", () =>
  withStore("corrupt", async (store, dir) => {
    for (const size of [1000, 2_000_000]) {
      const data = pseudoRandom(size, `corrupt-${size}`);
      const id = await store.put(data);
      const file = store.pathOf(id);
      const bytes = readFileSync(file);
      bytes[Math.floor(size / 2)]! ^= 0xff;
      writeFileSync(file, bytes);
      // Read by a process that has not kept the bytes in memory (the writer keeps small ones).
      const reader = await ChunkStore.open(dir);
      const err = await reader.get(id).then(
        () => assert.fail("a corrupt chunk must not be returned"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof CorruptChunkError, `expected CorruptChunkError, got ${err}`);
      assert.equal(err.id, id);
      assert.ok(existsSync(err.quarantinedAt) && err.quarantinedAt.startsWith(path.join(dir, "quarantine")));
      assert.equal(await reader.has(id), false);
      await assert.rejects(reader.get(id), ChunkNotFoundError);
      // A good copy (e.g. pulled from a replica) can be stored again.
      await reader.putVerified(id, data);
      assert.deepEqual(await reader.get(id), data);
    }
  }));

test("getForPeer skips the hash only for chunks this process wrote or verified: a store opened later verifies first", () =>
  withStore("for-peer", async (store, dir) => {
    const data = pseudoRandom(2_000_000, "for-peer");
    const id = await store.put(data);
    assert.deepEqual(await store.getForPeer(id), data);
    await assert.rejects(store.getForPeer(chunkId(Buffer.from("absent"))), ChunkNotFoundError);
    // Rotted on disk, then read by a fresh process: detected and quarantined, never served.
    const bytes = readFileSync(store.pathOf(id));
    bytes[12_345]! ^= 0xff;
    writeFileSync(store.pathOf(id), bytes);
    const later = await ChunkStore.open(dir);
    await assert.rejects(later.getForPeer(id), CorruptChunkError);
    assert.equal(await later.has(id), false);
    // Once verified by a local read, it is served without hashing again.
    await later.putVerified(id, data);
    const again = await ChunkStore.open(dir);
    assert.deepEqual(await again.get(id), data);
    assert.deepEqual(await again.getForPeer(id), data);
  }));

test("small chunks and chunks served to peers are answered from memory until deleted", () =>
  withStore("kept", async (store) => {
    const manifest = pseudoRandom(600, "kept-small");
    const small = await store.put(manifest);
    const big = pseudoRandom(300_000, "kept-served");
    const served = await store.put(big);
    assert.deepEqual(await store.getForPeer(served), big);
    // Removed behind the store's back: only a read from memory can still answer.
    for (const id of [small, served]) rmSync(store.pathOf(id));
    assert.deepEqual(await store.get(small), manifest, "a small chunk written here is kept");
    assert.deepEqual(await store.getForPeer(small), manifest);
    assert.deepEqual(await store.getForPeer(served), big, "the next peer asking gets the bytes just served");
    await assert.rejects(store.get(served), ChunkNotFoundError, "a local read of a large chunk still reads (and verifies) the file");
    // Deleting through the store forgets the bytes.
    await store.delete(small);
    await store.delete(served);
    await assert.rejects(store.get(small), ChunkNotFoundError);
    await assert.rejects(store.getForPeer(served), ChunkNotFoundError);
  }));

test("gc deletes unreferenced chunks but never held ones", () =>
  withStore("gc", async (store) => {
    const live = await store.put(Buffer.from("live"));
    const garbage = await store.put(Buffer.from("garbage"));
    const held = await store.put(Buffer.from("held by a reader"));
    const lease = store.lease();
    lease.hold(held);
    const result = await store.gc((id) => id === live);
    assert.equal(result.deleted, 1);
    assert.equal(result.skippedHeld, 1);
    assert.ok(await store.has(live));
    assert.equal(await store.has(garbage), false);
    assert.ok(await store.has(held));
    assert.equal(await store.delete(held), false, "delete also respects leases");
    lease.release();
    assert.equal((await store.gc((id) => id === live)).deleted, 1);
    assert.equal(await store.has(held), false);
    assert.ok(await store.has(EMPTY_VERSION), "gc never removes the empty manifest");
  }));

test("a put under a lease racing with gc of the same chunk leaves the chunk stored", () =>
  withStore("race", async (store) => {
    for (let round = 0; round < 30; round++) {
      const data = Buffer.from(`racy ${round}`);
      await store.put(data);
      const lease = store.lease();
      // Start the put a little later each round, so it lands before, during and after the unlink.
      const delayedPut = new Promise<string>((resolve, reject) => setTimeout(() => store.put(data, lease).then(resolve, reject), round % 5));
      const [, id] = await Promise.all([store.gc(() => false), delayedPut]);
      assert.ok(await store.has(id), `round ${round}: an acknowledged put under a lease must survive a concurrent gc`);
      lease.release();
    }
  }));

test("temp files left by a crash are removed at open", () =>
  withStore("tmp", async (_store, dir) => {
    mkdirSync(path.join(dir, "tmp"), { recursive: true });
    writeFileSync(path.join(dir, "tmp", "leftover"), "half-written");
    await ChunkStore.open(dir);
    assert.deepEqual(readdirSync(path.join(dir, "tmp")), []);
  }));
