// A client pod (a laptop) in its own network namespace, against three full pods, all real
// processes with real FUSE mounts. The laptop loses its network by taking the veth link
// down: no close reaches anyone, exactly like a laptop leaving Wi-Fi range.
//
// Knobs (CI runs the defaults, which are the counts):
//   WORMHOLE_CLIENT_FILES  files written offline (500)
//   WORMHOLE_CLIENT_EDITS  files edited on both sides while offline (50, half per policy)
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { callAdmin } from "../../src/cli/admin-client.js";
import { waitFor } from "../helpers/cluster.js";
import { type ClientWorld, converged, fullyUploaded, startLaptop, startWorld, status, tree } from "./client-harness.js";

const run = promisify(execFile);
const FILES = Number(process.env.WORMHOLE_CLIENT_FILES ?? 500);
const EDITS = Number(process.env.WORMHOLE_CLIENT_EDITS ?? 50);
const PER_POLICY = Math.ceil(EDITS / 2);
/** pod.toml default offline_read_timeout. */
const READ_TIMEOUT_MS = 2_000;

let w: ClientWorld;
const at = (mount: string, path: string) => join(mount, path);
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A read through the laptop's mount: how it ended and how long it took. */
async function timedRead(path: string): Promise<{ ms: number; code?: string; data?: Buffer }> {
  const started = performance.now();
  try {
    const data = await readFile(at(w.laptopMount, path));
    return { ms: performance.now() - started, data };
  } catch (error) {
    return { ms: performance.now() - started, code: (error as NodeJS.ErrnoException).code };
  }
}

async function goOffline(): Promise<void> {
  await w.ns.linkDown();
  // The link is dead, not closed: the laptop finds out from its keepalive within seconds.
  await waitFor("the laptop to notice it is offline", async () => (await status(w.laptop)).client?.state === "offline", 15_000, 100);
}

const pinned = randomBytes(300 * 1024);
const kept = randomBytes(200 * 1024);
const cold = randomBytes(300 * 1024);

before(async () => {
  w = await startWorld(3);
  const a = w.aMount;
  for (const dir of ["pinned", "kept", "cold", "ow", "kb", "del"]) await mkdir(at(a, dir));
  await writeFile(at(a, "pinned/p.bin"), pinned);
  await writeFile(at(a, "kept/k.bin"), kept);
  await writeFile(at(a, "cold/c.bin"), cold);
  await writeFile(at(a, "del/x.txt"), "to be deleted with its directory\n");
  for (let i = 0; i < PER_POLICY; i++) {
    await writeFile(at(a, `ow/e${i}.txt`), `original ${i}\n`);
    await writeFile(at(a, `kb/e${i}.txt`), `original ${i}\n`);
  }
  await w.laptop.cli(["pin", "/pinned"]);
  await waitFor(
    "the laptop to see every file and fetch its pinned and kept ones",
    async () => {
      const s = await status(w.laptop);
      return s.files.total === 4 + 2 * PER_POLICY && s.pendingFetches === 0 && s.client!.cache.storedBytes >= pinned.length + kept.length;
    },
    30_000,
    100,
  );
  await fullyUploaded(w.laptop, w.full[0]!, 30_000);
});

after(() => w?.dispose());

test("status on an online client: online, the full pods it reaches, an empty queue, cache against its limit", async () => {
  const s = await status(w.laptop);
  assert.equal(s.client?.state, "online");
  assert.equal(s.client.workingOffline, false);
  await waitFor("the laptop to reach all three full pods", async () => (await status(w.laptop)).client!.reachable.length === 3, 15_000);
  assert.deepEqual((await status(w.laptop)).client!.reachable.map((p) => p.name).sort(), ["a", "b", "c"]);
  assert.deepEqual(s.client.queued, { changes: 0, uploads: 0, bytes: 0 });
  assert.ok(s.client.cache.maxBytes > 0, "the cache limit is shown");
  const human = await w.laptop.cli(["status"]);
  assert.match(human, /network +online via a, b, c|network +online via/);
  assert.match(human, /queued +0 change\(s\), 0 file version\(s\) to upload/);
  assert.match(human, /cache +.* of /);
  assert.equal((await status(w.full[0]!)).client, undefined, "a full pod's status has no client section");
});

