import assert from "node:assert/strict";
import { test } from "node:test";
import { Liveness } from "../../src/pod/liveness.js";
import { type PlanInput, planReplication } from "../../src/pod/replication-plan.js";

/** holders: version -> pods holding it; targets: inode -> target pods; this pod is "a". */
function input(holders: Record<string, string[]>, targets: Record<string, string[]>, over: Partial<PlanInput> = {}): PlanInput {
  return {
    selfId: "a",
    versions: Object.keys(targets).map((inode) => ({ inode, version: `v-${inode}`, redundancy: 2 })),
    targetsOf: (inode) => targets[inode] ?? [],
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
  const targetsOf = (inode: string) => (inode === "1" ? ["a"] : ["other"]);
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
