// One named scenario per anomaly of replicated trees (DESIGN.md "The resolved view"),
// under both policies where the policy changes what is shown.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LOST_FOUND_NAME } from "../../src/crdt/index.js";
import { assertSameView, Clock, dumpTree, makePod, podId, syncAll, version } from "./helpers.js";

const V1 = { version: version("one"), size: 1 };
const V2 = { version: version("two"), size: 2 };
const V3 = { version: version("three"), size: 3 };

function twoPods(policy: "overwrite" | "keep-both") {
  const clock = new Clock();
  const a = makePod(1, clock, policy);
  const b = makePod(2, clock, policy);
  return { clock, a, b };
}

/** Both pods have `path` at V1; then a writes V2 and b, a second later, V3. */
function concurrentEdits(policy: "overwrite" | "keep-both", path: string) {
  const { clock, a, b } = twoPods(policy);
  a.createFile(path, undefined, V1);
  syncAll([a, b]);
  a.write(path, V2);
  clock.tick();
  b.write(path, V3);
  syncAll([a, b]);
  return { a, b };
}

const names = (entries: { name: string }[]) => entries.map((e) => e.name);

describe("concurrent edits of one file", () => {
  test("overwrite: the newest version is the file, the other is listed until resolved", () => {
    const { a, b } = concurrentEdits("overwrite", "/f.txt");
    assertSameView([a, b]);
    assert.deepEqual(names(a.readdir("/")), ["f.txt"]);
    assert.equal(a.lookup("/f.txt")!.version, V3.version);
    const [c] = a.conflicts();
    assert.equal(c.kind, "content");
    assert.deepEqual(c.sides.map((s) => [s.pod, s.version]), [[podId(2), V3.version], [podId(1), V2.version]]);
    assert.deepEqual(new Set([...a.liveVersions()].map((v) => v.version)), new Set([V2.version, V3.version]));
    a.resolveConflict("/f.txt", { pod: podId(1) });
    syncAll([a, b]);
    assert.equal(b.lookup("/f.txt")!.version, V2.version);
    assert.deepEqual(b.conflicts(), []);
  });

  test("keep-both: the other version appears beside it as name.conflict-<pod>-<time>.ext", () => {
    const { a, b } = concurrentEdits("keep-both", "/f.txt");
    assertSameView([a, b]);
    assert.deepEqual(names(a.readdir("/")), ["f.conflict-01010101-20260101-000000.txt", "f.txt"]);
    const copy = a.lookup("/f.conflict-01010101-20260101-000000.txt")!;
    assert.equal(copy.version, V2.version);
    assert.deepEqual(copy.conflictCopy, { pod: podId(1), timeMs: Date.UTC(2026, 0, 1), of: "/f.txt", reason: "content" });
    // Writing the main file must not make the visible copy vanish: it becomes a file of its own.
    b.write("/f.txt", V1);
    syncAll([a, b]);
    assert.deepEqual(names(a.readdir("/")), ["f.conflict-01010101-20260101-000000.txt", "f.txt"]);
    assert.equal(a.lookup("/f.conflict-01010101-20260101-000000.txt")!.conflictCopy, undefined);
    assert.deepEqual(a.conflicts(), []);
  });

  test("keep-both: unlinking a copy discards that side only", () => {
    const { a, b } = concurrentEdits("keep-both", "/f");
    const copy = a.readdir("/").find((e) => e.conflictCopy)!;
    a.unlink(copy.path);
    syncAll([a, b]);
    assertSameView([a, b]);
    assert.deepEqual(names(b.readdir("/")), ["f"]);
    assert.equal(b.lookup("/f")!.version, V3.version);
    assert.deepEqual(b.conflicts(), []);
  });
});

