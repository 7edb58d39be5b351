// Three real pods (`wormhole start --mount`), each with its own FUSE mount, redundancy 2:
// a tree copied into one mount reads back identical through the other two; changes made in
// one mount show in the others (close-to-open, never stale); concurrent writes made while
// disconnected become conflicts that every mount shows the same way, under both policies,
// until `wormhole conflicts resolve`; a SIGKILLed pod's files stay readable elsewhere.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { join, relative } from "node:path";
import { type PodProcess, waitFor } from "../helpers/cluster.js";
import { MountedCluster, run } from "../helpers/mount-harness.js";
import type { ConflictsResponse, LsResponse } from "../../src/pod/admin-api.js";

const MiB = 1024 * 1024;
/** The largest file of the tree (the issue asks for 50 MiB; lower it on a slow machine). */
const BIG = Number(process.env.WORMHOLE_TEST_BIG_MIB ?? 50) * MiB;
const SLOW = 90_000; // replication of the big file and pulls on a loaded 2-core machine

const CONFIG = `[cluster]
name = "test"
redundancy = 2
conflict = "keep-both"

# A full pod working offline sees the others' replicas as unreachable ("unavailable"), and
# the default reaction to that is read-only: c must keep writing to make a conflict.
[failure]
unavailable = "continue"
at_risk = "continue"

[[rules]]
path = "/ow/**"
conflict = "overwrite"
`;

const pods = new MountedCluster();
let a: PodProcess;
let b: PodProcess;
let c: PodProcess;
const src = join(pods.cluster.root, "src");
const at = (pod: PodProcess, path: string) => pods.at(pod, path);

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}

/** Every file under `dir`, relative, with its size. */
async function listTree(dir: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(relative(dir, join(entry.parentPath, entry.name)), (await fs.stat(join(entry.parentPath, entry.name))).size);
  }
  return files;
}

/** Waits until `pod`'s mount shows every file of the source tree at its size. */
async function waitForTree(pod: PodProcess): Promise<void> {
  const expected = await listTree(src);
  await waitFor(
    `${pod.name} to show the whole tree`,
    async () => {
      for (const [path, size] of expected) {
        if ((await fs.stat(join(at(pod, "tree"), path)).catch(() => undefined))?.size !== size) return false;
      }
      return true;
    },
    SLOW,
  );
}

async function podId(pod: PodProcess): Promise<string> {
  const self = (await pod.status()).pods.find((p) => p.self);
  assert.ok(self, `${pod.name} reports itself in status`);
  return self.id;
}

async function conflicts(pod: PodProcess): Promise<ConflictsResponse["conflicts"]> {
  return (JSON.parse(await pod.cli(["conflicts", "--json"])) as ConflictsResponse).conflicts;
}

before(async () => {
  const config = join(pods.cluster.root, "wormhole.toml");
  await fs.writeFile(config, CONFIG);
  a = await pods.seed("a", ["--config", config]);
  b = await pods.join("b", a);
  c = await pods.join("c", a);
  await waitFor("the three pods to see each other", async () => (await a.status()).pods.filter((p) => p.state === "up").length === 3);

  // Mixed sizes, from empty to BIG, in nested directories, an empty directory and a symlink.
  const sizes = [0, 1, 4095, 4096, 64 * 1024 + 1, MiB + 3, 3 * MiB, BIG];
  await fs.mkdir(join(src, "sub", "deeper"), { recursive: true });
  await fs.mkdir(join(src, "empty-dir"));
  for (const [i, size] of sizes.entries()) {
    const dir = [src, join(src, "sub"), join(src, "sub", "deeper")][i % 3]!;
    await fs.writeFile(join(dir, `f${i}-${size}.bin`), randomBytes(size));
  }
  await fs.writeFile(join(src, "read-by-c.txt"), "version one of the text, read on c\n");
  await fs.symlink("sub/deeper", join(src, "link"));
});

after(() => pods.dispose());

