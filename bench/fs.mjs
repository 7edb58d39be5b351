// Throughput of a pod's FUSE mount vs the pod's own disk: sequential write and read of one
// big file, creating and stat-ing many empty files; then how long a small file closed in one
// pod's mount takes to read back in another pod's mount. The mounts are served by real pods
// (`wormhole init`/`join` + `wormhole start --mount`) in child processes, so this process
// can measure freely.
// Usage: node bench/fs.mjs [--smoke]   (last stdout line: one JSON object)
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fuseMountOptions } from "../dist/src/fs/mount.js";
import { cpuSeconds, withSteal } from "./lib/proc-cpu.mjs";

const smoke = process.argv.includes("--smoke");
const MiB = 1024 * 1024;
const BIG = (smoke ? 32 : 1024) * MiB;
const FILES = smoke ? 500 : 10_000;
/**
 * Writers at once, each in its own directory (a parallel build or several untars). The
 * kernel locks a directory during a create, so creates in ONE directory are serial whatever
 * the parallelism: see docs/mount.md, "Performance".
 */
const PARALLEL = 16;
/**
 * Files created (and then stat-ed) before the clock starts, in a directory of their own, on
 * each of the three file systems alike. A pod is a long-running daemon; the figure is its
 * steady rate; the rate of the untimed ones is printed beside it (`firstCreatesPerSec`).
 * During them V8 is still compiling the create path, on the same two cores. Measured with
 * `--trace-opt` on the pod (2026-12-08): after 2,000 creates, 60 functions of the create path
 * (holdCreate, Yjs's transaction cleanup and update encoding, ...) were still compiled for the
 * first time inside the next 10,000, 0.5 s of compiler CPU; after 10,000, 8 (43 ms).
 */
const WARMUP_FILES = smoke ? 100 : 10_000;
/** 4 KiB files written in mount A and polled for in mount B. */
const PROPAGATIONS = smoke ? 10 : 100;
const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;

const root = await fs.mkdtemp(join(tmpdir(), "wormhole-bench-fs-"));
const data = join(root, "data");
const mnt = join(root, "mnt");
const dataB = join(root, "data-b");
const mntB = join(root, "mnt-b");
const nullMnt = join(root, "mnt-null");
/** Beside the data directory, on the same disk (initPod wants the data directory to itself). */
const disk = join(root, "disk-baseline");
await fs.mkdir(mnt, { recursive: true });
await fs.mkdir(mntB, { recursive: true });
await fs.mkdir(disk, { recursive: true });

