// Close-to-open across pods: what one pod's mount closes, the other pod's mount opens,
// content pulled from the pod that holds it. Two real pods (`wormhole start --mount`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { type PodProcess, waitFor } from "../helpers/cluster.js";
import { MountedCluster } from "../helpers/mount-harness.js";

const pods = new MountedCluster();
let a: PodProcess;

const mnt = (name: string) => pods.mnt(name);

before(async () => {
  a = await pods.seed("a", ["--redundancy", "1"]);
  await pods.join("b", a);
  await waitFor("a and b to see each other", async () => (await a.status()).pods.filter((p) => p.state === "up").length === 2);
});

after(() => pods.dispose());

test("a file closed on one pod opens with the same content on the other, both ways", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 123);
  await fs.writeFile(join(mnt("a"), "shared.bin"), data);
  const onB = join(mnt("b"), "shared.bin");
  await waitFor("b to see the file", async () => (await fs.stat(onB).catch(() => undefined))?.size === data.length);
  assert.deepEqual(await fs.readFile(onB), data);

  await fs.appendFile(onB, "from b");
  const onA = join(mnt("a"), "shared.bin");
  await waitFor("a to see b's append", async () => (await fs.stat(onA)).size === data.length + 6);
  const back = await fs.readFile(onA);
  assert.deepEqual(back.subarray(0, data.length), data);
  assert.equal(back.subarray(data.length).toString(), "from b");
});

test("directories, renames and deletes made on one pod show on the other", async () => {
  await fs.mkdir(join(mnt("a"), "dir/sub"), { recursive: true });
  await fs.writeFile(join(mnt("a"), "dir/sub/f.txt"), "x");
  await waitFor("b to see dir/sub/f.txt", () => fs.stat(join(mnt("b"), "dir/sub/f.txt")).then(() => true, () => false));
  await fs.rename(join(mnt("b"), "dir/sub"), join(mnt("b"), "moved"));
  await waitFor("a to see the move", () => fs.stat(join(mnt("a"), "moved/f.txt")).then(() => true, () => false));
  await assert.rejects(fs.stat(join(mnt("a"), "dir/sub")), (err: NodeJS.ErrnoException) => err.code === "ENOENT");
  await fs.unlink(join(mnt("a"), "moved/f.txt"));
  await waitFor("b to see the delete", () => fs.readdir(join(mnt("b"), "moved")).then((names) => names.length === 0));
});
