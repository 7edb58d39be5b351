// Close-to-open across pods: what one pod's mount closes, the other pod's mount opens,
// content pulled from the pod that holds it. Two real pods (`wormhole start --mount`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { Cluster, PodProcess, waitFor, wormholeOk } from "../helpers/cluster.js";
import { run } from "../helpers/mount-harness.js";

const cluster = new Cluster();
let a: PodProcess;
let b: PodProcess;
const mnt = (name: string) => join(cluster.root, `mnt-${name}`);

async function startMounted(pod: PodProcess): Promise<void> {
  await fs.mkdir(mnt(pod.name), { recursive: true });
  cluster.pods.push(pod);
  await pod.start(["--mount", mnt(pod.name)]);
  await waitFor(`${pod.name} to mount`, () => pod.output.includes(`mounted at ${mnt(pod.name)}`));
}

before(async () => {
  a = new PodProcess("a", cluster.dataDir("a"));
  await wormholeOk(["init", "--cluster", "two", "--data", a.data, "--listen", "127.0.0.1:0", "--name", "a", "--redundancy", "1"]);
  await startMounted(a);
  const invite = (await a.cli(["invite", "--expires", "10m"])).trim();
  b = new PodProcess("b", cluster.dataDir("b"));
  await wormholeOk(["join", invite, "--data", b.data, "--listen", "127.0.0.1:0", "--name", "b"]);
  await startMounted(b);
  await waitFor("a and b to see each other", async () => (await a.status()).pods.filter((p) => p.state === "up").length === 2);
});

after(async () => {
  // SIGTERM first: a clean stop unmounts (the harness's SIGKILL would leave dead mounts).
  for (const pod of [a, b]) await pod?.kill("SIGTERM");
  for (const name of ["a", "b"]) await run("fusermount", ["-uz", mnt(name)]).catch(() => {});
  await cluster.dispose();
});

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