const pods = [];
try {
  await cli(["init", "--data", data, "--cluster", "bench", "--listen", "127.0.0.1:0", "--redundancy", "1"]);
  pods.push(await startMount(data, mnt));
  // Propagation first, with a second pod; it stops before the throughput figures, where as a
  // placement target it would pull the big file while we measure.
  const invite = (await cli(["invite", "--data", data, "--expires", "10m"])).trim();
  await cli(["join", invite, "--data", dataB, "--listen", "127.0.0.1:0", "--name", "b"]);
  pods.push(await startMount(dataB, mntB));
  const propagation = await propagate(join(mnt, "prop"), join(mntB, "prop"));
  // Its files go first: B down with files only it holds would make the cluster read-only.
  await fs.rm(join(mnt, "prop"), { recursive: true });
  await stopMount(pods.pop());
  // 64 MiB of random bytes, written round and round. One random MiB repeated, as before
  // 2026-12-05, is a pathological input for content-defined chunking: a MiB without a cut
  // candidate leaves chunk chains that never meet across the chunker's blocks, so whether a
  // run took the chunker's fast path or its fallback depended on the draw (264–455 MB/s).
  const pattern = randomBytes(Math.min(BIG, 64 * MiB));
  const podCpuBefore = await cpuSeconds(pods[0].pid);
  // The host's steal while the mount is timed: the condition each figure was measured in.
  const mountWrite = await withSteal(() => writeBig(join(mnt, "big.bin")));
  const write = { mount: mountWrite.value, disk: await writeBig(join(disk, "big.bin")) };
  // The pod's CPU per GiB written (all its threads: FUSE, JS, hash workers): less sensitive to
  // the machine's load than MB/s. The disk write's share is nil (it is this process's).
  const writeCpuSecPerGiB = ((await cpuSeconds(pods[0].pid)) - podCpuBefore) / (BIG / 1024 / MiB);
  const read = { mount: await readBig(join(mnt, "big.bin")), disk: await readBig(join(disk, "big.bin")) };
  // Again: an unchanged file keeps its kernel page cache across opens (auto_cache).
  const mountReread = await withSteal(() => readBig(join(mnt, "big.bin")));
  const reread = { mount: mountReread.value, disk: await readBig(join(disk, "big.bin")) };
  const mountCreates = await createMany(join(mnt, "many"), pods[0].pid);
  const creates = { mount: mountCreates.perSec, disk: (await createMany(join(disk, "many"))).perSec };
  const stats = { mount: await statMany(join(mnt, "many")), disk: await statMany(join(disk, "many")) };
  // The same on a FUSE file system that does no work at all, mounted with the pod's options:
  // the ceiling of the binding and the kernel round trips on this machine, in this run.
  const nullFuse = await startNullFuse(nullMnt);
  try {
    creates.nullFuse = (await createMany(join(nullMnt, "many"))).perSec;
    stats.nullFuse = await statMany(join(nullMnt, "many"));
  } finally {
    await stopMount(nullFuse);
  }

  const rows = [
    ["sequential write (MB/s)", write.mount, write.disk],
    ["sequential read (MB/s)", read.mount, read.disk],
    ["sequential re-read (MB/s)", reread.mount, reread.disk],
    [`creates/s (${FILES} empty files)`, creates.mount, creates.disk, creates.nullFuse],
    ["stats/s", stats.mount, stats.disk, stats.nullFuse],
  ];
  const p50 = quantile(propagation.total, 0.5);
  console.log(`fs bench${smoke ? " (smoke)" : ""}: ${BIG / MiB} MiB file, ${FILES} files by ${PARALLEL} writers in ${PARALLEL} directories (after ${WARMUP_FILES} untimed). 2 shared cores: numbers are noisy.`);
  console.log("metric".padEnd(34) + "mount".padStart(12) + "pod disk".padStart(12) + "null FUSE".padStart(12));
  for (const [name, m, d, n] of rows) console.log(name.padEnd(34) + m.toFixed(0).padStart(12) + d.toFixed(0).padStart(12) + (n === undefined ? "" : n.toFixed(0)).padStart(12));
  console.log("null FUSE: the pod's binding answering from memory with the pod's mount options (no work: the binding's ceiling here)");
  const ms = (values) => `p50 ${quantile(values, 0.5).toFixed(1)} ms, p90 ${quantile(values, 0.9).toFixed(1)} ms, max ${quantile(values, 1).toFixed(1)} ms`;
  console.log(`pod CPU per GiB written through the mount: ${writeCpuSecPerGiB.toFixed(1)} s; per file created: ${mountCreates.podCpuUs.toFixed(0)} µs`);
  const pct = (x) => `${x.toFixed(1)} %`;
  console.log(`CPU the host took for other guests (steal) while the mount was timed: write ${pct(mountWrite.stealPct)}, re-read ${pct(mountReread.stealPct)}, creates ${pct(mountCreates.stealPct)}`);
  console.log(`the mount's first ${WARMUP_FILES} creates after the 1 GiB write (untimed above; V8 is still compiling the pod's create path): ${mountCreates.firstPerSec.toFixed(0)}/s`);
  console.log(`4 KiB file written + closed in mount A until it reads back in mount B (${PROPAGATIONS} files): ${ms(propagation.total)}`);
  console.log(`  of which write + close in mount A: ${ms(propagation.closed)}`);
  console.log(
    JSON.stringify({
      writeMBps: round(write.mount),
      writeStealPct: round(mountWrite.stealPct),
      readMBps: round(read.mount),
      cachedReadMBps: round(reread.mount),
      cachedReadStealPct: round(mountReread.stealPct),
      diskWriteMBps: round(write.disk),
      writeCpuSecPerGiB: round(writeCpuSecPerGiB),
      diskReadMBps: round(read.disk),
      createsPerSec: round(creates.mount),
      firstCreatesPerSec: round(mountCreates.firstPerSec),
      createCpuUs: round(mountCreates.podCpuUs),
      createStealPct: round(mountCreates.stealPct),
      statsPerSec: round(stats.mount),
      nullFuseCreatesPerSec: round(creates.nullFuse),
      nullFuseStatsPerSec: round(stats.nullFuse),
      mountPropagationP50Ms: round(p50),
    }),
  );

  /** Write + close (the mount commits the version at close) + fsync, as MB/s. */
  async function writeBig(file) {
    const start = performance.now();
    const h = await fs.open(file, "w");
    for (let done = 0; done < BIG; done += MiB) await h.write(pattern, done % pattern.length, MiB);
    await h.sync();
    await h.close();
    return BIG / 1e6 / ((performance.now() - start) / 1000);
  }

  async function readBig(file) {
    const start = performance.now();
    const h = await fs.open(file, "r");
    const buf = Buffer.allocUnsafe(MiB);
    let total = 0;
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    await h.close();
    if (total !== BIG) throw new Error(`read ${total} bytes of ${file}, expected ${BIG}`);
    return BIG / 1e6 / ((performance.now() - start) / 1000);
  }

  /**
   * Creates per second after the warm-up (`perSec`) and during it (`firstPerSec`), and the
   * host's steal while timed (`stealPct`); with `pid`, also that process's CPU per timed create
   * (`podCpuUs`, all its threads): less sensitive to the machine's load than creates/s.
   */
  async function createMany(dir, pid) {
    for (const sub of [dir, join(dir, "warmup")]) for (let w = 0; w < PARALLEL; w++) await fs.mkdir(join(sub, `w${w}`), { recursive: true });
    const create = (path) => fs.writeFile(path, "");
    const firstPerSec = await timed(() => inWorkers(create, join(dir, "warmup"), WARMUP_FILES), WARMUP_FILES);
    const cpuBefore = pid === undefined ? 0 : await cpuSeconds(pid);
    const { value: perSec, stealPct } = await withSteal(() => timed(() => inWorkers(create, dir, FILES), FILES));
    const podCpuUs = pid === undefined ? 0 : (((await cpuSeconds(pid)) - cpuBefore) * 1e6) / FILES;
    return { perSec, firstPerSec, podCpuUs, stealPct };
  }

  async function statMany(dir) {
    const stat = (path) => fs.stat(path);
    await inWorkers(stat, join(dir, "warmup"), WARMUP_FILES);
    return timed(() => inWorkers(stat, dir, FILES), FILES);
  }

  /** `count` operations done by `run`, per second. */
  async function timed(run, count) {
    const start = performance.now();
    await run();
    return count / ((performance.now() - start) / 1000);
  }

  /**
   * Milliseconds from the start of write+close of a 4 KiB file in `from` until a read of it in
   * `to` returns those bytes (polled every millisecond; the namespace update travels pod to
   * pod, then B pulls the content from A).
   */
  async function propagate(from, to) {
    await fs.mkdir(from);
    await waitUntil(() => fs.stat(to).then(() => true, () => false));
    const total = [];
    const closed = [];
    for (let i = 0; i < PROPAGATIONS; i++) {
      const content = randomBytes(4096);
      const start = performance.now();
      await fs.writeFile(join(from, `${i}.bin`), content);
      closed.push(performance.now() - start);
      await waitUntil(() => fs.readFile(join(to, `${i}.bin`)).then((got) => got.equals(content), () => false));
      total.push(performance.now() - start);
    }
    return { total, closed };
  }
} catch (err) {
  // The pods' own logs say why a mount failed (EIO, a timeout): show their ends.
  for (const pod of pods) console.error(`--- pod log (end) ---\n${pod.output().slice(-4000)}`);
  throw err;
} finally {
  for (const pod of pods.reverse()) await stopMount(pod);
  await fs.rm(root, { recursive: true, force: true });
}

