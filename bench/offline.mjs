// Client pod benchmark on loopback: two full pods (redundancy 2) and a client pod with its
// FUSE mount, real processes. The client goes offline (`wormhole offline`), makes CHANGES
// changes through its mount (creates, edits, renames, deletes; CONTENT_MIB of new content),
// then comes back online.
//   reconnectConvergeMs  `wormhole online` until every pod shows the same tree, the client's
//                        queue is empty and every file has its 2 copies on full pods
//   rawBytesMs           what the content alone needs at the measured loopback copy speed
//                        (content x redundancy, each full pod gets its copy); the target is
//                        reconnectConvergeMs <= 3000 + rawBytesMs
//   offlineStatP50Us     stat() through the client's mount while offline (distinct paths,
//                        so the kernel's attribute cache does not answer for the pod)
// Usage: node bench/offline.mjs [--smoke] [--changes 1000] [--content-mib 100] [--trace] [--cpu-prof DIR]
// (--trace prints both sides' queues every 500 ms while converging, then every pod's log, on stderr)
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { adminRequest } from "../dist/src/cli/admin-client.js";
import { cpuSeconds } from "./lib/proc-cpu.mjs";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CHANGES = flag("--changes", smoke ? 20 : 1000);
const CONTENT_MIB = flag("--content-mib", smoke ? 1 : 100);
const REDUNDANCY = 2;
// --cpu-prof DIR: every pod writes a V8 CPU profile there when it stops (where the time goes).
const cpuProfDir = args.includes("--cpu-prof") ? args[args.indexOf("--cpu-prof") + 1] : undefined;
const nodeArgs = cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : [];
// The mix of the issue: mostly creates, then edits, renames and deletes.
const CREATES = Math.round(CHANGES * 0.45);
const EDITS = Math.round(CHANGES * 0.25);
const RENAMES = Math.round(CHANGES * 0.15);
const DELETES = CHANGES - CREATES - EDITS - RENAMES;
const FILE_BYTES = Math.floor((CONTENT_MIB * 1024 * 1024) / (CREATES + EDITS));
const DIRS = 10;

const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "wormhole-bench-offline-"));
const mnt = join(root, "laptop-mnt");
const children = [];
const pidOf = new Map();
/** CPU seconds each pod spent converging, for the table. */
let cpuByPod;
const logs = new Map();

const cli = (...argv) => execFileSync(process.execPath, [CLI, ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const cliAsync = (...argv) => promisify(execFile)(process.execPath, [CLI, ...argv]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, probe, timeoutMs, intervalMs = 10) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
    await sleep(intervalMs);
  }
}

async function startPod(name, extra = []) {
  const data = join(root, name);
  const child = spawn(process.execPath, [...nodeArgs, CLI, "start", "--data", data, ...extra], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WORMHOLE_LOG: "info" } });
  logs.set(name, "");
  const record = (d) => logs.set(name, logs.get(name) + d);
  child.stdout.on("data", record);
  child.stderr.on("data", record);
  child.on("exit", (code, signal) => logs.set(name, `${logs.get(name)}[exited: ${code ?? signal}]\n`));
  children.push(child);
  pidOf.set(name, child.pid);
  await until(`pod ${name}`, async () => {
    if (child.exitCode !== null) throw new Error(`pod ${name} exited: ${logs.get(name)}`);
    return Boolean(await adminRequest(data, "GET", "/status"));
  }, 30_000, 50);
  return data;
}

async function invite(via) {
  return (await adminRequest(via, "POST", "/invite", { expiresInSeconds: 600 })).token;
}

const status = (data) => adminRequest(data, "GET", "/status");

async function tree(data) {
  const lines = [];
  const walk = async (dir) => {
    const { entries } = await adminRequest(data, "GET", `/ls?path=${encodeURIComponent(dir)}`);
    for (const e of entries) {
      const path = `${dir === "/" ? "" : dir}/${e.name}`;
      lines.push(`${e.type} ${path} ${e.size}`);
      if (e.type === "dir") await walk(path);
    }
  };
  await walk("/");
  return lines.sort().join("\n");
}