describe("edit concurrent with delete", () => {
  for (const policy of ["overwrite", "keep-both"] as const) {
    test(`${policy}: the edit wins, the file stays, an edit-delete conflict is listed`, () => {
      const { clock, a, b } = twoPods(policy);
      a.createFile("/f", undefined, V1);
      syncAll([a, b]);
      a.unlink("/f");
      clock.tick();
      b.write("/f", V2);
      syncAll([a, b]);
      assertSameView([a, b]);
      assert.equal(a.lookup("/f")!.version, V2.version);
      const [c] = a.conflicts();
      assert.equal(c.kind, "edit-delete");
      assert.deepEqual(c.sides.map((s) => s.deleted ?? false).sort(), [false, true]);
      a.resolveConflict("/f", "newest");
      syncAll([a, b]);
      assert.equal(b.lookup("/f")!.version, V2.version);
      assert.deepEqual(b.conflicts(), []);
    });
  }
});

describe("same name created twice", () => {
  test("overwrite: the newest file has the name, the other is hidden and listed", () => {
    const { clock, a, b } = twoPods("overwrite");
    a.createFile("/n.txt", undefined, V1);
    clock.tick();
    b.createFile("/n.txt", undefined, V2);
    syncAll([a, b]);
    assertSameView([a, b]);
    assert.deepEqual(names(a.readdir("/")), ["n.txt"]);
    assert.equal(a.lookup("/n.txt")!.version, V2.version);
    const [c] = a.conflicts();
    assert.equal(c.kind, "name");
    assert.deepEqual(c.sides.map((s) => s.version), [V2.version, V1.version]);
    a.resolveConflict("/n.txt", "both");
    syncAll([a, b]);
    assert.deepEqual(names(b.readdir("/")), ["n.conflict-01010101-20260101-000000.txt", "n.txt"]);
    assert.deepEqual(b.conflicts(), []);
  });

  test("keep-both: both are shown, the older under a conflict name", () => {
    const { clock, a, b } = twoPods("keep-both");
    a.createFile("/n.txt", undefined, V1);
    clock.tick();
    b.createFile("/n.txt", undefined, V2);
    syncAll([a, b]);
    assertSameView([a, b]);
    const [main, copy] = [a.lookup("/n.txt")!, a.lookup("/n.conflict-01010101-20260101-000000.txt")!];
    assert.equal(main.version, V2.version);
    assert.equal(copy.version, V1.version);
    assert.equal(copy.conflictCopy?.reason, "name");
    assert.equal(a.stat(copy.inode)?.path, copy.path);
    // Renaming the copy is an ordinary rename of that inode; the conflict is gone.
    b.rename(copy.path, "/older.txt");
    syncAll([a, b]);
    assert.deepEqual(names(a.readdir("/")), ["n.txt", "older.txt"]);
    assert.deepEqual(a.conflicts(), []);
  });
});

test("mkdir -p of one path on two pods merges the directories", () => {
  const { a, b } = twoPods("overwrite");
  a.mkdir("/x");
  a.mkdir("/x/y");
  a.createFile("/x/y/from-a", undefined, V1);
  b.mkdir("/x");
  b.mkdir("/x/y");
  b.createFile("/x/y/from-b", undefined, V2);
  syncAll([a, b]);
  assertSameView([a, b]);
  assert.deepEqual(dumpTree(a).map((e) => e.path), ["/x", "/x/y", "/x/y/from-a", "/x/y/from-b"]);
  assert.deepEqual(a.conflicts(), []);
  // The merged directory behaves as one: it can be renamed and emptied as a whole.
  a.rename("/x", "/z");
  a.unlink("/z/y/from-a");
  a.unlink("/z/y/from-b");
  a.rmdir("/z/y");
  syncAll([a, b]);
  assert.deepEqual(dumpTree(b).map((e) => e.path), ["/z"]);
});

