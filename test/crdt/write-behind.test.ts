// Write-behind for creates (Namespace `createBatchMs`): a create is in the view at once and
// reaches the shard documents with its batch, in one transaction, in the order of the local
// writes. The random interleavings with peers are in property.test.ts; these are the rules.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import * as Y from "yjs";
import { Namespace, NamespaceError } from "../../src/crdt/index.js";
import { Clock, dumpTree, podId, push, version } from "./helpers.js";

const HOUR = 3_600_000;

const writers: Namespace[] = [];
// A failed test must not leave an hour-long batch timer keeping the test process alive.
afterEach(() => {
  for (const ns of writers.splice(0)) ns.applyHeldCreates();
});

function makeWriter(createBatchMs: number, clock = new Clock()): Namespace {
  const ns = new Namespace({ podId: podId(1), now: clock.now, shardCount: 4, createBatchMs });
  writers.push(ns);
  return ns;
}

/** Counts the transactions that changed each shard document (one "update" event each). */
function countUpdates(ns: Namespace): () => number {
  let n = 0;
  for (const [name, doc] of ns.docs) if (name.startsWith("ns/")) doc.on("update", () => n++);
  return () => n;
}

/** The tree as a view built from the documents alone shows it. */
function documentsTree(ns: Namespace) {
  const view = Namespace.buildView(ns.docs);
  return dumpTree({ readdir: (p) => view.list(p, view.locate(p === "/" ? [] : p.slice(1).split("/"))!.resolution.dirs!) });
}

function inDocuments(ns: Namespace, path: string): boolean {
  return documentsTree(ns).some((e) => e.path === path);
}

test("a create is in the view at once and in the documents only with its batch", () => {
  const ns = makeWriter(HOUR);
  const updates = countUpdates(ns);
  ns.mkdir("/d");
  ns.createFile("/d/f");
  assert.equal(ns.lookup("/d/f")?.kind, "file");
  assert.equal(updates(), 0, "nothing reached the documents yet");
  assert.equal(inDocuments(ns, "/d/f"), false);
  ns.applyHeldCreates();
  assert.equal(inDocuments(ns, "/d/f"), true);
  assert.deepEqual(documentsTree(ns), dumpTree(ns));
});

test("a burst of creates is one transaction in one shard, applied within createBatchMs", async () => {
  const ns = makeWriter(20);
  const updates = countUpdates(ns);
  ns.mkdir("/d");
  const ids = Array.from({ length: 50 }, (_, i) => ns.createFile(`/d/f${i}`).inode);
  const shards = new Set(ids.map((id) => parseInt(id.slice(0, 8), 16) % 4));
  assert.equal(shards.size, 1, "ids drawn in the shard of the batch");
  assert.equal(updates(), 0);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(updates(), 1, "the timer applied the whole batch in one transaction");
  for (let i = 0; i < 50; i++) assert.equal(inDocuments(ns, `/d/f${i}`), true);
});

test("a batch is applied at once when it reaches 256 creates", () => {
  const ns = makeWriter(HOUR);
  const updates = countUpdates(ns);
  for (let i = 0; i < 300; i++) ns.createFile(`/f${i}`);
  assert.equal(updates(), 1);
  assert.equal(inDocuments(ns, "/f255"), true);
  assert.equal(inDocuments(ns, "/f256"), false);
  ns.applyHeldCreates();
});

test("change listeners hear of a create when it is made, not again when it is applied", () => {
  const ns = makeWriter(HOUR);
  const heard: string[][] = [];
  ns.onChange((inodes) => heard.push([...inodes]));
  const f = ns.createFile("/f");
  assert.deepEqual(heard, [[f.inode]]);
  ns.applyHeldCreates();
  assert.deepEqual(heard, [[f.inode]], "applying the batch changed nothing the view shows");
});

test("any other local write applies the held creates first: peers see local writes in order", () => {
  const clock = new Clock();
  const a = makeWriter(HOUR, clock);
  const log: { doc: string; update: Uint8Array }[] = [];
  for (const [doc, d] of a.docs) d.on("update", (update: Uint8Array) => log.push({ doc, update }));
  a.createFile("/f", undefined, { version: version(1), size: 1 });
  a.write("/f", { version: version(2), size: 2 }); // an ordinary transaction: the create goes first
  assert.equal(log.length, 2);
  // A peer that receives the updates one by one, in order, never sees the write without its file.
  const b = new Namespace({ podId: podId(2), now: clock.now, shardCount: 4 });
  Y.applyUpdate(b.docs.get(log[0].doc)!, log[0].update);
  assert.equal(b.lookup("/f")?.version, version(1));
  Y.applyUpdate(b.docs.get(log[1].doc)!, log[1].update);
  assert.equal(b.lookup("/f")?.version, version(2));
  assert.equal(a.lookup("/f")?.version, version(2));
});

test("a peer meanwhile gets everything but the held creates; afterwards both agree", () => {
  const clock = new Clock();
  const a = makeWriter(HOUR, clock);
  const b = new Namespace({ podId: podId(2), now: clock.now, shardCount: 4 });
  a.mkdir("/d");
  a.applyHeldCreates();
  a.createFile("/d/held");
  a.setattr("/d", { mode: 0o700 }); // applies /d/held first
  a.createFile("/d/later");
  push(a, b);
  assert.equal(b.lookup("/d")?.attr.mode, 0o700);
  assert.equal(b.lookup("/d/held")?.kind, "file");
  assert.equal(b.lookup("/d/later"), undefined, "still held on a");
  b.createFile("/d/later"); // the same name, concurrently: a name conflict, as over a slow network
  a.applyHeldCreates();
  push(a, b);
  push(b, a);
  assert.deepEqual(dumpTree(a), dumpTree(b));
  assert.deepEqual(a.conflicts(), b.conflicts());
  assert.equal(a.conflicts().length, 1);
});

test("createsApplied() resolves when the held creates are in the documents", async () => {
  const ns = makeWriter(HOUR);
  await ns.createsApplied(); // nothing held: at once
  ns.createFile("/f");
  let applied = false;
  const waiting = ns.createsApplied().then(() => (applied = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(applied, false);
  ns.applyHeldCreates();
  await waiting;
  assert.equal(applied, true);
});

test("createBatchMs must be a number ≥ 0", () => {
  assert.throws(() => makeWriter(-1), (e: unknown) => e instanceof NamespaceError && e.code === "EINVAL" && /createBatchMs/.test(e.message));
  assert.throws(() => makeWriter(Number.NaN), NamespaceError);
});
