// The replicator's scheduling over in-memory ports: batches respect their limits, a large
// version travels alone, a failed fetch is retried, and a holdings change re-plans only the
// versions it names.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Logger } from "../../src/pod/log.js";
import type { LiveVersionRef, PlanInput } from "../../src/pod/replication-plan.js";
import { Replicator, type ReplicatorPorts } from "../../src/pod/replicator.js";
import { refOfList } from "../helpers/plan-refs.js";

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A pod "a" that is the only target of every file; holdings live in `held`. */
function world(refs: LiveVersionRef[], fetchFails: (version: string, attempt: number) => boolean = () => false) {
  const held = new Set<string>();
  const batches: string[][] = [];
  const attempts = new Map<string, number>();
  let sweeps = 0;
  const ports: ReplicatorPorts = {
    snapshot: (full): PlanInput => {
      if (full) sweeps++;
      return {
        selfId: "a",
        versions: refs,
        refOf: refOfList(refs),
        targetsOf: () => ["a"],
        holdersOf: (v) => (held.has(v) ? ["a"] : ["b"]),
        heldLocally: held,
        isProtected: () => false,
        isReachable: () => true,
      };
    },
    fetch: async (versions) => {
      batches.push(versions);
      const failed = new Map<string, Error>();
      for (const v of versions) {
        const attempt = (attempts.get(v) ?? 0) + 1;
        attempts.set(v, attempt);
        if (fetchFails(v, attempt)) failed.set(v, new Error("holder went away"));
        else held.add(v);
      }
      return failed;
    },
    release: async () => {},
    replicated: async () => {},
  };
  return { ports, held, batches, sweeps: () => sweeps };
}

const small = (n: number): LiveVersionRef[] => Array.from({ length: n }, (_, i) => ({ inode: `i${i}`, version: `v${i}`, redundancy: 1, size: 100 }));

test("many small versions are fetched in batches of at most batchVersions, all of them", async () => {
  const refs = small(1000);
  const w = world(refs);
  const replicator = new Replicator(w.ports, quiet, { parallelBatches: 2, batchVersions: 64, batchBytes: 1 << 30, retryBaseMs: 10 });
  replicator.trigger();
  await replicator.idle();
  assert.equal(w.held.size, 1000);
  assert.equal(replicator.pendingFetches, 0);
  assert.ok(w.batches.every((b) => b.length <= 64));
  assert.ok(w.batches.length >= 1000 / 64 && w.batches.length <= 1000 / 64 + 2, `${w.batches.length} batches`);
  assert.equal(new Set(w.batches.flat()).size, w.batches.flat().length, "no version fetched twice");
});

test("a version larger than batchBytes travels alone; the small ones share batches", async () => {
  const refs = [...small(10), { inode: "big", version: "vbig", redundancy: 1, size: 10_000 }, ...small(20).slice(10)];
  const w = world(refs);
  const replicator = new Replicator(w.ports, quiet, { parallelBatches: 1, batchVersions: 100, batchBytes: 1_000, retryBaseMs: 10 });
  replicator.trigger();
  await replicator.idle();
  assert.equal(w.held.size, 21);
  const withBig = w.batches.find((b) => b.includes("vbig"))!;
  assert.deepEqual(withBig, ["vbig"]);
  assert.ok(w.batches.every((b) => b.includes("vbig") || b.length * 100 <= 1_000));
});

test("a failed fetch is retried after its backoff and ends held", async () => {
  const w = world(small(5), (v, attempt) => v === "v3" && attempt < 3);
  const replicator = new Replicator(w.ports, quiet, { parallelBatches: 1, batchVersions: 10, batchBytes: 1 << 30, retryBaseMs: 5 });
  replicator.trigger();
  const deadline = Date.now() + 5_000;
  while (!w.held.has("v3") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await replicator.idle();
  assert.ok(w.held.has("v3"), "v3 is held after its retries");
  assert.equal(replicator.pendingFetches, 0);
  await replicator.stop();
});

test("touching versions re-plans them without a full sweep", async () => {
  const w = world(small(3));
  const replicator = new Replicator(w.ports, quiet, { parallelBatches: 1, batchVersions: 10, batchBytes: 1 << 30, retryBaseMs: 5 });
  replicator.trigger();
  await replicator.idle();
  const sweeps = w.sweeps();
  w.held.delete("v1"); // as if this pod's copy were released elsewhere
  replicator.touch(["v1"]);
  await replicator.idle();
  assert.equal(w.sweeps(), sweeps, "no full sweep for a touch");
  assert.ok(w.held.has("v1"), "v1 was fetched again");
  assert.equal(w.batches.at(-1)!.join(), "v1");
});

test("work that appears while a batch is in flight goes to a free worker at once, not after that batch", async () => {
  const refs = small(1);
  const w = world(refs);
  let releaseFirst!: () => void;
  const firstBlocked = new Promise<void>((r) => (releaseFirst = r));
  const started: string[][] = [];
  const fetch = w.ports.fetch;
  w.ports.fetch = async (versions) => {
    started.push(versions);
    if (started.length === 1) await firstBlocked; // a slow batch (a large upload)
    return fetch(versions);
  };
  const replicator = new Replicator(w.ports, quiet, { parallelBatches: 2, batchVersions: 10, batchBytes: 1 << 30, retryBaseMs: 5 });
  replicator.trigger();
  while (started.length === 0) await new Promise((r) => setTimeout(r, 1));
  refs.push({ inode: "late", version: "vlate", redundancy: 1, size: 100 }); // announced later
  replicator.touch(["vlate"]);
  const deadline = Date.now() + 2_000;
  while (!w.held.has("vlate") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  assert.ok(w.held.has("vlate"), "the late version was fetched while the first batch was still in flight");
  assert.equal(w.held.has("v0"), false);
  releaseFirst();
  await replicator.idle();
  assert.ok(w.held.has("v0"));
  assert.deepEqual(started, [["v0"], ["vlate"]]);
});
