import assert from "node:assert/strict";
import { test } from "node:test";
import { HoldingsIndex } from "../../src/pod/holdings.js";
import { Liveness } from "../../src/pod/liveness.js";
import { type PlanInput, planReplication } from "../../src/pod/replication-plan.js";

function input(over: Partial<PlanInput> & { holdings: HoldingsIndex; targets: Record<string, string[]> }): PlanInput {
  return {
    selfId: "a",
    versions: Object.keys(over.targets).map((inode) => ({ inode, version: `v-${inode}`, redundancy: 2 })),
    targetsOf: (inode) => over.targets[inode] ?? [],
    holdersOf: (v) => over.holdings.holdersOf(v),
    heldLocally: over.holdings.heldBy("a"),
    isProtected: () => false,
    isReachable: () => true,
    ...over,
  };
}

test("a target that lacks a version pulls it; a holder that is a target keeps it", () => {
  const holdings = new HoldingsIndex();
  holdings.add("b", ["v-1"]);
  holdings.add("a", ["v-2"]);
  const plan = planReplication(input({ holdings, targets: { "1": ["a", "b"], "2": ["a", "c"] } }));
  assert.deepEqual(plan.pull, ["v-1"]);
  assert.deepEqual(plan.drop, []);
});

test("a surplus copy is dropped only after every target confirmed holding it", () => {
  const holdings = new HoldingsIndex();
  holdings.add("a", ["v-1"]);
  holdings.add("b", ["v-1"]);
  const targets = { "1": ["b", "c"] };
  assert.deepEqual(planReplication(input({ holdings, targets })).drop, [], "c has not confirmed yet");
  holdings.add("c", ["v-1"]);
  assert.deepEqual(planReplication(input({ holdings, targets })).drop, ["v-1"]);
  assert.deepEqual(
    planReplication(input({ holdings, targets, isReachable: (p) => p !== "c" })).drop,
    [],
    "a confirmation from an unreachable target does not count",
  );
  assert.deepEqual(planReplication(input({ holdings, targets, isProtected: () => true })).drop, [], "outbox/pinned copies stay");
});

test("holdings snapshot replaces a pod's previous announcement", () => {
  const holdings = new HoldingsIndex();
  holdings.add("b", ["v1", "v2"]);
  holdings.replace("b", ["v3"]);
  assert.deepEqual([...holdings.holdersOf("v1")], []);
  assert.deepEqual([...holdings.heldBy("b")], ["v3"]);
  holdings.forget("b");
  assert.equal(holdings.holdersOf("v3").size, 0);
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
