// The kernel keeps names and attributes (pod.toml `kernel_cache`), and the binding makes it
// forget them the moment the namespace changes (src/fs/kernel-cache.ts). Here the
// pods keep them for a minute, so that nothing stale can expire during a test: every check
// runs once, right after the change reached the pod, and a stale kernel cache fails it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { type PodProcess, waitFor } from "../helpers/cluster.js";
import { MountedCluster } from "../helpers/mount-harness.js";

const pods = new MountedCluster({ kernelCache: "60s" });
let a: PodProcess;
const onA = (path: string) => join(pods.mnt("a"), path);
const onB = (path: string) => join(pods.mnt("b"), path);
const isENOENT = (err: NodeJS.ErrnoException) => err.code === "ENOENT";

before(async () => {
  a = await pods.seed("a", ["--redundancy", "1"]);
  await pods.join("b", a);
  await waitFor("a and b to see each other", async () => (await a.status()).pods.filter((p) => p.state === "up").length === 2);
});

after(() => pods.dispose());

/**
 * Runs `change` in a's mount, then writes a marker there and waits until b reads it. One
 * pod's updates apply in order, so b has then applied the whole change.
 */
let markers = 0;
async function changeOnA(change: () => Promise<void>): Promise<void> {
  await change();
  const marker = `marker-${++markers}`;
  await fs.writeFile(onA(marker), marker);
  await waitFor(`b to read ${marker}`, async () => (await fs.readFile(onB(marker), "utf8").catch(() => "")) === marker);
}

/** Stats `paths` in b's mount twice: the kernel then holds their names and attributes. */
async function statTwiceOnB(paths: string[]): Promise<void> {
  for (let i = 0; i < 2; i++) for (const path of paths) await fs.stat(onB(path));
}

test("another pod's changes to sizes, modes and times are never answered from the kernel's cache", async () => {
  await changeOnA(async () => {
    await fs.mkdir(onA("attrs/dir"), { recursive: true });
    await fs.writeFile(onA("attrs/file.txt"), "one");
  });
  // A read drops the kernel's atime: stat after it.
  assert.equal(await fs.readFile(onB("attrs/file.txt"), "utf8"), "one");
  await statTwiceOnB(["attrs", "attrs/dir", "attrs/file.txt"]);
  const mtime = new Date("2020-01-02T03:04:05Z");

  await changeOnA(async () => {
    await fs.writeFile(onA("attrs/file.txt"), "two, longer");
    await fs.chmod(onA("attrs/file.txt"), 0o600);
    await fs.chmod(onA("attrs/dir"), 0o700);
    await fs.utimes(onA("attrs/dir"), mtime, mtime);
  });
  const file = await fs.stat(onB("attrs/file.txt"));
  assert.equal(file.size, 11);
  assert.equal(file.mode & 0o777, 0o600);
  assert.equal(await fs.readFile(onB("attrs/file.txt"), "utf8"), "two, longer");
  const dir = await fs.stat(onB("attrs/dir"));
  assert.equal(dir.mode & 0o777, 0o700);
  assert.equal(dir.mtime.getTime(), mtime.getTime());
});

test("names another pod deleted, moved or gave another type are looked up again", async () => {
  await changeOnA(async () => {
    await fs.mkdir(onA("names/sub"), { recursive: true });
    for (const name of ["deleted", "recreated", "moved", "retyped", "sub/inner"]) await fs.writeFile(onA(`names/${name}`), name);
  });
  await statTwiceOnB(["names/deleted", "names/recreated", "names/moved", "names/retyped", "names/sub", "names/sub/inner"]);

  await changeOnA(async () => {
    await fs.unlink(onA("names/deleted"));
    await fs.unlink(onA("names/recreated"));
    await fs.rename(onA("names/moved"), onA("names/renamed"));
    await fs.unlink(onA("names/retyped"));
    await fs.mkdir(onA("names/retyped"));
    await fs.rename(onA("names/sub"), onA("names/sub-moved"));
  });
  await assert.rejects(fs.stat(onB("names/deleted")), isENOENT);
  await assert.rejects(fs.readFile(onB("names/moved")), isENOENT);
  assert.equal(await fs.readFile(onB("names/renamed"), "utf8"), "moved");
  assert.ok((await fs.stat(onB("names/retyped"))).isDirectory());
  await assert.rejects(fs.stat(onB("names/sub/inner")), isENOENT);
  assert.equal(await fs.readFile(onB("names/sub-moved/inner"), "utf8"), "sub/inner");
  // open(O_CREAT) of a name b's kernel still holds creates the file instead of failing.
  await fs.writeFile(onB("names/recreated"), "again");
  assert.equal(await fs.readFile(onB("names/recreated"), "utf8"), "again");
  await waitFor("a to read the recreated file", async () => (await fs.readFile(onA("names/recreated"), "utf8").catch(() => "")) === "again");
});
