import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { ChunkCache, ChunkStore, MetaStore, writeVersion, type WrittenVersion } from "../../src/store/index.js";
import { pseudoRandom, withTempDir } from "./helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;

interface Rig {
  store: ChunkStore;
  meta: MetaStore;
  cache: ChunkCache;
}

async function openRig(dir: string, maxBytes: number): Promise<Rig> {
  const store = await ChunkStore.open(path.join(dir, "chunks"));
  const meta = await MetaStore.open(path.join(dir, "meta"));
  return { store, meta, cache: await ChunkCache.open(store, meta, { maxBytes }) };
}

/** Stores a small file as a cached (non-replica) version and admits its chunks and manifest. */
async function cacheVersion(rig: Rig, seed: string, size = 200 * KiB): Promise<WrittenVersion> {
  const written = await writeVersion(rig.store, pseudoRandom(size, seed));
  for (const c of written.chunks) await rig.cache.admit(c.id, c.length);
  await rig.cache.admit(written.version, (await rig.store.sizeOf(written.version))!);
  return written;
}

async function versionIntact(store: ChunkStore, w: WrittenVersion): Promise<boolean> {
  for (const id of [w.version, ...w.chunks.map((c) => c.id)]) if (!(await store.has(id))) return false;
  return true;
}

test("the cache stays within its byte bound under a larger workload, evicting least recently used", () =>
  withTempDir("cache-bound", async (dir) => {
    const rig = await openRig(dir, 2 * MiB);
    const versions: WrittenVersion[] = [];
    for (let i = 0; i < 40; i++) {
      versions.push(await cacheVersion(rig, `w${i}`)); // 40 × 200 KiB = 8 MiB through a 2 MiB cache
      if (i % 3 === 0) rig.cache.touch(versions[0]!.chunks[0]!.id); // keep the first one hot
      await rig.cache.idle();
      assert.ok(rig.cache.usedBytes <= 2 * MiB, `after ${i + 1} versions the cache holds ${rig.cache.usedBytes} bytes`);
    }
    assert.ok(await rig.store.has(versions[0]!.chunks[0]!.id), "a recently touched chunk is kept");
    assert.ok(await versionIntact(rig.store, versions[39]!), "the newest version is kept");
    assert.equal(await versionIntact(rig.store, versions[5]!), false, "old, untouched versions are evicted");
    assert.ok(rig.cache.usedBytes > MiB, "eviction stops once the cache fits");
    await rig.cache.close();
    await rig.meta.close();
  }));

test("pinned versions, outbox versions and held chunks are never evicted", () =>
  withTempDir("cache-pin", async (dir) => {
    const rig = await openRig(dir, MiB);
    const pinned = await cacheVersion(rig, "pinned");
    await rig.cache.pin(pinned.version);
    const unsent = await cacheVersion(rig, "outbox");
    await rig.meta.outbox.add(unsent.version, unsent.size);
    const read = await cacheVersion(rig, "being-read");
    const lease = rig.store.lease();
    for (const c of read.chunks) lease.hold(c.id);
    for (let i = 0; i < 20; i++) await cacheVersion(rig, `filler${i}`);
    await rig.cache.idle();
    assert.ok(await versionIntact(rig.store, pinned), "pinned content survives");
    assert.ok(await versionIntact(rig.store, unsent), "outbox content survives");
    assert.ok(await rig.store.has(read.chunks[0]!.id), "a chunk held by a reader survives");
    lease.release();
    await rig.cache.unpin(pinned.version);
    await rig.meta.outbox.remove(unsent.version);
    for (let i = 0; i < 10; i++) await cacheVersion(rig, `more${i}`);
    await rig.cache.idle();
    assert.equal(await versionIntact(rig.store, pinned), false, "unpinned content becomes evictable");
    assert.equal(await versionIntact(rig.store, unsent), false, "replicated (removed from outbox) content becomes evictable");
    assert.ok(rig.cache.usedBytes <= MiB);
    await rig.cache.close();
    await rig.meta.close();
  }));

test("cache accounting, LRU order and pins survive a restart", () =>
  withTempDir("cache-restart", async (dir) => {
    let rig = await openRig(dir, 4 * MiB);
    const old = await cacheVersion(rig, "old");
    const pinned = await cacheVersion(rig, "pinned");
    await rig.cache.pin(pinned.version);
    const fresh = await cacheVersion(rig, "fresh");
    rig.cache.touch(old.chunks[0]!.id); // now the most recent
    const used = rig.cache.usedBytes;
    await rig.cache.close();
    await rig.meta.close();

    rig = await openRig(dir, 4 * MiB);
    assert.equal(rig.cache.usedBytes, used);
    assert.ok(rig.cache.isPinned(pinned.version));
    await rig.cache.close();
    await rig.meta.close();

    // Reopen with a smaller budget: the least recently used unpinned chunks go first.
    rig = await openRig(dir, used - fresh.size);
    await rig.cache.idle();
    assert.ok(await rig.store.has(old.chunks[0]!.id), "the touched chunk was most recent before the restart");
    assert.ok(await versionIntact(rig.store, pinned));
    assert.ok(rig.cache.usedBytes <= used - fresh.size);
    await rig.cache.close();
    await rig.meta.close();
  }));
