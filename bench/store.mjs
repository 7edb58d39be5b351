// Storage benchmark: chunking + hashing, durable writes into the chunk store (beside dd on the
// same disk), byte-range reads, and how many chunks one inserted byte changes.
// Usage: node bench/store.mjs [--smoke] [--size <MiB>]   (default 1024 MiB)
// Prints a table, then one JSON object as the last line.
import { spawnSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ChunkStore, HashPool, VersionReader, chunkInput, writeVersion } from "../dist/src/store/index.js";

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const sizeArg = args.indexOf("--size");
const sizeMiB = sizeArg >= 0 ? Number(args[sizeArg + 1]) : smoke ? 16 : 1024;
if (!Number.isInteger(sizeMiB) || sizeMiB <= 0) {
  console.error(`--size expects a whole number of MiB, got ${args[sizeArg + 1]}`);
  process.exit(2);
}
const editMiB = smoke ? 8 : 100;
const size = sizeMiB * MiB;

function keystream(seed) {
  return createCipheriv("aes-256-ctr", createHash("sha256").update(seed).digest(), Buffer.alloc(16));
}

function writeRandomFile(file, bytes, seed) {
  const cipher = keystream(seed);
  const fd = openSync(file, "w");
  const zeros = Buffer.alloc(16 * MiB);
  for (let done = 0; done < bytes; done += zeros.length) {
    const piece = cipher.update(zeros.subarray(0, Math.min(zeros.length, bytes - done)));
    writeSync(fd, piece);
  }
  fdatasyncSync(fd); // so the kernel is not still flushing it while we measure
  closeSync(fd);
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const mbps = (bytes, secs) => bytes / 1e6 / secs;

const dir = mkdtempSync(path.join(tmpdir(), "wormhole-bench-store-"));
const rows = [];
const result = {};
try {
  const input = path.join(dir, "input");
  writeRandomFile(input, size, "bench-input");
  const pool = HashPool.shared();
  // Warm-up: start the workers and let V8 optimise the loops before anything is timed.
  for await (const block of chunkInput(keystream("warm-up").update(Buffer.alloc(48 * MiB)), pool)) void block;

  // 1. FastCDC + SHA-256 of the file (from the page cache), through the worker pipeline.
  let start = process.hrtime.bigint();
  let chunkCount = 0;
  for await (const block of chunkInput(input, pool)) chunkCount += block.lengths.length;
  let secs = seconds(start);
  result.chunkHashMBps = mbps(size, secs);
  rows.push(["FastCDC + SHA-256 (pipeline)", `${sizeMiB} MiB`, secs, result.chunkHashMBps, `${chunkCount} chunks, mean ${(size / chunkCount / MiB).toFixed(2)} MiB`]);

  // 2. dd conv=fdatasync of the same size on the same disk, then the chunk store.
  const ddTarget = path.join(dir, "dd.out");
  start = process.hrtime.bigint();
  const dd = spawnSync("dd", ["if=/dev/zero", `of=${ddTarget}`, "bs=1M", `count=${sizeMiB}`, "conv=fdatasync"], { encoding: "utf8" });
  secs = seconds(start);
  if (dd.status !== 0) throw new Error(`dd failed: ${dd.stderr}`);
  rmSync(ddTarget);
  result.ddWriteMBps = mbps(size, secs);
  rows.push(["dd conv=fdatasync", `${sizeMiB} MiB`, secs, result.ddWriteMBps, "reference"]);

  const store = await ChunkStore.open(path.join(dir, "store"));
  start = process.hrtime.bigint();
  const written = await writeVersion(store, input);
  secs = seconds(start);
  result.storeWriteMBps = mbps(size, secs);
  rows.push(["writeVersion (durable, syncfs rounds)", `${sizeMiB} MiB`, secs, result.storeWriteMBps, `${((result.storeWriteMBps / result.ddWriteMBps) * 100).toFixed(0)} % of dd`]);

  // 3. Byte-range reads of the stored version (chunk files are in the page cache now).
  for (const [label, rangeBytes] of [["readRange 1 MiB sequential", MiB], ["readRange 128 KiB sequential", 128 * 1024]]) {
    const reader = await VersionReader.open(store, written.version);
    start = process.hrtime.bigint();
    let got = 0;
    for (let offset = 0; offset < size; offset += rangeBytes) got += (await reader.read(offset, rangeBytes)).length;
    secs = seconds(start);
    reader.close();
    if (got !== size) throw new Error(`read back ${got} bytes, expected ${size}`);
    rows.push([label, `${sizeMiB} MiB`, secs, mbps(size, secs), "verified hashes"]);
    if (rangeBytes === MiB) result.readMBps = mbps(size, secs);
  }

  // 4. One byte inserted into the middle of a file: how many chunks change.
  const editBytes = editMiB * MiB;
  const original = keystream("bench-edit").update(Buffer.alloc(editBytes));
  const idsOf = async (data) => {
    const ids = [];
    for await (const block of chunkInput(data, pool)) ids.push(...block.ids);
    return ids;
  };
  const before = new Set(await idsOf(original));
  const middle = editBytes / 2 + 12345;
  const edited = Buffer.concat([original.subarray(0, middle), Buffer.from([42]), original.subarray(middle)]);
  const after = await idsOf(edited);
  result.changedChunksAfterInsert = after.filter((id) => !before.has(id)).length;
  rows.push(["insert 1 byte mid-file", `${editMiB} MiB`, 0, 0, `${result.changedChunksAfterInsert} of ${after.length} chunks changed`]);
  await pool.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`store benchmark (${smoke ? "smoke" : "full"}; 2 shared cores, numbers are noisy)`);
console.log("| step | size | seconds | MB/s | note |");
console.log("|---|---|---|---|---|");
for (const [step, sz, secs, rate, note] of rows) console.log(`| ${step} | ${sz} | ${secs ? secs.toFixed(2) : "-"} | ${rate ? rate.toFixed(0) : "-"} | ${note} |`);
for (const key of Object.keys(result)) if (typeof result[key] === "number" && key.endsWith("MBps")) result[key] = Math.round(result[key]);
console.log(JSON.stringify({ sizeMiB, ...result }));
