// Cluster benchmark on loopback: real pod processes, driven through their admin sockets.
//   propagationP50Ms/P99Ms  a put on A until a get succeeds on B (small files)
//   replicationMBps         one big put on A (redundancy 3) until both other pods hold it
//   tcpMBps                 raw TCP copy of the same bytes between two processes, same run
//   diskWriteMBps           dd conv=fdatasync of the same size on the pods' disk, same run. The
//                           three pods share this one disk, so a replicated put writes every
//                           byte three times to it: diskBoundMBps = diskWriteMBps / 3 is the
//                           most replicationMBps can reach here (pods on their own disks do not
//                           have this bound)
//   joinCatchUpSec          a new pod joins a namespace of N files until it has fetched its share
// Usage: node bench/cluster.mjs [--smoke] [--files 200] [--big-mib 1024] [--catchup-files 10000] [--cpu-prof DIR] [--pod-logs]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminRequest } from "../dist/src/cli/admin-client.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const FILES = flag("--files", smoke ? 20 : 200);
const BIG_MIB = flag("--big-mib", smoke ? 16 : 1024);
const CATCHUP_FILES = flag("--catchup-files", smoke ? 200 : 10_000);
// --cpu-prof DIR: every pod writes a V8 CPU profile there when it stops (where the time goes).
const cpuProfDir = args.includes("--cpu-prof") ? args[args.indexOf("--cpu-prof") + 1] : undefined;
// --pod-logs: copy every pod's log lines to stderr as they come (WORMHOLE_LOG sets the level).
const podLogs = args.includes("--pod-logs");
const nodeArgs = cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : [];

const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "wormhole-bench-cluster-"));
const children = [];
const logs = new Map();

function cli(...argv) {
  return execFileSync(process.execPath, [CLI, ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, probe, timeoutMs = 600_000, intervalMs = 5) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

async function startPod(name) {
  const data = join(root, name);
  const child = spawn(process.execPath, [...nodeArgs, CLI, "start", "--data", data], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, WORMHOLE_LOG: process.env.WORMHOLE_LOG ?? "warn" } });
  logs.set(name, "");
  child.stderr.on("data", (d) => {
    logs.set(name, logs.get(name) + d);
    if (podLogs) process.stderr.write(`[${name}] ${d}`);
  });
  child.on("exit", (code, signal) => logs.set(name, `${logs.get(name)}[exited: ${code ?? signal}]\n`));
  children.push(child);
  await until(`pod ${name}`, async () => {
    if (child.exitCode !== null) throw new Error(`pod ${name} exited: ${logs.get(name)}`);
    return Boolean(await adminRequest(data, "GET", "/status"));
  }, 30_000, 50);
  return data;
}

async function joinPod(name, via) {
  const invite = (await adminRequest(via, "POST", "/invite", { expiresInSeconds: 600 })).token;
  cli("join", invite, "--data", join(root, name), "--listen", "127.0.0.1:0", "--name", name);
  return startPod(name);
}

const status = (data) => adminRequest(data, "GET", "/status");
const ls = (data, path) => adminRequest(data, "GET", `/ls?path=${encodeURIComponent(path)}`);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** dd conv=fdatasync of `mib` MiB into `file` (then removed): the disk's durable write speed. */
function ddWriteMBps(file, mib) {
  const started = performance.now();
  const dd = spawnSync("dd", ["if=/dev/zero", `of=${file}`, "bs=1M", `count=${mib}`, "conv=fdatasync"], { encoding: "utf8" });
  if (dd.status !== 0) throw new Error(`dd failed: ${dd.stderr}`);
  const seconds = (performance.now() - started) / 1000;
  rmSync(file);
  return (mib * 1024 * 1024) / 1e6 / seconds;
}

