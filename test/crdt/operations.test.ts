// The path-based operations on one pod: POSIX semantics and errors, inode addressing,
// change events, bulk loading, and the registry.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as Y from "yjs";
import { decodeStamp, encodeStamp, Hlc, Namespace, NamespaceError, REGISTRY_DOC, ROOT_INODE } from "../../src/crdt/index.js";
import { Clock, dumpTree, makePod, podId, push, syncAll, version } from "./helpers.js";

const C = (n: number) => ({ version: version(n), size: n });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NamespaceError, `expected a NamespaceError, got ${e}`);
    assert.ok(e.message.length > 10);
    return e.code;
  }
  return "no error";
}

describe("hybrid logical clock", () => {
  test("never goes backwards, even when the wall clock does", () => {
    const clock = new Clock();
    const hlc = new Hlc(podId(1), clock.now);
    const a = hlc.now();
    clock.tick(-60_000);
    const b = hlc.now();
    assert.ok(b.t > a.t);
  });

  test("receive() moves the clock past a remote stamp; ties break by pod id", () => {
    const clock = new Clock();
    const h1 = new Hlc(podId(1), clock.now);
    const h2 = new Hlc(podId(2), () => clock.ms - 5000);
    const remote = h1.now();
    h2.receive(remote.t);
    assert.ok(h2.now().t > remote.t);
    assert.deepEqual(decodeStamp(encodeStamp(remote)), remote);
    assert.throws(() => decodeStamp("zz"), /malformed/);
  });
});

describe("POSIX operations", () => {
  test("create, lookup, readdir, stat and the errors a user expects", () => {
    const ns = makePod(1, new Clock());
    ns.mkdir("/d", { mode: 0o700 });
    const f = ns.createFile("/d/f", { uid: 1000 }, C(1));
    ns.symlink("/d/l", "f");
    assert.equal(ns.lookup("/d")!.attr.mode, 0o700);
    assert.equal(ns.lookup("/d/f")!.attr.uid, 1000);
    assert.equal(ns.lookup("/d/l")!.symlinkTarget, "f");
    assert.deepEqual(ns.readdir("/d").map((e) => e.name), ["f", "l"]);
    assert.equal(ns.stat(f.inode)!.path, "/d/f");
    assert.equal(ns.lookup("/")!.inode, ROOT_INODE);
    assert.equal(code(() => ns.mkdir("/d")), "EEXIST");
    assert.equal(code(() => ns.createFile("/nope/f")), "ENOENT");
    assert.equal(code(() => ns.createFile("/d/f/g")), "ENOTDIR");
    assert.equal(code(() => ns.rmdir("/d")), "ENOTEMPTY");
    assert.equal(code(() => ns.rmdir("/d/f")), "ENOTDIR");
    assert.equal(code(() => ns.unlink("/d")), "EISDIR");
    assert.equal(code(() => ns.write("/d", C(2))), "EISDIR");
    assert.equal(code(() => ns.readdir("/d/f")), "ENOTDIR");
    assert.equal(code(() => ns.lookup("relative")), "EINVAL");
    assert.equal(code(() => ns.mkdir("/d/../x")), "EINVAL");
    assert.equal(code(() => ns.unlink("/missing")), "ENOENT");
  });

  test("rename follows rename(2): replaces files and empty dirs, refuses the rest", () => {
    const ns = makePod(1, new Clock());
    ns.mkdir("/a");
    ns.mkdir("/a/b");
    ns.mkdir("/empty");
    ns.mkdir("/full");
    ns.createFile("/full/x", undefined, C(1));
    ns.createFile("/f", undefined, C(2));
    ns.createFile("/g", undefined, C(3));
    assert.equal(code(() => ns.rename("/a", "/a/b/c")), "EINVAL");
    assert.equal(code(() => ns.rename("/a", "/f")), "ENOTDIR");
    assert.equal(code(() => ns.rename("/f", "/a")), "EISDIR");
    assert.equal(code(() => ns.rename("/a", "/full")), "ENOTEMPTY");
    assert.equal(code(() => ns.rename("/missing", "/x")), "ENOENT");
    assert.equal(code(() => ns.rename("/f", "/missing/x")), "ENOENT");
    ns.rename("/f", "/g");
    assert.equal(ns.lookup("/g")!.version, version(2));
    ns.rename("/a", "/empty");
    assert.deepEqual(dumpTree(ns).map((e) => e.path), ["/empty", "/empty/b", "/full", "/full/x", "/g"]);
    ns.rename("/g", "/g");
    assert.equal(ns.lookup("/g")!.version, version(2));
  });

  test("write and setattr address an inode by id, so an open handle survives a rename", () => {
    const ns = makePod(1, new Clock());
    const f = ns.createFile("/f", undefined, C(1));
    ns.rename("/f", "/moved");
    ns.write(f.inode, C(2));
    ns.setattr(f.inode, { mtimeMs: 42 });
    assert.equal(ns.lookup("/moved")!.version, version(2));
    assert.equal(ns.lookup("/moved")!.attr.mtimeMs, 42);
    ns.unlink("/moved");
    assert.equal(code(() => ns.write(f.inode, C(3))), "ENOENT");
    ns.setattr("/", { mode: 0o700 });
    assert.equal(ns.lookup("/")!.attr.mode, 0o700);
  });
});

