// Chunk-pull throughput between two meshes in separate processes, beside a raw TCP copy of
// the same bytes in the same run (the ceiling the network path allows on this machine).
//
//   node bench/net.mjs            512 MiB of 1 MiB chunks
//   node bench/net.mjs --smoke    16 MiB (CI: proves it runs)
//   NET_BENCH_MIB=1024 node bench/net.mjs
//
// The serving process holds a few distinct random chunks in memory and the reader pulls them
// round after round (each verified by SHA-256 on arrival) so memory stays bounded.
import { fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { setImmediate as nextTurn } from "node:timers/promises";
import * as Y from "yjs";
import { ChunkPull, DocSync, Mesh, Rpc, generateIdentity } from "../dist/src/net/index.js";

const MiB = 1024 * 1024;
const smoke = process.argv.includes("--smoke");
const DISTINCT = smoke ? 8 : 64;
const TOTAL_MIB = smoke ? 16 : Number(process.env.NET_BENCH_MIB ?? 512);
const ROUNDS = Math.max(1, Math.round(TOTAL_MIB / DISTINCT));
const UPDATES = smoke ? 2000 : 50_000;
const allow = () => ({ ok: true });
const quiet = () => {};

async function serve() {
  const chunks = new Map();
  for (let i = 0; i < DISTINCT; i++) {
    const b = randomBytes(MiB); // the reader learns the ids over IPC
    chunks.set(createHash("sha256").update(b).digest("hex"), b);
  }
  const mesh = new Mesh({ identity: generateIdentity(), cluster: "bench", listen: "127.0.0.1:0", role: "full", authorize: allow, log: quiet });
  new ChunkPull(mesh, { provider: async (id) => chunks.get(id) });
  const doc = new Y.Doc();
  new DocSync(mesh, new Map([["shard-0", doc]]));
  new Rpc(mesh).handle("size", () => doc.getMap("ns").size);
  await mesh.start();
  const all = [...chunks.values()];
  const tcp = createServer((socket) => {
    // Raw copy: the same bytes, as fast as the socket takes them.
    let round = 0;
    let i = 0;
    const pump = () => {
      while (round < ROUNDS) {
        const ok = socket.write(all[i]);
        if (++i === all.length) {
          i = 0;
          round++;
        }
        if (!ok) return socket.once("drain", pump);
      }
      socket.end();
    };
    pump();
  });
  await new Promise((r) => tcp.listen(0, "127.0.0.1", r));
  process.send({ mesh: mesh.address(), podId: mesh.podId, tcpPort: tcp.address().port, ids: [...chunks.keys()] });
  process.on("message", async (m) => {
    if (m === "stop") {
      await mesh.stop();
      tcp.close();
      process.exit(0);
    }
  });
}

async function rawTcp(port, totalBytes) {
  const started = process.hrtime.bigint();
  let got = 0;
  await new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    s.on("data", (d) => (got += d.length));
    s.on("end", resolve);
    s.on("error", reject);
  });
  if (got !== totalBytes) throw new Error(`raw TCP copy got ${got} bytes, expected ${totalBytes}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main() {
  const child = fork(new URL(import.meta.url).pathname, ["--serve", ...(smoke ? ["--smoke"] : [])], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const info = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`server process exited with ${code}`)));
  });
  const mesh = new Mesh({ identity: generateIdentity(), cluster: "bench", role: "client", authorize: allow, log: quiet });
  const pull = new ChunkPull(mesh, { maxInFlightPerPeer: Number(process.env.NET_BENCH_INFLIGHT ?? 8) });
  const doc = new Y.Doc();
  new DocSync(mesh, new Map([["shard-0", doc]]));
  const rpc = new Rpc(mesh);
  await mesh.start();
  mesh.dial(info.mesh);
  while (!mesh.isConnected(info.podId)) await new Promise((r) => setTimeout(r, 10));
  const totalBytes = ROUNDS * DISTINCT * MiB;

  await pull.pullMany(info.ids.slice(0, 2), () => [info.podId]); // warm-up
  const started = process.hrtime.bigint();
  for (let round = 0; round < ROUNDS; round++) {
    const got = await pull.pullMany(info.ids, () => [info.podId]);
    if (got.length !== DISTINCT) throw new Error("short pull");
  }
  const pullSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const tcpSeconds = await rawTcp(info.tcpPort, totalBytes);

  // Doc sync: a stream of small transactions (1000 per event-loop turn), timed until the
  // other process has applied all of them.
  const map = doc.getMap("ns");
  const syncStarted = process.hrtime.bigint();
  for (let i = 0; i < UPDATES; i += 1000) {
    for (let j = i; j < Math.min(UPDATES, i + 1000); j++) map.set(`k${j}`, j);
    await nextTurn();
  }
  while ((await rpc.request(info.podId, "size", null)) !== UPDATES) await new Promise((r) => setTimeout(r, 5));
  const syncSeconds = Number(process.hrtime.bigint() - syncStarted) / 1e9;

  await mesh.stop();
  child.send("stop");
  await new Promise((r) => child.once("exit", r));

  const mbps = (s) => totalBytes / 1e6 / s;
  const rows = [
    ["chunk pull (ws, verified)", pullSeconds, mbps(pullSeconds)],
    ["raw TCP copy", tcpSeconds, mbps(tcpSeconds)],
  ];
  console.log(`net bench: ${totalBytes / MiB} MiB in 1 MiB chunks, 2 processes on 127.0.0.1 (2 shared cores: noisy)`);
  console.log("what                          seconds     MB/s");
  for (const [what, s, rate] of rows) console.log(`${what.padEnd(28)} ${s.toFixed(2).padStart(8)} ${rate.toFixed(0).padStart(8)}`);
  console.log(`doc sync: ${UPDATES} transactions applied remotely in ${syncSeconds.toFixed(2)} s = ${Math.round(UPDATES / syncSeconds)} updates/s`);
  console.log(
    JSON.stringify({
      bench: "net",
      smoke,
      totalMiB: totalBytes / MiB,
      chunkMiB: 1,
      pullMBps: Math.round(mbps(pullSeconds)),
      rawTcpMBps: Math.round(mbps(tcpSeconds)),
      ratio: Number((tcpSeconds / pullSeconds).toFixed(2)),
      syncUpdatesPerSec: Math.round(UPDATES / syncSeconds),
    }),
  );
}

if (process.argv.includes("--serve")) await serve();
else await main();
