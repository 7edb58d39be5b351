// Placement throughput: target pods per second for one inode, with 5 and 50 pods.
// Measures `Placement.place` (pods prepared once, as the daemon does per membership
// change) and the one-off `placeReplicas` (pods hashed on every call).
// The machine is shared with other builds: expect noise of +-20 %.
import { Placement, placeReplicas } from "../dist/src/pod/placement.js";

const smoke = process.argv.includes("--smoke");
const keys = smoke ? 20_000 : 1_000_000;
const n = 3;

function inodeIds(count) {
  const ids = new Array(count);
  for (let i = 0; i < count; i++) ids[i] = (i * 2654435761 >>> 0).toString(16).padStart(8, "0") + i.toString(16).padStart(24, "0");
  return ids;
}

function measure(fn, ids) {
  let sink = 0;
  for (let i = 0; i < Math.min(ids.length, 5_000); i++) sink += fn(ids[i]).length; // warm-up
  const started = process.hrtime.bigint();
  for (const id of ids) sink += fn(id).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink === 0) throw new Error("placement returned nothing");
  return ids.length / seconds;
}

const ids = inodeIds(keys);
const rows = [];
for (const podCount of [5, 50]) {
  const pods = Array.from({ length: podCount }, (_, i) => ({ id: `pod-${i.toString(36)}-${"x".repeat(40)}`, weight: 1 + (i % 7) }));
  const placement = new Placement(pods);
  const prepared = measure((id) => placement.place(id, n), ids);
  const oneOff = measure((id) => placeReplicas(id, pods, n), ids.slice(0, Math.max(1, ids.length / 10)));
  rows.push({ pods: podCount, replicas: n, preparedPerSec: Math.round(prepared), oneOffPerSec: Math.round(oneOff) });
}

console.log(`placement (${keys} inodes, n=${n}${smoke ? ", smoke" : ""})`);
console.log("pods  Placement.place/s  placeReplicas/s");
for (const r of rows) console.log(`${String(r.pods).padStart(4)}  ${r.preparedPerSec.toLocaleString("en").padStart(17)}  ${r.oneOffPerSec.toLocaleString("en").padStart(15)}`);
console.log(JSON.stringify({ bench: "placement", smoke, keys, replicas: n, results: rows }));
