// A machine without libfuse: everything but the mount works, and a mount attempt stops with
// a message naming the package. The missing library is simulated by a preload that makes
// `require("wormhole-fuse")` fail the way its dlopen does (removing the real library from a
// test machine is not an option).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { waitFor, wormhole } from "../helpers/cluster.js";

const CLI = new URL("../../src/cli/main.js", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "wormhole-nofuse-"));
after(() => rmSync(root, { recursive: true, force: true }));

const preload = join(root, "no-libfuse.cjs");
writeFileSync(
  preload,
  `const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "wormhole-fuse") throw Object.assign(new Error("libfuse.so.2: cannot open shared object file: No such file or directory"), { code: "ERR_DLOPEN_FAILED" });
  return load.call(this, request, ...rest);
};
`,
);
const withoutLibfuse = { NODE_OPTIONS: `--require ${preload}` };

test("without libfuse: init and a pod without a mount work; a mount stops with the package to install", async () => {
  const data = join(root, "a");
  const init = await wormhole(["init", "--cluster", "nofuse", "--data", data, "--listen", "127.0.0.1:0", "--name", "a"], withoutLibfuse);
  assert.equal(init.code, 0, init.stderr);

  const mnt = join(root, "mnt");
  mkdirSync(mnt);
  const mounting = await wormhole(["start", "--data", data, "--mount", mnt], withoutLibfuse);
  assert.notEqual(mounting.code, 0);
  assert.match(mounting.stderr, /cannot load the FUSE library, so the cluster cannot be mounted: libfuse\.so\.2/);
  assert.match(mounting.stderr, /apt-get install -y libfuse2 fuse3/);
  assert.doesNotMatch(mounting.stderr, /bug in wormhole|at Module\./, "a clear message, not a crash");

  const pod = spawn(process.execPath, [CLI, "start", "--data", data], { stdio: "ignore", env: { ...process.env, ...withoutLibfuse } });
  try {
    await waitFor("the pod without a mount to answer", async () => (await wormhole(["status", "--data", data, "--json"])).code === 0);
    assert.equal(pod.exitCode, null, "still running");
  } finally {
    pod.kill("SIGTERM");
    await new Promise((r) => pod.once("exit", r));
  }
});