/** Polls `probe` every millisecond until it resolves true; fails after `timeoutMs`. */
async function waitUntil(probe, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** `op` on `count` files spread over PARALLEL writers, each in its own directory `dir/w<n>`. */
async function inWorkers(op, dir, count) {
  await Promise.all(
    Array.from({ length: PARALLEL }, async (_, w) => {
      for (let i = w; i < count; i += PARALLEL) await op(join(dir, `w${w}`, `f${i}`));
    }),
  );
}

function round(x) {
  return Math.round(x * 10) / 10;
}

function cli(args) {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CLI, ...args], (err, stdout, stderr) => (err ? reject(new Error(`wormhole ${args[0]} failed: ${stderr}`)) : resolve(stdout))),
  );
}

async function startMount(data, mnt) {
  const proc = spawn(process.execPath, [CLI, "start", "--data", data, "--mount", mnt], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (d) => (output += d));
  proc.stderr.on("data", (d) => (output += d));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mount did not get ready:\n${output}`)), 20_000);
    const ready = () => output.includes(`mounted at ${mnt}`) && (clearTimeout(timer), resolve());
    proc.stdout.on("data", ready);
    proc.stderr.on("data", ready);
    proc.on("exit", (code) => (clearTimeout(timer), reject(new Error(`mount exited ${code}:\n${output}`))));
  });
  proc.output = () => output;
  return proc;
}

async function startNullFuse(mountpoint) {
  const script = new URL("./lib/null-fuse.mjs", import.meta.url).pathname;
  const proc = spawn(process.execPath, [script, mountpoint, fuseMountOptions({ defaultPermissions: true })], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stderr.on("data", (d) => (output += d));
  await new Promise((resolve, reject) => {
    proc.stdout.once("data", resolve);
    proc.on("exit", (code) => reject(new Error(`null FUSE mount exited ${code}:\n${output}`)));
  });
  return proc;
}

async function stopMount(proc) {
  if (proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  proc.kill("SIGTERM");
  await exited;
}