describe("change events and loading", () => {
  test("onChange fires once per transaction with the touched inodes, for local and remote changes", () => {
    const clock = new Clock();
    const a = makePod(1, clock);
    const b = makePod(2, clock);
    const seenA: string[][] = [];
    const seenB: string[][] = [];
    a.onChange((ids) => seenA.push([...ids]));
    const off = b.onChange((ids) => seenB.push([...ids]));
    const f = a.createFile("/f", undefined, C(1));
    assert.deepEqual(seenA, [[f.inode]]);
    push(a, b);
    assert.ok(seenB.some((ids) => ids.includes(f.inode)));
    // A directory that comes back because of its content is reported too.
    const d = a.mkdir("/d");
    push(a, b);
    a.rmdir("/d");
    b.createFile("/d/x", undefined, C(5));
    seenA.length = 0;
    push(b, a);
    assert.ok(seenA.some((ids) => ids.includes(d.inode)));
    off();
    a.write("/f", C(2));
    push(a, b);
    assert.equal(seenB.filter((ids) => ids.includes(f.inode)).length, 1);
  });

  test("applyUpdates loads persisted updates in one pass and gives the same view", () => {
    const clock = new Clock();
    const a = makePod(1, clock, "overwrite", 16);
    const log: { doc: string; update: Uint8Array }[] = [];
    for (const [name, doc] of a.docs) doc.on("updateV2", (u: Uint8Array) => log.push({ doc: name, update: u }));
    for (let d = 0; d < 5; d++) {
      a.mkdir(`/d${d}`);
      for (let i = 0; i < 20; i++) a.createFile(`/d${d}/f${i}`, undefined, C(i));
    }
    a.rename("/d0", "/d1/d0");
    a.registry.set("config", "redundancy = 2");
    const fresh = new Namespace({ podId: podId(1), now: clock.now });
    let events = 0;
    fresh.onChange(() => events++);
    fresh.applyUpdates(log);
    assert.equal(events, 1);
    assert.deepEqual(dumpTree(fresh), dumpTree(a));
    assert.equal(fresh.registry.get("config"), "redundancy = 2");
    // A pod restarting from its own log keeps its clock ahead of everything it wrote.
    assert.ok(fresh.hlc.now().t > a.hlc.latest);
    assert.throws(() => fresh.applyUpdates([{ doc: "bogus", update: new Uint8Array() }]), NamespaceError);
  });

  test("malformed records from a peer are ignored, not trusted", () => {
    const a = makePod(1, new Clock());
    const doc = a.docs.get(a.shardNames[0])!;
    doc.getMap("inodes").set(`${"ab".repeat(16)}/${podId(9)}`, { k: "f", loc: "nonsense" });
    doc.getMap("inodes").set("not-a-slot-key", 5);
    doc.getMap("inodes").set(`${"cd".repeat(16)}/${podId(9)}`, "[1, 2");
    doc.getMap("inodes").set(`${"ef".repeat(16)}/${podId(9)}`, JSON.stringify([9, null, "x", "y"]));
    assert.deepEqual(dumpTree(a), []);
  });
});

describe("registry", () => {
  test("per-writer slots: last writer by HLC wins, concurrent sets are not dropped by client id", () => {
    const clock = new Clock();
    const a = makePod(1, clock);
    const b = makePod(2, clock);
    a.registry.set(`member/${podId(1)}`, { role: "full" });
    b.registry.set(`member/${podId(2)}`, { role: "client" });
    b.registry.set("config", "old");
    clock.tick();
    a.registry.set("config", "new");
    const changed: string[] = [];
    b.registry.onChange((keys) => changed.push(...keys));
    syncAll([a, b]);
    for (const ns of [a, b]) {
      assert.equal(ns.registry.get("config"), "new");
      assert.deepEqual(ns.registry.entries("member/").map(([k]) => k), [`member/${podId(1)}`, `member/${podId(2)}`]);
    }
    assert.ok(changed.includes("config"));
    b.registry.delete(`member/${podId(1)}`);
    syncAll([a, b]);
    assert.equal(a.registry.get(`member/${podId(1)}`), undefined);
    assert.ok(a.docs.get(REGISTRY_DOC) instanceof Y.Doc);
  });
});
