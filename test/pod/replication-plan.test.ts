import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Liveness } from "../../src/pod/liveness.js";
import { type LiveVersionRef, type PlanInput, PlanState, planReplication } from "../../src/pod/replication-plan.js";
import { refOfList } from "../helpers/plan-refs.js";

/** holders: version -> pods holding it; targets: inode -> target pods; this pod is "a". */
function input(holders: Record<string, string[]>, targets: Record<string, string[]>, over: Partial<PlanInput> = {}): PlanInput {
  const versions = [...(over.versions ?? Object.keys(targets).map((inode) => ({ inode, version: `v-${inode}`, redundancy: 2 })))];
  return {
    selfId: "a",
    versions,
    refOf: refOfList(versions),
    targetsOf: (ref) => targets[ref.inode] ?? [],
    holdersOf: (v) => holders[v] ?? [],
    heldLocally: new Set(Object.keys(holders).filter((v) => holders[v]!.includes("a"))),
    isProtected: () => false,
    isReachable: () => true,
    ...over,
  };
}

test("a target that lacks a version pulls it; a holder that is a target keeps it", () => {
  const plan = planReplication(input({ "v-1": ["b"], "v-2": ["a"] }, { "1": ["a", "b"], "2": ["a", "c"] }));
  assert.deepEqual(plan.pull, ["v-1"]);
  assert.deepEqual(plan.drop, []);
  assert.deepEqual(plan.fullyReplicated, [], "no version has all its targets yet");
});

test("a surplus copy is dropped only after every target confirmed holding it", () => {
  const targets = { "1": ["b", "c"] };
  assert.deepEqual(planReplication(input({ "v-1": ["a", "b"] }, targets)).drop, [], "c has not confirmed yet");
  const confirmed = { "v-1": ["a", "b", "c"] };
  const plan = planReplication(input(confirmed, targets));
  assert.deepEqual(plan.drop, ["v-1"]);
  assert.deepEqual(plan.fullyReplicated, ["v-1"]);
  assert.deepEqual(planReplication(input(confirmed, targets, { isReachable: (p) => p !== "c" })).drop, [], "an unreachable target's confirmation does not count");
  assert.deepEqual(planReplication(input(confirmed, targets, { isProtected: () => true })).drop, [], "outbox/pinned copies stay");
});

test("the same content under two inodes is planned once", () => {
  const plan = planReplication(
    input({}, {}, { versions: [{ inode: "1", version: "v", redundancy: 1 }, { inode: "2", version: "v", redundancy: 1 }], targetsOf: () => ["a"] }),
  );
  assert.deepEqual(plan.pull, ["v"]);
});

test("content under two inodes is placed by the smallest inode, whatever order a pod lists them in", () => {
  const targetsOf = ({ inode }: { inode: string }) => (inode === "1" ? ["a"] : ["other"]);
  const refs = [{ inode: "2", version: "v", redundancy: 1 }, { inode: "1", version: "v", redundancy: 1 }];
  for (const versions of [refs, [...refs].reverse()]) {
    const plan = planReplication(input({}, {}, { versions, targetsOf }));
    assert.deepEqual(plan.pull, ["v"], "every pod agrees that inode 1 places it, here");
  }
});

test("a missing pod stays placeable for the grace period, measured from when it went down", () => {
  let now = 1_000;
  const liveness = new Liveness("self", 500, () => now);
  assert.ok(liveness.isPlaceable("never-seen"), "peers get grace from this pod's start");
  liveness.up("b");
  now = 5_000;
  assert.ok(liveness.isPlaceable("b"));
  liveness.down("b");
  now = 5_400;
  assert.ok(liveness.isPlaceable("b") && !liveness.isReachable("b"));
  assert.equal(liveness.graceLeftMs("b"), 100);
  now = 5_501;
  assert.ok(!liveness.isPlaceable("b"));
  assert.ok(!liveness.isPlaceable("never-seen"));
  assert.ok(liveness.isPlaceable("self"));
});

