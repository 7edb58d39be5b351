// The binding and FuseRequests over a stand-in operations layer: a real mount through the
// real binding, served by a child process (killed at the end, which also frees any call a
// broken build left hanging).
// - Request timeouts (src/fs/fuse-requests.ts, REQUEST_TIMEOUT_MS): a request the layer below
//   never answers is answered with ETIMEDOUT once its timeout has passed, so a stuck
//   operation cannot hang the application that made the call; an answer that comes after
//   that is dropped, and the mount goes on answering.
// - The size of write requests: 1 MiB where the kernel takes FUSE_MAX_PAGES.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const repo = new URL("../../../", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "wormhole-deadlines-"));
const mnt = join(root, "mnt");

const SERVER = `
import { loadFuseBinding } from "./dist/src/fs/fuse-binding.js";
import { FuseRequests } from "./dist/src/fs/fuse-requests.js";
import { KernelCache } from "./dist/src/fs/kernel-cache.js";
const now = Date.now();
const dir = { mode: 0o40755, uid: 0, gid: 0, size: 0, nlink: 2, atime: now, mtime: now, ctime: now };
const file = { ...dir, mode: 0o100644, nlink: 1 };
// getattr of /hang never settles; of /late, 0.7 s after the 1.5 s deadline; of /slow (a
// directory), after 1.2 s, so that a stat of /slow made when /late timed out is still waiting
// when /late's answer comes. /largest-write's size is the largest write request served.
// Opening /late-open takes 2.2 s; /abandoned's size counts the handles released that no
// open reply ever carried.
let largestWrite = 0;
let abandoned = 0;
const operations = {
  getattr: (path) =>
    path === "/" ? dir
    : path === "/ok" ? file
    : path === "/hang" ? new Promise(() => {})
    : path === "/late" ? new Promise((resolve) => setTimeout(() => resolve(file), 2200))
    : path === "/slow" ? new Promise((resolve) => setTimeout(() => resolve(dir), 1200))
    : path === "/largest-write" ? { ...file, size: largestWrite }
    : path === "/late-open" ? file
    : path === "/abandoned" ? { ...file, size: abandoned }
    : undefined,
  openFile: (path) => (path === "/late-open" ? new Promise((resolve) => setTimeout(() => resolve(2), 2200)) : 1),
  write: async (fd, data, length) => {
    largestWrite = Math.max(largestWrite, length);
    return length;
  },
  flush: async () => {},
  release: async (path, fh) => {
    if (fh === 2) abandoned++;
  },
  readdir: async () => ({ names: [".", "..", "ok"], stats: [dir, dir, file] }),
};
const fuse = loadFuseBinding();
let session;
const cache = new KernelCache({ sweep: (ids, mayRetry, dropPages, epoch) => fuse.sweep(session, ids, mayRetry, dropPages, epoch) }, 0);
const log = { info() {}, warn: (m) => console.error(m), error: (m) => console.error(m) };
const requests = new FuseRequests(fuse, operations, cache, log, true, 1500);
session = fuse.mount(process.argv[1], "fsname=wormhole-timeouts,subtype=wormhole", requests.handle, (epoch) => cache.sweptUpTo(epoch), requests.args, requests.stat);
console.log("mounted");
`;
mkdirSync(mnt);
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
  // The late answer comes while a later request waits for its own, and must not reach it.
  // (FuseRequests checks answers by ticket because libfuse may give a new request the
  // memory of a timed-out one; this test cannot force that reuse, it checks the timing.)
  assert.ok((await fs.stat(join(mnt, "slow"))).isDirectory(), "/slow got its own answer");
  assert.equal((await fs.stat(join(mnt, "ok"))).size, 0, "the mount still answers");
  assert.deepEqual(await fs.readdir(mnt), ["ok"]);
  assert.equal(server.exitCode, null, "the server is still running");
});

test("a 1 MiB write reaches the file system as one request where the kernel takes FUSE_MAX_PAGES (Linux 4.20+)", { timeout: 30_000 }, async () => {
  const [major, minor] = release().split(".").map(Number);
  const expected = major! > 4 || (major === 4 && minor! >= 20) ? 1024 * 1024 : 128 * 1024;
  const h = await fs.open(join(mnt, "ok"), fs.constants.O_WRONLY);
  await h.write(Buffer.alloc(4 * 1024 * 1024, 7), 0, 4 * 1024 * 1024, 0);
  await h.close();
  assert.equal((await fs.stat(join(mnt, "largest-write"))).size, expected);
});

test("a handle whose open timed out is released when the late open completes", { timeout: 30_000 }, async () => {
  await assert.rejects(fs.open(join(mnt, "late-open")), (err: NodeJS.ErrnoException) => err.code === "ETIMEDOUT");
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the open completes 0.7 s after the timeout
  assert.equal((await fs.stat(join(mnt, "abandoned"))).size, 1);
});