describe("concurrent moves forming a cycle", () => {
  test("the newest move falls back to where it came from and is listed", () => {
    const { clock, a, b } = twoPods("overwrite");
    a.mkdir("/p");
    a.mkdir("/q");
    a.createFile("/q/inside", undefined, V1);
    syncAll([a, b]);
    a.rename("/p", "/q/p");
    clock.tick();
    b.rename("/q", "/p/q");
    syncAll([a, b]);
    assertSameView([a, b]);
    // b's move is newer: /q stays at the root (where it came from), a's move stands.
    assert.deepEqual(dumpTree(a).map((e) => e.path), ["/q", "/q/inside", "/q/p"]);
    const [c] = a.conflicts();
    assert.equal(c.kind, "move");
    assert.equal(c.path, "/q");
    a.resolveConflict("/q", "newest");
    syncAll([a, b]);
    assert.deepEqual(b.conflicts(), []);
    assert.deepEqual(dumpTree(b).map((e) => e.path), ["/q", "/q/inside", "/q/p"]);
  });

  test("when the fallback closes another cycle, the directory goes to /lost+found", () => {
    const clock = new Clock();
    const [a, b, c] = [1, 2, 3].map((n) => makePod(n, clock));
    a.mkdir("/p");
    const m = a.mkdir("/p/m");
    a.mkdir("/n");
    syncAll([a, b, c]);
    a.rename("/n", "/p/m/n"); // n into m
    clock.tick();
    c.rename("/p", "/n/p"); // p into n
    clock.tick();
    b.rename("/p/m", "/n/m"); // m into n: newest; its fallback p is now inside n, inside m
    syncAll([a, b, c]);
    assertSameView([a, b, c]);
    const lf = `/${LOST_FOUND_NAME}/${m.inode}`;
    assert.deepEqual(dumpTree(a).map((e) => e.path), [`/${LOST_FOUND_NAME}`, lf, `${lf}/n`, `${lf}/n/p`]);
    assert.deepEqual(a.conflicts().map((k) => [k.path, k.kind]), [[lf, "move"]]);
    // Moving it out of /lost+found settles it: the new move is the newest and closes no cycle.
    a.rename(lf, "/m");
    syncAll([a, b, c]);
    assert.deepEqual(dumpTree(c).map((e) => e.path), ["/m", "/m/n", "/m/n/p"]);
    assert.deepEqual(c.conflicts(), []);
  });
});

describe("rename on one pod, edit on another", () => {
  for (const policy of ["overwrite", "keep-both"] as const) {
    test(`${policy}: one file, at the new name, with the new content`, () => {
      const { clock, a, b } = twoPods(policy);
      a.mkdir("/d");
      a.createFile("/d/f", undefined, V1);
      syncAll([a, b]);
      a.rename("/d/f", "/g");
      clock.tick();
      b.write("/d/f", V2);
      b.setattr("/d/f", { mode: 0o600 });
      syncAll([a, b]);
      assertSameView([a, b]);
      assert.deepEqual(dumpTree(a).map((e) => e.path), ["/d", "/g"]);
      assert.equal(a.lookup("/g")!.version, V2.version);
      assert.equal(a.lookup("/g")!.attr.mode, 0o600);
      assert.deepEqual(a.conflicts(), []);
    });
  }
});

describe("directory deleted while a file is added inside it", () => {
  test("the file brings the directory back, and the deletion is listed", () => {
    const { clock, a, b } = twoPods("overwrite");
    a.mkdir("/d");
    a.mkdir("/d/e");
    syncAll([a, b]);
    a.rmdir("/d/e");
    a.rmdir("/d");
    clock.tick();
    b.createFile("/d/e/new", undefined, V1);
    syncAll([a, b]);
    assertSameView([a, b]);
    assert.deepEqual(dumpTree(a).map((e) => e.path), ["/d", "/d/e", "/d/e/new"]);
    assert.deepEqual(a.conflicts().map((c) => [c.path, c.kind]), [["/d", "edit-delete"], ["/d/e", "edit-delete"]]);
    b.resolveConflict("/d", "newest");
    b.resolveConflict("/d/e", "newest");
    syncAll([a, b]);
    assert.deepEqual(a.conflicts(), []);
    // Once the file goes, the directories are ordinary ones that stay.
    a.unlink("/d/e/new");
    syncAll([a, b]);
    assert.deepEqual(dumpTree(b).map((e) => e.path), ["/d", "/d/e"]);
  });

  test("without a resolution, the directory disappears again when its last file goes", () => {
    const { clock, a, b } = twoPods("overwrite");
    a.mkdir("/d");
    syncAll([a, b]);
    a.rmdir("/d");
    clock.tick();
    b.createFile("/d/new", undefined, V1);
    syncAll([a, b]);
    b.unlink("/d/new");
    syncAll([a, b]);
    assert.deepEqual(dumpTree(a), []);
    assert.deepEqual(a.conflicts(), []);
  });
});