/**
 * Every pod shows the same tree, the client has nothing queued, every file has its copies.
 * Asked in that order, each only once the previous holds: the probe runs every 10 ms, and a
 * full pod's status recomputes health while holdings change, CPU taken from the work measured.
 */
async function convergedAndReplicated(pods, client, full) {
  const l = await status(client);
  const q = l.client.queued;
  if (q.uploads !== 0 || q.changes !== 0 || l.client.state !== "online") return false;
  const f = await status(full);
  if (f.files.underReplicated !== 0 || f.files.unavailable !== 0 || (f.files.awaitingUpload ?? 0) !== 0) return false;
  const trees = await Promise.all(pods.map(tree));
  return trees.every((t) => t === trees[0]);
}

/** Loopback TCP copy speed between two processes (what a pod-to-pod transfer could reach). */
async function loopbackMBps(bytes) {
  const receiver = spawn(process.execPath, ["-e", `
    const s = require("node:net").createServer((c) => { let n = 0; c.on("data", (d) => { n += d.length; }); c.on("end", () => { process.stdout.write(String(n)); s.close(); }); });
    s.listen(0, "127.0.0.1", () => process.stdout.write(s.address().port + "\\n"));
  `], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve) => receiver.stdout.once("data", (d) => resolve(Number(String(d).trim()))));
  const done = new Promise((resolve) => receiver.stdout.on("data", resolve));
  const block = randomBytes(4 * 1024 * 1024);
  const started = performance.now();
  const socket = connect(port, "127.0.0.1");
  for (let sent = 0; sent < bytes; sent += block.length) {
    if (!socket.write(block)) await new Promise((r) => socket.once("drain", r));
  }
  socket.end();
  await done;
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