test("a version kept here (pinned, keep rule) is pulled and never dropped, target or not", () => {
  const versions = [{ inode: "1", version: "v-1", redundancy: 2, keepHere: true }];
  assert.deepEqual(planReplication(input({ "v-1": ["b", "c"] }, { "1": ["b", "c"] }, { versions })).pull, ["v-1"]);
  assert.deepEqual(planReplication(input({ "v-1": ["a", "b", "c"] }, { "1": ["b", "c"] }, { versions })).drop, []);
});

test("re-planning only the versions whose holders or files changed gives the plan a full sweep gives", () => {
  const pods = ["a", "b", "c", "d"];
  const files = 12;
  const targets = (ref: LiveVersionRef) => [pods[Number(ref.inode) % 4]!, pods[(Number(ref.inode) + 1) % 4]!];
  // A step adds or removes one pod's copy of one version, or points one file at another
  // version (a write), or deletes it (version -1).
  const holdersStep = fc.record({ kind: fc.constant("holders" as const), pod: fc.constantFrom(...pods), version: fc.integer({ min: 0, max: 11 }), add: fc.boolean() });
  const fileStep = fc.record({ kind: fc.constant("file" as const), inode: fc.integer({ min: 0, max: files - 1 }), version: fc.integer({ min: -1, max: 11 }) });
  fc.assert(
    fc.property(fc.array(fc.oneof(holdersStep, fileStep), { maxLength: 60 }), fc.integer({ min: 0, max: 5 }), (steps, outboxed) => {
      // Each file has fixed targets; v-10 and v-11 start as no live file's version.
      let versions: LiveVersionRef[] = Array.from({ length: files }, (_, i) => ({ inode: String(i), version: `v-${i % 10}`, redundancy: 2, keepHere: i === 3 }));
      const holders = new Map<string, Set<string>>();
      const inputNow = (): PlanInput => ({
        selfId: "a",
        versions,
        refOf: refOfList(versions),
        targetsOf: targets,
        holdersOf: (v) => [...(holders.get(v) ?? [])],
        heldLocally: new Set([...holders].filter(([, hs]) => hs.has("a")).map(([v]) => v)),
        isProtected: (v) => v === `v-${outboxed}`,
        isReachable: (p) => p !== "d",
      });
      const incremental = new PlanState();
      incremental.sweep(inputNow());
      for (const step of steps) {
        let touched: string[];
        if (step.kind === "holders") {
          const v = `v-${step.version}`;
          const set = holders.get(v) ?? new Set<string>();
          holders.set(v, set);
          if (step.add) set.add(step.pod);
          else set.delete(step.pod);
          touched = [v];
        } else {
          const inode = String(step.inode);
          const old = versions.find((r) => r.inode === inode);
          versions = versions.filter((r) => r.inode !== inode);
          if (step.version >= 0) versions.push({ inode, version: `v-${step.version}`, redundancy: 2, keepHere: step.inode === 3 });
          touched = [...(old ? [old.version] : []), ...(step.version >= 0 ? [`v-${step.version}`] : [])];
        }
        incremental.update(inputNow(), touched);
        const sorted = (p: ReturnType<PlanState["plan"]>) => ({ pull: p.pull.sort(), drop: p.drop.sort(), fullyReplicated: p.fullyReplicated.sort() });
        assert.deepEqual(sorted(incremental.plan()), sorted(planReplication(inputNow())));
      }
    }),
    { numRuns: 300 },
  );
});

test("a plan tracks pending pulls and the sizes used to batch them", () => {
  const state = new PlanState();
  const versions = [
    { inode: "1", version: "v-1", redundancy: 2, size: 10 },
    { inode: "2", version: "v-2", redundancy: 2, size: 5_000_000 },
  ];
  state.sweep(input({}, { "1": ["a", "b"], "2": ["a", "c"] }, { versions }));
  assert.equal(state.pendingPulls, 2);
  assert.equal(state.sizeOf("v-2"), 5_000_000);
  assert.equal(state.sizeOf("v-unknown"), 0);
  state.update(input({ "v-1": ["a"] }, { "1": ["a", "b"], "2": ["a", "c"] }, { versions }), ["v-1"]);
  assert.deepEqual(state.pulls(), ["v-2"], "v-1 is held here now");
});
