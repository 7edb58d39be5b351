// The binding's request timeouts (native/fuse-native/index.js, `autoTimeout`; the pod sets
// them in src/fs/mount.ts): a request the handler never answers is answered with ETIMEDOUT
// once its timeout has passed, so a stuck handler cannot hang the application that made the
// call; an answer that comes after that is dropped, and the mount goes on answering. A real
// mount, served by a child process (killed at the end, which also frees any call a broken
// build left hanging).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const repo = new URL("../../../", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "wormhole-deadlines-"));
const mnt = join(root, "mnt");

const SERVER = `
import Fuse from "fuse-native";
const now = new Date();
const dir = { mtime: now, atime: now, ctime: now, nlink: 2, size: 0, mode: 0o40755, uid: 0, gid: 0 };
const file = { ...dir, nlink: 1, mode: 0o100644 };
const fuse = new Fuse(process.argv[1], {
  getattr: (path, cb) => {
    if (path === "/") return cb(0, dir);
    if (path === "/hang") return; // never answered
    if (path === "/late") return setTimeout(() => cb(0, file), 3000); // after the deadline
    if (path === "/ok") return cb(0, file);
    cb(Fuse.ENOENT);
  },
  readdir: (path, cb) => cb(0, ["ok"]),
}, { mkdir: true, timeout: 1500 });
fuse.mount((err) => console.log(err ? "failed: " + err.message : "mounted"));
`;
const server = spawn(process.execPath, ["--input-type=module", "-e", SERVER, mnt], { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });

after(async () => {
  server.kill("SIGKILL");
  if (server.exitCode === null) await once(server, "exit");
  try {
    execFileSync("fusermount", ["-uz", mnt], { stdio: "ignore" });
  } catch {
    // not mounted any more
  }
  rmSync(root, { recursive: true, force: true });
});

test("a request left unanswered fails with ETIMEDOUT after its timeout; a late answer is dropped", { timeout: 30_000 }, async () => {
  const [line] = (await once(server.stdout!, "data")) as [Buffer];
  assert.equal(line.toString().trim(), "mounted");
  assert.equal((await fs.stat(join(mnt, "ok"))).size, 0);

  const started = performance.now();
  await assert.rejects(fs.stat(join(mnt, "hang")), (err: NodeJS.ErrnoException) => err.code === "ETIMEDOUT");
  const waited = performance.now() - started;
  // 1.5 s, plus scheduling.
  assert.ok(waited >= 1400 && waited < 4000, `answered after ${Math.round(waited)} ms`);

  await assert.rejects(fs.stat(join(mnt, "late")), (err: NodeJS.ErrnoException) => err.code === "ETIMEDOUT");
  await new Promise((resolve) => setTimeout(resolve, 2000)); // the late answer comes, and must go nowhere
  assert.equal((await fs.stat(join(mnt, "ok"))).size, 0, "the mount still answers");
  assert.deepEqual(await fs.readdir(mnt), ["ok"]);
  assert.equal(server.exitCode, null, "the server is still running");
});