const results = {};
try {
  cli("init", "--cluster", "bench", "--data", join(root, "a"), "--listen", "127.0.0.1:0", "--name", "a", "--redundancy", String(REDUNDANCY));
  const a = await startPod("a");
  mkdirSync(mnt);
  // b and the laptop join at once: a pod start is mostly waiting.
  const [b, laptop] = await Promise.all([
    (async () => {
      await cliAsync("join", await invite(a), "--data", join(root, "b"), "--listen", "127.0.0.1:0", "--name", "b");
      return startPod("b");
    })(),
    (async () => {
      await cliAsync("join", await invite(a), "--client", "--data", join(root, "laptop"), "--name", "laptop");
      return startPod("laptop", ["--mount", mnt]);
    })(),
  ]);
  await until("the laptop to mount and reach both full pods", async () => logs.get("laptop").includes("mounted at") && (await status(laptop)).client.reachable.length === 2, 30_000, 50);

  // Files the offline session edits, renames and deletes, written while online.
  const at = (path) => join(mnt, path);
  for (let d = 0; d < DIRS; d++) await mkdir(at(`d${d}`));
  const base = EDITS + RENAMES + DELETES;
  for (let i = 0; i < base; i++) await writeFile(at(`d${i % DIRS}/base${i}`), randomBytes(1024));
  const pods = [a, b, laptop];
  await until("the base files on every pod", () => convergedAndReplicated(pods, laptop, a), 120_000, 100);

  await adminRequest(laptop, "POST", "/network", { online: false });
  await until("the laptop offline", async () => (await status(laptop)).client.state === "offline", 10_000);
  let contentBytes = 0;
  let n = 0;
  const content = () => {
    contentBytes += FILE_BYTES;
    return randomBytes(FILE_BYTES);
  };
  for (let i = 0; i < CREATES; i++) await writeFile(at(`d${i % DIRS}/new${i}`), content());
  for (let i = 0; i < EDITS; i++) await writeFile(at(`d${n % DIRS}/base${n++}`), content());
  for (let i = 0; i < RENAMES; i++, n++) await rename(at(`d${n % DIRS}/base${n}`), at(`d${(n + 1) % DIRS}/renamed${n}`));
  for (let i = 0; i < DELETES; i++, n++) await rm(at(`d${n % DIRS}/base${n}`));

  // stat() on the client while offline, each path once.
  const statUs = [];
  for (let i = 0; i < CREATES; i++) {
    const started = process.hrtime.bigint();
    statSync(at(`d${i % DIRS}/new${i}`));
    statUs.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  statUs.sort((x, y) => x - y);
  results.offlineStatP50Us = Number(statUs[Math.floor(statUs.length / 2)].toFixed(1));
  const queued = (await status(laptop)).client.queued;

  const started = performance.now();
  const startedUs = process.hrtime.bigint() / 1000n;
  const trace = args.includes("--trace")
    ? setInterval(async () => {
        const [l, f] = await Promise.all([status(laptop), status(a)]);
        console.error(`${Math.round(performance.now() - started)} ms: laptop ${l.client.state} queued ${JSON.stringify(l.client.queued)}; a ${JSON.stringify(f.files)} pending ${f.pendingFetches}`);
      }, 500)
    : undefined;
  const podNames = ["a", "b", "laptop"];
  const cpuBefore = await Promise.all(podNames.map((name) => cpuSeconds(pidOf.get(name))));
  await adminRequest(laptop, "POST", "/network", { online: true });
  await until("every pod converged with full redundancy", () => convergedAndReplicated(pods, laptop, a), smoke ? 60_000 : 600_000, 10);
  results.reconnectConvergeMs = Math.round(performance.now() - started);
  // The profiles' clock is the monotonic clock in µs: this window is the converge phase in them.
  if (cpuProfDir) console.error(`converge window (monotonic µs): ${startedUs} ${process.hrtime.bigint() / 1000n}`);
  const cpuAfter = await Promise.all(podNames.map((name) => cpuSeconds(pidOf.get(name))));
  const cpuUsed = cpuAfter.map((after, i) => after - cpuBefore[i]);
  results.convergeCpuSec = Number(cpuUsed.reduce((sum, used) => sum + used, 0).toFixed(2));
  cpuByPod = podNames.map((name, i) => `${name} ${cpuUsed[i].toFixed(1)}`).join(", ");
  clearInterval(trace);
  if (trace) for (const [name, log] of logs) console.error(`--- pod ${name} ---\n${log}`);

  results.loopbackMBps = Math.round(await loopbackMBps(Math.max(64, CONTENT_MIB) * 1024 * 1024));
  results.rawBytesMs = Math.round((contentBytes * REDUNDANCY) / 1e6 / results.loopbackMBps * 1000);
  results.targetMs = 3000 + results.rawBytesMs;
  results.changes = CHANGES;
  results.contentMiB = Number((contentBytes / 1024 / 1024).toFixed(1));
  results.queuedChanges = queued.changes;
  results.queuedUploads = queued.uploads;
} catch (error) {
  for (const [name, log] of logs) console.error(`--- pod ${name} (last lines) ---\n${log.split("\n").slice(-15).join("\n")}`);
  throw error;
} finally {
  // Nothing here needs a clean stop (SIGKILL, then lift the laptop's mount by hand), except
  // a profile, which a pod writes only when it exits normally.
  const exited = children.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((r) => child.once("exit", r))));
  for (const child of children) child.kill(cpuProfDir ? "SIGTERM" : "SIGKILL");
  await Promise.all(exited);
  try {
    execFileSync("fusermount", ["-uz", mnt], { stdio: "ignore" });
  } catch {
    // never mounted (the run failed before)
  }
  rmSync(root, { recursive: true, force: true });
}

const rows = [
  [`reconnect → converged (${CHANGES} changes, ${results.contentMiB} MiB)`, `${results.reconnectConvergeMs} ms`, `≤ ${results.targetMs} ms`],
  [`  raw bytes x${REDUNDANCY} at loopback speed`, `${results.rawBytesMs} ms`, ""],
  ["  loopback TCP copy", `${results.loopbackMBps} MB/s`, ""],
  ["  CPU of the three pods meanwhile (2 cores)", `${results.convergeCpuSec} s`, cpuByPod],
  ["  queued when reconnecting", `${results.queuedChanges} changes, ${results.queuedUploads} uploads`, ""],
  ["stat on the client while offline, p50", `${results.offlineStatP50Us} µs`, ""],
];
for (const [what, value, target] of rows) console.log(`${what.padEnd(52)} ${String(value).padStart(24)}  ${target}`);
console.log(JSON.stringify(results));
