import assert from "node:assert/strict";
import { test } from "node:test";
import { Level } from "level";
import * as Y from "yjs";
import { MetaStore } from "../../src/store/index.js";
import { GroupCommit, type MetaDb } from "../../src/store/group-commit.js";
import { withTempDir } from "./helpers.js";

const VERSION_A = "a".repeat(64);
const VERSION_B = "b".repeat(64);
const VERSION_C = "c".repeat(64);

async function reload(dir: string, name: string): Promise<{ meta: MetaStore; doc: Y.Doc }> {
  const meta = await MetaStore.open(dir);
  const doc = new Y.Doc();
  await meta.attachDoc(name, doc);
  return { meta, doc };
}

/** The database under `dir` opened as MetaStore opens it (string keys, binary values). */
async function openDb(dir: string): Promise<MetaDb> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: "utf8", valueEncoding: "buffer" });
  await db.open();
  return db;
}

/** The document's entries as a new MetaStore on `dir` loads them (closed again after). */
async function reloadedEntries(dir: string, name: string): Promise<Record<string, unknown>> {
  const { meta, doc } = await reload(dir, name);
  const entries = doc.getMap("ns").toJSON();
  await meta.close();
  return entries;
}

test("every update of an attached doc, local or remote, is persisted and reloaded", () =>
  withTempDir("meta-doc", async (dir) => {
    const { meta, doc } = await reload(dir, "shard-0");
    doc.getMap("ns").set("local", { v: 1 });
    const remote = new Y.Doc();
    remote.getMap("ns").set("remote", { v: 2 });
    Y.applyUpdateV2(doc, Y.encodeStateAsUpdateV2(remote), "network");
    await meta.flush();
    await meta.close();
    const again = await reload(dir, "shard-0");
    assert.deepEqual(again.doc.getMap("ns").toJSON(), { local: { v: 1 }, remote: { v: 2 } });
    const other = new Y.Doc();
    await again.meta.attachDoc("shard-1", other);
    assert.equal(other.getMap("ns").size, 0, "documents are kept apart by name");
    await again.meta.close();
  }));

test("flush() and close() first run the beforeFlush hooks, so updates a writer held back are durable with them", () =>
  withTempDir("meta-hook", async (dir) => {
    const { meta, doc } = await reload(dir, "s");
    const held = new Map([["held", 1]]); // a writer's updates, not in the document yet
    meta.beforeFlush(() => {
      for (const [key, value] of held) doc.getMap("ns").set(key, value);
      held.clear();
    });
    const before = meta.batchCount;
    await meta.flush();
    // With nothing else queued, a batch was written only if the hook ran before the write.
    assert.ok(meta.batchCount > before, "the hook's update was written by this flush");
    held.set("held at close", 2);
    await meta.close(); // flushes too: its hook runs while the document is still attached
    assert.deepEqual(await reloadedEntries(dir, "s"), { held: 1, "held at close": 2 });
  }));

test("a burst of updates is written in a few fsync'ed batches (group commit)", () =>
  withTempDir("meta-group", async (dir) => {
    const { meta, doc } = await reload(dir, "s");
    const map = doc.getMap("ns");
    const before = meta.batchCount;
    for (let i = 0; i < 1000; i++) map.set(`k${i}`, i);
    await meta.flush();
    assert.ok(meta.batchCount - before <= 3, `1000 updates took ${meta.batchCount - before} batches`);
    await meta.close();
    assert.equal(Object.keys(await reloadedEntries(dir, "s")).length, 1000);
  }));

test("compaction folds updates into a snapshot; later updates still persist", () =>
  withTempDir("meta-compact", async (dir) => {
    const { meta, doc } = await reload(dir, "s");
    const map = doc.getMap("ns");
    for (let i = 0; i < 300; i++) map.set(`k${i % 50}`, i);
    assert.equal(meta.pendingUpdates("s"), 300);
    await meta.compact("s");
    assert.equal(meta.pendingUpdates("s"), 0);
    map.set("after", "compaction");
    await meta.flush();
    await meta.close();
    const again = await reload(dir, "s");
    assert.equal(again.doc.getMap("ns").get("k49"), 299);
    assert.equal(again.doc.getMap("ns").get("after"), "compaction");
    assert.equal(again.meta.pendingUpdates("s"), 1, "only the update after the snapshot remains as a log entry");
    await again.meta.close();
  }));