describe("three pods, each mounted", () => {
  it("shows the cluster's space in df: the three pods' disks over the redundancy of 2", async () => {
    // The pods share this machine's disk, and none has a storage_limit: each offers all of it.
    const disk = await fs.statfs(pods.cluster.root);
    const diskBytes = disk.blocks * disk.bsize;
    const mountBytes = async (pod: PodProcess) => {
      const s = await fs.statfs(at(pod, "."));
      return s.blocks * s.bsize;
    };
    // Each pod learns the others' space from their presence (sent on connect, then every 5 s).
    for (const pod of [a, b, c]) {
      await waitFor(`${pod.name}'s df to show 1.5 disks`, async () => Math.abs((await mountBytes(pod)) - 1.5 * diskBytes) < 2 ** 20);
    }
    const free = await fs.statfs(at(a, "."));
    assert.ok(free.bavail * free.bsize <= 1.5 * disk.bavail * disk.bsize + 2 ** 30, "free space is over the redundancy too");
  });

  it("shows a tree copied into one mount identically in the other two (cp -r, diff -r)", async () => {
    await run("cp", ["-r", src, at(a, "tree")]);
    await run("diff", ["-r", "--no-dereference", src, at(a, "tree")]);
    for (const pod of [b, c]) {
      await waitForTree(pod);
      await run("diff", ["-r", "--no-dereference", src, at(pod, "tree")]);
    }
  });

  it("shows rename, delete, chmod, truncate and overwrite made in one mount in the others, never stale", async () => {
    const readByC = at(c, "tree/read-by-c.txt");
    const before = await fs.stat(readByC);
    assert.equal(await fs.readFile(readByC, "utf8"), "version one of the text, read on c\n"); // now in c's page cache

    const newText = "VERSION TWO of the text, read on c\n";
    assert.equal(newText.length, before.size); // same size: only the mtime tells the kernel
    // The same changes, made in b's mount and in the source tree (which the last test compares to).
    const change = async (root: string) => {
      await fs.rename(join(root, "sub/f4-65537.bin"), join(root, "renamed.bin"));
      await fs.unlink(join(root, "f3-4096.bin"));
      await fs.chmod(join(root, "sub/f1-1.bin"), 0o600);
      await fs.chmod(join(root, "sub/deeper"), 0o750);
      await fs.truncate(join(root, "sub/deeper/f5-1048579.bin"), 1000);
      await fs.writeFile(join(root, "read-by-c.txt"), newText);
    };
    await change(at(b, "tree"));
    await change(src);
    const truncated = await fs.readFile(join(src, "sub/deeper/f5-1048579.bin"));

    for (const pod of [a, c]) {
      await waitFor(`${pod.name} to see the rename`, () => exists(at(pod, "tree/renamed.bin")), SLOW);
      assert.equal(await exists(at(pod, "tree/sub/f4-65537.bin")), false);
      assert.deepEqual(await fs.readFile(at(pod, "tree/renamed.bin")), await fs.readFile(join(src, "renamed.bin")));
      await waitFor(`${pod.name} to see the delete`, async () => !(await exists(at(pod, "tree/f3-4096.bin"))));
      await waitFor(`${pod.name} to see the chmod`, async () => ((await fs.stat(at(pod, "tree/sub/f1-1.bin"))).mode & 0o7777) === 0o600);
      // Directories' attributes are cached by the binding until a change drops them.
      await waitFor(`${pod.name} to see the chmod of a directory`, async () => ((await fs.stat(at(pod, "tree/sub/deeper"))).mode & 0o7777) === 0o750);
      await waitFor(`${pod.name} to see the truncate`, async () => (await fs.stat(at(pod, "tree/sub/deeper/f5-1048579.bin"))).size === 1000);
      assert.deepEqual(await fs.readFile(at(pod, "tree/sub/deeper/f5-1048579.bin")), truncated);
      // Once the new mtime is visible, the content must be the new one (not c's cached pages).
      await waitFor(`${pod.name} to see the overwrite`, async () => (await fs.stat(at(pod, "tree/read-by-c.txt"))).mtimeMs !== before.mtimeMs);
      assert.equal(await fs.readFile(at(pod, "tree/read-by-c.txt"), "utf8"), newText);
    }
  });

  it("shows concurrent writes made while disconnected as conflicts under both policies, until resolved", async () => {
    // /kb/ follows the cluster default (keep-both), /ow/ the overwrite rule.
    for (const dir of ["kb", "ow"]) {
      await fs.mkdir(at(a, dir));
      await fs.writeFile(at(a, `${dir}/notes.txt`), "base\n");
    }
    for (const dir of ["kb", "ow"]) {
      await waitFor(`c to see /${dir}/notes.txt`, async () => (await fs.readFile(at(c, `${dir}/notes.txt`), "utf8").catch(() => "")) === "base\n");
    }
    const cId = await podId(c);

    await c.cli(["offline"]);
    const offlineSince = Date.now();
    for (const dir of ["kb", "ow"]) await fs.writeFile(at(c, `${dir}/notes.txt`), "written on c, offline\n");
    await new Promise((r) => setTimeout(r, 1_100)); // a's write is the newer one, by more than clock noise
    for (const dir of ["kb", "ow"]) await fs.writeFile(at(a, `${dir}/notes.txt`), "written on a\n");
    assert.equal(await fs.readFile(at(c, "kb/notes.txt"), "utf8"), "written on c, offline\n", "c did not see a's write while offline");
    await c.cli(["online"]);

    for (const pod of [a, b, c]) {
      await waitFor(`${pod.name} to list both conflicts`, async () => (await conflicts(pod)).length === 2, SLOW);
      const listed = await conflicts(pod);
      assert.deepEqual(listed.map((x) => [x.path, x.policy]).sort(), [
        ["/kb/notes.txt", "keep-both"],
        ["/ow/notes.txt", "overwrite"],
      ]);
    }
    const copyName = new RegExp(`^notes\\.conflict-${cId.slice(0, 8)}-(\\d{8}-\\d{6})\\.txt$`);
    for (const pod of [a, b, c]) {
      // keep-both: the newest is the file, the other is beside it, named after its pod and time.
      const names = await waitFor(`${pod.name} to show the conflict copy`, async () => {
        const listed = await fs.readdir(at(pod, "kb"));
        return listed.length === 2 ? listed.sort() : undefined;
      });
      const stamp = copyName.exec(names[0]!)?.[1];
      assert.ok(stamp, `${names[0]} is named notes.conflict-<c's id>-<yyyymmdd-hhmmss>.txt`);
      const written = Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(9, 11), +stamp.slice(11, 13), +stamp.slice(13, 15));
      assert.ok(Math.abs(written - offlineSince) < 60_000, `the copy's time ${stamp} is when c wrote it`);
      assert.equal(names[1], "notes.txt");
      assert.equal(await fs.readFile(at(pod, "kb/notes.txt"), "utf8"), "written on a\n");
      assert.equal(await fs.readFile(at(pod, `kb/${names[0]}`), "utf8"), "written on c, offline\n");
      // overwrite: only the newest shows.
      assert.deepEqual(await fs.readdir(at(pod, "ow")), ["notes.txt"]);
      await waitFor(`${pod.name} to show the newest version under /ow`, async () => (await fs.readFile(at(pod, "ow/notes.txt"), "utf8")) === "written on a\n");
    }

    await b.cli(["conflicts", "resolve", "/kb/notes.txt", "--keep", "newest"]);
    await b.cli(["conflicts", "resolve", "/ow/notes.txt", "--keep", "c"]); // the older side, on purpose
    for (const pod of [a, b, c]) {
      await waitFor(`${pod.name} to agree on the resolution`, async () => {
        const kb = await fs.readdir(at(pod, "kb"));
        const ow = await fs.readFile(at(pod, "ow/notes.txt"), "utf8");
        return kb.length === 1 && ow === "written on c, offline\n" && (await conflicts(pod)).length === 0;
      }, SLOW);
      assert.equal(await fs.readFile(at(pod, "kb/notes.txt"), "utf8"), "written on a\n");
      assert.deepEqual(await fs.readdir(at(pod, "ow")), ["notes.txt"]);
    }
  });

  it("keeps a SIGKILLed pod's files readable through the other mounts", async () => {
    // Fresh files that neither b nor c has read: each is on a and on one placement target.
    const fresh = Array.from({ length: 6 }, (_, i) => randomBytes(MiB + i * 4099));
    await fs.mkdir(at(a, "fresh"));
    for (const [i, data] of fresh.entries()) await fs.writeFile(at(a, `fresh/${i}.bin`), data);
    await waitFor("b and c to see the fresh files", async () => (await fs.readdir(at(b, "fresh"))).length === 6 && (await fs.readdir(at(c, "fresh"))).length === 6);
    // Both survivors must know two holders of each fresh file (health is computed on a timer,
    // so a "healthy" status may predate these writes).
    for (const pod of [b, c]) {
      await waitFor(`${pod.name} to know 2 replicas of every fresh file`, async () => {
        const listed = JSON.parse(await pod.cli(["ls", "/fresh", "--json"])) as LsResponse;
        return listed.entries.length === fresh.length && listed.entries.every((e) => (e.replicas ?? 0) >= 2);
      }, SLOW);
    }
    await waitFor("every file to have its 2 replicas", async () => (await b.status()).health === "healthy", SLOW);
    await a.kill("SIGKILL"); // a wrote everything
    for (const pod of [b, c]) {
      // Every byte read through the mount, from this pod or from the surviving holder.
      for (const [i, data] of fresh.entries()) assert.deepEqual(await fs.readFile(at(pod, `fresh/${i}.bin`)), data, `fresh/${i}.bin on ${pod.name}`);
      await run("diff", ["-r", "--no-dereference", src, at(pod, "tree")]);
      assert.equal((await fs.stat(at(pod, "tree/sub/f1-1.bin"))).mode & 0o7777, 0o600);
    }
  });
});