async function tcpCopyMBps(file, bytes) {
  const server = createServer((socket) => socket.resume());
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  // The receiver runs in another process, like a peer pod.
  const receiver = spawn(process.execPath, ["-e", `
    const s = require("node:net").createServer((c) => { let n = 0; c.on("data", (d) => { n += d.length; }); c.on("end", () => { process.stdout.write(String(n)); s.close(); }); });
    s.listen(0, "127.0.0.1", () => process.stdout.write(s.address().port + "\\n"));
  `], { stdio: ["ignore", "pipe", "inherit"] });
  server.close();
  void port;
  const receiverPort = await new Promise((resolve) => receiver.stdout.once("data", (d) => resolve(Number(String(d).trim()))));
  const done = new Promise((resolve) => receiver.stdout.on("data", resolve));
  const started = performance.now();
  const socket = connect(receiverPort, "127.0.0.1");
  await new Promise((resolve, reject) => createReadStream(file).pipe(socket).on("finish", resolve).on("error", reject));
  await done;
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

const results = {};
try {
  cli("init", "--cluster", "bench", "--data", join(root, "a"), "--listen", "127.0.0.1:0", "--name", "a", "--redundancy", "2");
  const a = await startPod("a");
  const b = await joinPod("b", a);
  const c = await joinPod("c", a);
  await until("three pods up", async () => (await status(c)).pods.filter((p) => p.state === "up").length === 3, 30_000, 50);

  // 1. Propagation of small files, A → B.
  const small = join(root, "small");
  mkdirSync(small);
  const times = [];
  const putTimes = [];
  for (let i = 0; i < FILES; i++) {
    const local = join(small, `f${i}`);
    writeFileSync(local, randomBytes(4096));
    const started = performance.now();
    await adminRequest(a, "POST", "/put", { localPath: local, path: `/p${i}` });
    putTimes.push(performance.now() - started);
    await until(`/p${i} on B`, async () => Boolean(await adminRequest(b, "POST", "/get", { path: `/p${i}`, localPath: join(small, `back${i}`) })), 30_000, 1);
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  results.propagationP50Ms = Number(percentile(times, 50).toFixed(1));
  results.propagationP99Ms = Number(percentile(times, 99).toFixed(1));
  // The part of it that is the put itself (chunk, fsyncs, metadata commit on A).
  putTimes.sort((x, y) => x - y);
  results.smallPutP50Ms = Number(percentile(putTimes, 50).toFixed(1));

  // 2. Replication throughput with redundancy 3, beside raw TCP.
  const config = join(root, "r3.toml");
  writeFileSync(config, '[cluster]\nname = "bench"\nredundancy = 3\n');
  cli("config", "apply", config, "--data", a);
  await until("redundancy 3 everywhere", async () => (await ls(c, "/p0")).entries[0].target === 3, 30_000, 20);
  // Unique bytes throughout: a repeated block would be deduplicated by content-defined
  // chunking and make replication look far faster than it is.
  const big = join(root, "big.bin");
  writeFileSync(big, "");
  for (let i = 0; i < BIG_MIB / 16; i++) writeFileSync(big, randomBytes(16 * 1024 * 1024), { flag: "a" });
  const bigBytes = BIG_MIB * 1024 * 1024;
  const started = performance.now();
  await adminRequest(a, "POST", "/put", { localPath: big, path: "/big.bin" });
  const putMs = performance.now() - started;
  await until("the big file on 3 pods", async () => (await ls(a, "/big.bin")).entries[0].replicas === 3, 600_000, 20);
  const replicationMs = performance.now() - started;
  results.putMBps = Number((bigBytes / 1e6 / (putMs / 1000)).toFixed(0));
  results.replicationMBps = Number((bigBytes / 1e6 / (replicationMs / 1000)).toFixed(0));
  results.tcpMBps = Number((await tcpCopyMBps(big, bigBytes)).toFixed(0));
  results.diskWriteMBps = Number(ddWriteMBps(join(root, "dd.out"), BIG_MIB).toFixed(0));
  results.diskBoundMBps = Math.round(results.diskWriteMBps / 3);
  rmSync(big);

  // 3. A new pod joins a namespace of CATCHUP_FILES files.
  const tree = join(root, "tree");
  for (let i = 0; i < CATCHUP_FILES; i++) {
    const dir = join(tree, `d${i % 100}`);
    if (i < 100) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}`), `file ${i}\n`);
  }
  const putTreeStarted = performance.now();
  await adminRequest(a, "POST", "/put", { localPath: tree, path: "/tree" });
  results.putFilesPerSec = Math.round(CATCHUP_FILES / ((performance.now() - putTreeStarted) / 1000));
  const total = FILES + 1 + CATCHUP_FILES;
  const joinStarted = performance.now();
  const d = await joinPod("d", a);
  let last;
  await until("d caught up", async () => {
    last = await status(d);
    return last.files.total === total && last.pendingFetches === 0 && last.pods.find((p) => p.self).usedBytes > 0;
  }, smoke ? 60_000 : 600_000, 50).catch((error) => {
    throw new Error(`${error.message}; expected ${total} files, the new pod reports ${JSON.stringify(last)}`);
  });
  results.joinCatchUpSec = Number(((performance.now() - joinStarted) / 1000).toFixed(2));
  results.files = total;
} catch (error) {
  for (const [name, log] of logs) console.error(`--- pod ${name} (last lines) ---\n${log.split("\n").slice(-15).join("\n")}`);
  throw error;
} finally {
  for (const child of children) child.kill("SIGTERM");
  await sleep(cpuProfDir ? 5_000 : 500);
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
}

const rows = [
  ["propagation p50 (put on A → get on B, 4 KiB)", `${results.propagationP50Ms} ms`, "≤ 50 ms"],
  ["propagation p99", `${results.propagationP99Ms} ms`, ""],
  ["  of which the put on A (p50)", `${results.smallPutP50Ms} ms`, ""],
  [`put of ${BIG_MIB} MiB on A`, `${results.putMBps} MB/s`, ""],
  [`replication of ${BIG_MIB} MiB to 3 pods`, `${results.replicationMBps} MB/s`, "≥ 250 MB/s"],
  ["raw TCP copy, same bytes", `${results.tcpMBps} MB/s`, ""],
  ["dd conv=fdatasync, same size, same disk", `${results.diskWriteMBps} MB/s`, ""],
  ["  bound for 3 copies on this one disk (dd / 3)", `${results.diskBoundMBps} MB/s`, ""],
  [`put of a ${CATCHUP_FILES}-file tree`, `${results.putFilesPerSec} files/s`, ""],
  [`join catch-up (${results.files} files)`, `${results.joinCatchUpSec} s`, ""],
];
for (const [what, value, target] of rows) console.log(`${what.padEnd(48)} ${String(value).padStart(14)}  ${target}`);
console.log(JSON.stringify(results));