test("background compaction starts by itself past the threshold", () =>
  withTempDir("meta-bg", async (dir) => {
    const { meta, doc } = await reload(dir, "s");
    const map = doc.getMap("ns");
    for (let i = 0; i < 2500; i++) map.set(`k${i % 10}`, i);
    await meta.flush();
    await new Promise((resolve) => setImmediate(resolve));
    await meta.flush();
    assert.ok(meta.pendingUpdates("s") < 2000, `still ${meta.pendingUpdates("s")} updates in the log`);
    await meta.close();
    assert.equal((await reloadedEntries(dir, "s")).k9, 2499);
  }));

test("state a doc had before attaching is persisted too", () =>
  withTempDir("meta-pre", async (dir) => {
    const meta = await MetaStore.open(dir);
    const doc = new Y.Doc();
    doc.getMap("ns").set("early", true);
    await meta.attachDoc("s", doc);
    await meta.close();
    assert.equal((await reloadedEntries(dir, "s")).early, true);
  }));

test("a failed write is surfaced by flush, and keeps being surfaced", () =>
  withTempDir("meta-fail", async (dir) => {
    const db = await openDb(dir);
    const commit = new GroupCommit(db);
    await commit.enqueue([{ type: "put", key: "ok", value: Buffer.from("1") }]);
    await db.close();
    const lost = commit.enqueue([{ type: "put", key: "lost", value: Buffer.from("2") }]);
    await assert.rejects(lost, /metadata write failed/);
    await assert.rejects(commit.flush(), /metadata write failed/);
    await assert.rejects(commit.enqueue([{ type: "del", key: "ok" }]), /not durable/);
  }));

test("a batch applies its puts and deletes together, and one invalid operation fails all of it", () =>
  withTempDir("meta-batch", async (dir) => {
    const db = await openDb(dir);
    const commit = new GroupCommit(db);
    await commit.enqueue([{ type: "put", key: "gone", value: Buffer.from("0") }]);
    await commit.enqueue([
      { type: "put", key: "a", value: Buffer.from("1") },
      { type: "del", key: "gone" },
    ]);
    assert.equal((await db.get("a"))?.toString(), "1");
    assert.equal(await db.get("gone"), undefined);

    const kept = commit.enqueue([{ type: "put", key: "b", value: Buffer.from("2") }], { lazy: true });
    const invalid = commit.enqueue([{ type: "put", key: "c", value: undefined as unknown as Buffer }]);
    await assert.rejects(invalid, /metadata write failed/);
    await assert.rejects(kept, /metadata write failed/, "the same batch");
    assert.equal(await db.get("b"), undefined, "nothing of a failed batch is written");
    await db.close();
  }));

test("lazy operations wait for company up to the delay; prompt ones and flush() take them along", () =>
  withTempDir("meta-lazy", async (dir) => {
    const db = await openDb(dir);
    const delayMs = 300;
    const commit = new GroupCommit(db, delayMs);
    const put = (key: string) => ({ type: "put" as const, key, value: Buffer.from(key) });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    // Alone, a lazy operation is written once the delay ran out, and settled() does not hurry it.
    const started = performance.now();
    const lazy = commit.enqueue([put("lazy-1")], { lazy: true });
    await sleep(50);
    assert.equal(commit.batchCount, 0, "a lazy operation is not written at once");
    await commit.settled();
    await lazy;
    assert.ok(performance.now() - started >= delayMs - 5, `written after ${performance.now() - started} ms, before the ${delayMs} ms delay`);
    assert.equal(commit.batchCount, 1);

    // A prompt operation takes the lazy ones queued before it along, in one batch, at once.
    const lazyStarted = performance.now();
    const a = commit.enqueue([put("lazy-2"), { type: "del", key: "lazy-1" }], { lazy: true });
    await commit.enqueue([put("prompt")]);
    await a;
    assert.equal(commit.batchCount, 2, "the lazy and the prompt operations shared one batch");
    assert.ok(performance.now() - lazyStarted < delayMs, "the prompt operation did not wait for the lazy delay");

    // flush() writes lazy operations now.
    const flushStarted = performance.now();
    commit.enqueue([put("lazy-3")], { lazy: true }).catch(() => {});
    await commit.flush();
    assert.ok(performance.now() - flushStarted < delayMs, "flush() did not wait for the lazy delay");
    assert.equal(commit.batchCount, 3);

    assert.equal(await db.get("lazy-1"), undefined, "operations landed in order: the del after the put");
    for (const key of ["lazy-2", "prompt", "lazy-3"]) assert.equal((await db.get(key))?.toString(), key);
    await db.close();
  }));