test("`wormhole offline`: reads of content not on the laptop fail at once, status says so, `wormhole online` reconnects", async () => {
  await w.laptop.cli(["offline"]);
  const s = await status(w.laptop);
  assert.equal(s.client?.state, "offline");
  assert.equal(s.client.workingOffline, true);
  assert.match(await w.laptop.cli(["status"]), /network +offline \(working offline/);
  const read = await timedRead("/cold/c.bin");
  assert.equal(read.code, "EIO");
  assert.ok(read.ms < 1_000, `working offline on purpose, nobody will answer: it failed after ${Math.round(read.ms)} ms`);
  await w.laptop.cli(["online"]);
  await waitFor("the laptop to reach all three full pods again", async () => (await status(w.laptop)).client!.reachable.length === 3, 15_000, 50);
});

test("offline: a read of content not on the laptop fails with EIO within the timeout, right after the link dies and later", async () => {
  await w.ns.linkDown();
  // The link just died: the laptop still believes it is connected (no close arrived).
  const fresh = await timedRead("/cold/c.bin");
  assert.equal(fresh.code, "EIO", "an unreachable read is an I/O error");
  assert.ok(fresh.ms < READ_TIMEOUT_MS + 1_500, `it failed after ${Math.round(fresh.ms)} ms, not after the 30 s chunk timeout`);
  await waitFor("the laptop to notice it is offline", async () => (await status(w.laptop)).client?.state === "offline", 15_000, 100);
  const later = await timedRead("/cold/c.bin");
  assert.equal(later.code, "EIO");
  assert.ok(later.ms < READ_TIMEOUT_MS + 1_000, `it failed after ${Math.round(later.ms)} ms`);
  assert.match(w.laptop.output, /\/cold\/c\.bin/, "the log names the file that could not be read");
  // The full pods see a client away, not a failure.
  const a = await status(w.full[0]!);
  assert.equal(a.health, "healthy");
  assert.equal(a.pods.find((p) => p.name === "laptop")?.state, "offline");
});

test("offline: browsing works, pinned and kept files open, writes/edits/renames/deletes succeed and queue; online again everything converges", async (t) => {
  const began = performance.now();
  const phase = (what: string) => t.diagnostic(`${what}: ${Math.round(performance.now() - began)} ms`);
  // (still offline from the previous test)
  assert.equal((await status(w.laptop)).client?.state, "offline");
  const names = (await readdir(w.laptopMount)).sort();
  assert.deepEqual(names, ["cold", "del", "kb", "kept", "ow", "pinned"]);
  assert.equal((await stat(at(w.laptopMount, "cold/c.bin"))).size, cold.length, "stat of an uncached file works offline");
  assert.equal((await readdir(at(w.laptopMount, "ow"))).length, PER_POLICY);
  assert.deepEqual(await readFile(at(w.laptopMount, "pinned/p.bin")), pinned, "a pinned file opens offline");
  assert.deepEqual(await readFile(at(w.laptopMount, "kept/k.bin")), kept, "a file under a keep pattern opens offline");

  // Offline work on the laptop.
  const written = new Map<string, string>();
  for (let d = 0; d < 5; d++) await mkdir(at(w.laptopMount, `new/d${d}`), { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const path = `new/d${i % 5}/f${i}.bin`;
    const data = randomBytes(512 + (i % 7) * 1024);
    await writeFile(at(w.laptopMount, path), data);
    written.set(`/${path}`, sha(data));
  }
  await rename(at(w.laptopMount, "new/d0/f0.bin"), at(w.laptopMount, "new/renamed.bin"));
  written.set("/new/renamed.bin", written.get("/new/d0/f0.bin")!);
  written.delete("/new/d0/f0.bin");
  for (let i = 0; i < PER_POLICY; i++) {
    await writeFile(at(w.laptopMount, `ow/e${i}.txt`), `laptop edit ${i}\n`);
    await writeFile(at(w.laptopMount, `kb/e${i}.txt`), `laptop edit ${i}\n`);
  }
  await rm(at(w.laptopMount, "del"), { recursive: true });
  // Meanwhile on full pod a: the same files edited (later, so a's edits are the newest), and
  // a file added to the directory the laptop deleted.
  for (let i = 0; i < PER_POLICY; i++) {
    await writeFile(at(w.aMount, `ow/e${i}.txt`), `a edit ${i}\n`);
    await writeFile(at(w.aMount, `kb/e${i}.txt`), `a edit ${i}\n`);
  }
  await writeFile(at(w.aMount, "del/new.txt"), "added on a while the laptop deleted the directory\n");

  phase("offline work done");
  const offline = await status(w.laptop);
  assert.equal(offline.client?.state, "offline");
  assert.ok(offline.client.queued.changes >= FILES, `changes are queued (${offline.client.queued.changes})`);
  // One version per distinct content: the same edit in /ow and /kb is one upload.
  assert.ok(offline.client.queued.uploads >= FILES + PER_POLICY - 1, `uploads are queued (${offline.client.queued.uploads})`);
  assert.ok(offline.client.queued.bytes > FILES * 512, "their bytes are counted");
  assert.match(await w.laptop.cli(["status"]), /network +offline/);

  await w.ns.linkUp();
  const pods = [...w.full, w.laptop];
  const final = await converged(pods, 60_000);
  phase("every pod shows the same tree");
  await fullyUploaded(w.laptop, w.full[0]!, 60_000);
  phase("full redundancy");
  assert.deepEqual(await tree(w.laptop), final, "still the same tree after the upload");

  // Nothing written on either side is lost.
  for (const [path, hash] of written) {
    assert.equal(sha(await readFile(at(w.aMount, path))), hash, `${path} reached a full pod intact`);
  }
  phase("content checked");
  assert.ok(final.includes("file /del/new.txt 50"), "a file added under a concurrently deleted directory brings it back");
  assert.ok(!final.some((l) => l.startsWith("file /del/x.txt")), "the laptop's delete of the old file stands");
  // overwrite: the newest edit (a's) is the file; the laptop's is kept and listed.
  for (let i = 0; i < PER_POLICY; i++) assert.equal(await readFile(at(w.aMount, `ow/e${i}.txt`), "utf8"), `a edit ${i}\n`);
  // keep-both: the newest is the file, the other appears beside it as a conflict copy.
  const kb = await readdir(at(w.aMount, "kb"));
  for (let i = 0; i < PER_POLICY; i++) {
    assert.equal(await readFile(at(w.aMount, `kb/e${i}.txt`), "utf8"), `a edit ${i}\n`);
    const copies = kb.filter((n) => n.startsWith(`e${i}.conflict-`));
    assert.equal(copies.length, 1, `kb/e${i}.txt has one conflict copy (${kb.join(",")})`);
    assert.equal(await readFile(at(w.aMount, `kb/${copies[0]}`), "utf8"), `laptop edit ${i}\n`);
  }
  // The conflicts appear in `wormhole conflicts` on every pod, the same list.
  const lists = await Promise.all(pods.map(async (p) => (await callAdmin(p.data, "GET /conflicts", {})).conflicts.map((c) => `${c.path} ${c.policy}`).sort()));
  for (const list of lists) assert.deepEqual(list, lists[0]);
  for (let i = 0; i < PER_POLICY; i++) assert.ok(lists[0]!.includes(`/ow/e${i}.txt overwrite`), `/ow/e${i}.txt is listed as a conflict`);
});

test("a client killed (SIGKILL) while offline with queued writes restarts offline, still browses, and uploads everything once back", async () => {
  await goOffline();
  const written = new Map<string, string>();
  await mkdir(at(w.laptopMount, "crash"));
  for (let i = 0; i < 30; i++) {
    const data = randomBytes(64 * 1024 + i);
    await writeFile(at(w.laptopMount, `crash/f${i}.bin`), data);
    written.set(`/crash/f${i}.bin`, sha(data));
  }
  await w.laptop.kill("SIGKILL");
  await run("fusermount", ["-uz", w.laptopMount]).catch(() => {});
  await startLaptop(w.laptop, w.laptopMount);

  const restarted = await status(w.laptop);
  assert.equal(restarted.client?.state, "offline");
  assert.ok(restarted.client.queued.uploads >= 30, `the queue survived the crash (${restarted.client.queued.uploads} uploads)`);
  assert.equal((await readdir(at(w.laptopMount, "crash"))).length, 30, "the namespace is browsable right after a restart while offline");
  assert.equal((await readdir(at(w.laptopMount, "new/d1"))).length, Math.ceil((FILES - 1) / 5), "older files too");
  assert.equal(sha(await readFile(at(w.laptopMount, "crash/f7.bin"))), written.get("/crash/f7.bin"), "queued content is readable locally");

  await w.ns.linkUp();
  await converged([...w.full, w.laptop], 60_000);
  await fullyUploaded(w.laptop, w.full[0]!, 60_000);
  for (const [path, hash] of written) assert.equal(sha(await readFile(at(w.aMount, path))), hash, `${path} reached a full pod intact`);
});

test("a full pod going away while the client uploads: the upload finishes through the others", async () => {
  await goOffline();
  const written = new Map<string, string>();
  await mkdir(at(w.laptopMount, "failover"));
  for (let i = 0; i < 20; i++) {
    const data = randomBytes(512 * 1024);
    await writeFile(at(w.laptopMount, `failover/f${i}.bin`), data);
    written.set(`/failover/f${i}.bin`, sha(data));
  }
  await w.ns.linkUp();
  const c = w.full[2]!;
  // Wait until the upload is under way (the namespace reached the full pods), then pull c's plug.
  await waitFor("the upload to start", async () => (await tree(w.full[0]!)).some((l) => l.startsWith("file /failover/")), 30_000, 50);
  await c.kill("SIGKILL");
  await fullyUploaded(w.laptop, w.full[0]!, 60_000);
  const survivors = [w.full[0]!, w.full[1]!];
  await converged([...survivors, w.laptop], 30_000);
  for (const [path, hash] of written) assert.equal(sha(await readFile(at(w.aMount, path))), hash, `${path} reached a full pod intact`);
  const a = await status(w.full[0]!);
  assert.equal(a.files.underReplicated, 0, "every file has its two copies on the remaining full pods");
});
