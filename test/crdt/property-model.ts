// The model behind the property tests: random operations on 3–5 replicas with random delivery orders and
// offline periods; after full sync every replica must show the same tree and conflicts,
// no written version may be lost, the view must be a tree, and the incremental view must
// equal a from-scratch build. Runs: WORMHOLE_PROPERTY_RUNS (default 300).
import assert from "node:assert/strict";
import fc from "fast-check";
import * as Y from "yjs";
import { Namespace, NamespaceError, type ConflictPolicy, type Entry } from "../../src/crdt/index.js";
import { splitPath } from "../../src/crdt/paths.js";
import { Clock, dumpTree, podId, version } from "./helpers.js";

/** Coverage of the random runs (reported by the test as a diagnostic, not asserted). */
export const STATS: Record<string, number> = { ok: 0, fail: 0, copies: 0, entries: 0 };
export const RUNS = Number(process.env.WORMHOLE_PROPERTY_RUNS ?? 300);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`WORMHOLE_PROPERTY_RUNS must be a positive integer, got "${process.env.WORMHOLE_PROPERTY_RUNS}"`);
const NAMES = ["a", "b", "k.txt"];

// Few names and shallow paths, so operations collide often (that is where the anomalies are).
const pathArb = fc
  .oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 4, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constant(3) })
  .chain((depth) => fc.array(fc.constantFrom(...NAMES), { minLength: depth, maxLength: depth }))
  .map((p) => "/" + p.join("/"));

type Op =
  | { t: "mkdir" | "create" | "unlink" | "rmdir" | "write" | "chmod"; pod: number; path: string }
  | { t: "rename"; pod: number; path: string; to: string }
  | { t: "resolve"; pod: number; path: string; keep: "newest" | "both" | "pod" }
  | { t: "push"; pod: number; to: number }
  | { t: "deliver"; pod: number; to: number; pick: number }
  | { t: "offline"; pod: number }
  | { t: "apply"; pod: number }
  | { t: "tick"; pod: number; ms: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constantFrom("mkdir", "mkdir", "create", "write", "write", "unlink", "rmdir", "chmod" as const), pod: fc.nat(4), path: pathArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("rename" as const), pod: fc.nat(4), path: pathArb, to: pathArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("resolve" as const), pod: fc.nat(4), path: pathArb, keep: fc.constantFrom("newest", "both", "pod" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("push" as const), pod: fc.nat(4), to: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("deliver" as const), pod: fc.nat(4), to: fc.nat(4), pick: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("offline" as const), pod: fc.nat(4) }) },
  // With write-behind: the held creates go into the documents (else they wait for the end).
  { weight: 1, arbitrary: fc.record({ t: fc.constant("apply" as const), pod: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("tick" as const), pod: fc.nat(4), ms: fc.constantFrom(0, 1, 999, 60_000) }) },
);

/** One replica plus the bookkeeping the invariants need. */
class Replica {
  readonly clock: Clock;
  readonly ns: Namespace;
  /** Every update this replica produced, in order (per doc), for out-of-order delivery. */
  readonly log: { doc: string; update: Uint8Array }[] = [];
  offline = false;
  private nextId = 1;

  constructor(
    readonly n: number,
    skewMs: number,
    policyFor: (path: string) => ConflictPolicy,
    writeBehind: boolean,
  ) {
    this.clock = new Clock(Date.UTC(2026, 0, 1) + skewMs);
    this.ns = new Namespace({
      podId: podId(n + 1),
      now: this.clock.now,
      shardCount: 3,
      policyFor,
      // Held until an "apply" op or the end of the run (the timer never fires first).
      ...(writeBehind ? { createBatchMs: 3_600_000 } : {}),
      newInodeId: () => (n + 1).toString(16).padStart(2, "0").repeat(4) + (this.nextId++).toString(16).padStart(24, "0"),
    });
    for (const [name, doc] of this.ns.docs) doc.on("updateV2", (update: Uint8Array, origin: unknown) => origin !== "remote" && this.log.push({ doc: name, update }));
  }
}

function push(from: Replica, to: Replica): void {
  for (const [name, doc] of from.ns.docs) {
    const target = to.ns.docs.get(name)!;
    Y.applyUpdateV2(target, Y.encodeStateAsUpdateV2(doc, Y.encodeStateVector(target)), "remote");
  }
}

function viewReaddir(view: ReturnType<typeof Namespace.buildView>) {
  return { readdir: (p: string) => view.list(p, view.locate(splitPath(p))!.resolution.dirs!) };
}

function visibleVersions(tree: Entry[], ns: Namespace): Set<string> {
  const out = new Set<string>();
  for (const e of tree) if (e.kind === "file") out.add(e.version);
  for (const c of ns.conflicts()) for (const s of c.sides) if (s.version) out.add(s.version);
  return out;
}

function liveSet(ns: Namespace): Set<string> {
  return new Set([...ns.liveVersions()].map((v) => v.version));
}

/**
 * `writeBehind`: every replica holds its creates back from its documents (Namespace
 * `createBatchMs`) until an "apply" op or the end, so pushes and deliveries meanwhile carry
 * everything but them.
 */
export function run(replicaCount: number, skews: number[], policy: "overwrite" | "keep-both" | "mixed", ops: Op[], writeBehind = false): void {
  const policyFor = (p: string): ConflictPolicy => (policy === "mixed" ? (p.includes("k") ? "keep-both" : "overwrite") : policy);
  const reps = Array.from({ length: replicaCount }, (_, i) => new Replica(i, skews[i], policyFor, writeBehind));
  try {
    runOps(reps, policyFor, ops);
  } finally {
    for (const r of reps) r.ns.applyHeldCreates(); // no timer outlives the run
  }
}

