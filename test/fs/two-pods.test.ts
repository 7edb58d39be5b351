// Close-to-open across pods: what one pod's mount closes, the other pod's mount opens,
// content pulled from the pod that holds it. Two real pods (`wormhole start --mount`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { type PodProcess, waitFor } from "../helpers/cluster.js";
import { MountedCluster } from "../helpers/mount-harness.js";

const execFileP = promisify(execFile);
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

/**
 * A flush commits only what its own handle wrote (MountOperations.flush): every way of
 * changing a file must still be committed by the close that ends it, seen from the other pod
 * while the file stays open.
 */
test("every close that ends a change commits it, including a dup'd descriptor's and a truncate's", async () => {
  const onA = join(mnt("a"), "handles.txt");
  const onB = join(mnt("b"), "handles.txt");
  const seenOnB = (content: string) =>
    waitFor(`b to read "${content}"`, async () => (await fs.readFile(onB, "utf8").catch(() => undefined)) === content);

  // A descriptor and its dup share one handle: closing the dup commits what the first wrote,
  // and a write after that flush is committed by the next close.
  const shell = spawn("bash", ["-c", 'exec 3<>"$1"; printf one >&3; exec 4>&3; exec 4>&-; echo flushed; read; printf two >&3; exec 4>&3; exec 4>&-; echo flushed; read; exec 3>&-', "bash", onA], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: shell.stdout! })[Symbol.asyncIterator]();
  try {
    assert.equal((await lines.next()).value, "flushed");
    await seenOnB("one");
    shell.stdin!.write("\n");
    assert.equal((await lines.next()).value, "flushed");
    await seenOnB("onetwo");
    shell.stdin!.write("\n");
  } finally {
    shell.stdin!.end();
    await once(shell, "exit");
  }

  // ftruncate through a handle nothing was written through.
  const handle = await fs.open(onA, "r+");
  await handle.truncate(4);
  await handle.close();
  await seenOnB("onet");

  // A truncate by path (truncate(2); Node's fs.truncate opens the file and ftruncates) while a
  // handle is open for writing shows before that handle closes.
  const writer = await fs.open(onA, "r+");
  try {
    await execFileP("python3", ["-c", "import os, sys; os.truncate(sys.argv[1], 2)", onA]);
    await seenOnB("on");
  } finally {
    await writer.close();
  }

  // O_TRUNC with nothing written.
  await fs.writeFile(onA, "");
  await seenOnB("");
});