test("namespace updates nobody waits for are written in the background, in few batches", () =>
  withTempDir("meta-lazy-doc", async (dir) => {
    const { meta, doc } = await reload(dir, "s");
    const map = doc.getMap("ns");
    const before = meta.batchCount;
    // One update per event-loop turn, as creates through the mount arrive.
    for (let i = 0; i < 50; i++) {
      map.set(`k${i}`, i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await meta.settled();
    assert.ok(meta.batchCount - before <= 5, `50 spread-out updates took ${meta.batchCount - before} batches`);
    await meta.close();
    assert.equal(Object.keys(await reloadedEntries(dir, "s")).length, 50);
  }));

test("log entries written before the V1 format (V2 updates) still load, beside new ones", () =>
  withTempDir("meta-v2-log", async (dir) => {
    const old = new Y.Doc();
    old.getMap("ns").set("legacy", 1);
    const db = await openDb(dir);
    await db.put("y!s\0u000000000001", Buffer.from(Y.encodeStateAsUpdateV2(old)));
    await db.close();
    const { meta, doc } = await reload(dir, "s");
    assert.equal(doc.getMap("ns").get("legacy"), 1);
    doc.getMap("ns").set("current", 2);
    await meta.close();
    const again = await reload(dir, "s");
    assert.deepEqual(again.doc.getMap("ns").toJSON(), { legacy: 1, current: 2 });
    assert.equal(again.meta.pendingUpdates("s"), 2, "the new update was appended after the legacy one");
    await again.meta.compact("s");
    await again.meta.close();
    const compacted = await reload(dir, "s");
    assert.deepEqual(compacted.doc.getMap("ns").toJSON(), { legacy: 1, current: 2 });
    await compacted.meta.close();
  }));

test("a second MetaStore on the same directory gets a clear error", () =>
  withTempDir("meta-lock", async (dir) => {
    const meta = await MetaStore.open(dir);
    await assert.rejects(MetaStore.open(dir), /another pod/);
    await meta.close();
  }));

test("outbox, peer holdings and local state persist across restarts", () =>
  withTempDir("meta-indexes", async (dir) => {
    const meta = await MetaStore.open(dir);
    await meta.outbox.add(VERSION_A, 100);
    await meta.outbox.add(VERSION_B, 200);
    await meta.outbox.add(VERSION_B, 250); // re-added with a new size: counted once
    await meta.outbox.remove(VERSION_A);
    await meta.outbox.remove(VERSION_A); // already gone: no change
    await meta.outbox.add(VERSION_B, 200);
    assert.deepEqual([meta.outbox.size, meta.outbox.bytes], [1, 200]);
    await meta.holdings.replace("pod-1", [VERSION_A, VERSION_B]);
    await meta.holdings.replace("pod-2", [VERSION_B]);
    await meta.holdings.patch("pod-1", { add: [VERSION_C], remove: [VERSION_A] });
    await meta.local.put("podId", { id: "pod-self", n: 3 });
    await assert.rejects(meta.outbox.add("../etc", 1), TypeError);
    await assert.rejects(meta.holdings.patch("bad!peer", { add: [VERSION_A] }), TypeError);
    await meta.close();

    const again = await MetaStore.open(dir);
    assert.deepEqual(again.outbox.list().map((e) => [e.version, e.size]), [[VERSION_B, 200]]);
    assert.equal(again.outbox.bytes, 200, "the total is rebuilt from the entries on load");
    assert.ok(again.outbox.has(VERSION_B) && !again.outbox.has(VERSION_A));
    assert.deepEqual([...again.holdings.versionsOf("pod-1")].sort(), [VERSION_B, VERSION_C]);
    assert.deepEqual([...again.holdings.holdersOf(VERSION_B)].sort(), ["pod-1", "pod-2"]);
    assert.deepEqual(again.holdings.holdersOf(VERSION_A), []);
    await again.holdings.replace("pod-2", []);
    assert.deepEqual(again.holdings.peers(), ["pod-1"]);
    assert.deepEqual(await again.local.get("podId"), { id: "pod-self", n: 3 });
    assert.equal(await again.local.get("missing"), undefined);
    await again.close();
  }));