function runOps(reps: Replica[], policyFor: (p: string) => ConflictPolicy, ops: Op[]): void {
  const replicaCount = reps.length;
  const written = new Set<string>();
  const superseded = new Set<string>();
  let counter = 0;
  // A shared starting tree, so random operations mostly hit something that exists.
  const seed = reps[0].ns;
  seed.mkdir("/a");
  seed.mkdir("/b");
  seed.mkdir("/b/a");
  for (const p of ["/k.txt", "/a/k.txt", "/b/k.txt"]) {
    const v = version(`seed${p}`);
    seed.createFile(p, undefined, { version: v, size: 1 });
    written.add(v);
  }
  for (const r of reps.slice(1)) push(reps[0], r);
  for (const op of ops) {
    const r = reps[op.pod % replicaCount];
    const ns = r.ns;
    if (op.t === "push" || op.t === "deliver") {
      const to = reps[op.to % replicaCount];
      if (to === r || r.offline || to.offline) continue;
      if (op.t === "push") push(r, to);
      else if (r.log.length > 0) {
        const u = r.log[op.pick % r.log.length];
        Y.applyUpdateV2(to.ns.docs.get(u.doc)!, u.update, "remote");
      }
      continue;
    }
    if (op.t === "offline") {
      r.offline = !r.offline;
      continue;
    }
    if (op.t === "apply") {
      ns.applyHeldCreates();
      continue;
    }
    if (op.t === "tick") {
      r.clock.tick(op.ms);
      continue;
    }
    const before = liveSet(ns);
    const v = version(`w${counter++}`);
    try {
      switch (op.t) {
        case "mkdir":
          ns.mkdir(op.path);
          break;
        case "create":
          ns.createFile(op.path, undefined, { version: v, size: counter });
          written.add(v);
          break;
        case "write":
          ns.write(op.path, { version: v, size: counter });
          written.add(v);
          break;
        case "unlink":
          ns.unlink(op.path);
          break;
        case "rmdir":
          ns.rmdir(op.path);
          break;
        case "chmod":
          ns.setattr(op.path, { mode: 0o600 });
          break;
        case "rename":
          ns.rename(op.path, op.to);
          break;
        case "resolve": {
          const side = ns.conflicts().find((c) => c.path === op.path)?.sides[0];
          ns.resolveConflict(op.path, op.keep === "pod" ? { pod: side?.pod ?? ns.podId } : op.keep);
          break;
        }
      }
      STATS.ok++;
    } catch (e) {
      if (!(e instanceof NamespaceError)) throw e;
      STATS.fail++;
    }
    // A version this pod could see and that its own operation removed was replaced knowingly.
    const after = liveSet(ns);
    for (const x of before) if (!after.has(x)) superseded.add(x);
  }
  for (const r of reps) {
    r.offline = false;
    r.ns.applyHeldCreates();
  }
  for (let round = 0; round < 2; round++) for (const a of reps) for (const b of reps) if (a !== b) push(a, b);

  const cs = reps[0].ns.conflicts();
  for (const c of cs) STATS[c.kind] = (STATS[c.kind] ?? 0) + 1;
  STATS.copies += dumpTree(reps[0].ns).filter((e) => e.conflictCopy).length;
  STATS.entries += dumpTree(reps[0].ns).length;
  // (1) one view and one conflict list everywhere
  const tree0 = dumpTree(reps[0].ns);
  const conflicts0 = reps[0].ns.conflicts();
  for (const r of reps.slice(1)) {
    assert.deepEqual(dumpTree(r.ns), tree0, `replica ${r.n} tree differs`);
    assert.deepEqual(r.ns.conflicts(), conflicts0, `replica ${r.n} conflicts differ`);
  }
  // (2) nothing written is lost unless a later write saw it and replaced it
  const live = liveSet(reps[0].ns);
  const visible = visibleVersions(tree0, reps[0].ns);
  for (const v of written) if (!superseded.has(v)) assert.ok(live.has(v), `version ${v.slice(0, 12)} was lost`);
  for (const v of live) assert.ok(visible.has(v), `live version ${v.slice(0, 12)} is neither visible nor listed as a conflict`);
  // (3) a tree: unique names per directory, every entry found again by path and inode
  const byDir = new Map<string, Set<string>>();
  for (const e of tree0) {
    const dir = e.path.slice(0, e.path.length - e.name.length);
    const names = byDir.get(dir) ?? new Set();
    assert.ok(!names.has(e.name), `duplicate name ${e.path}`);
    names.add(e.name);
    byDir.set(dir, names);
    assert.deepEqual(reps[0].ns.lookup(e.path), e, `lookup(${e.path}) differs from readdir`);
    if (!e.conflictCopy) assert.equal(reps[0].ns.stat(e.inode)?.path, e.path, `stat(${e.inode}) does not lead back to ${e.path}`);
  }
  // (4) incremental view == view built from scratch
  for (const r of reps) {
    const scratch = Namespace.buildView(r.ns.docs, policyFor);
    assert.deepEqual(dumpTree(viewReaddir(scratch)), tree0, `replica ${r.n}: incremental tree differs from scratch build`);
    assert.deepEqual(scratch.conflicts(), conflicts0, `replica ${r.n}: incremental conflicts differ from scratch build`);
  }
}

