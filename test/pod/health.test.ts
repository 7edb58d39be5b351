import assert from "node:assert/strict";
import { test } from "node:test";
import { assessHealth, classifyFile, reactionFor, type FailureConfig } from "../../src/pod/health.js";

test("classifyFile: healthy, degraded, at-risk, unavailable", () => {
  assert.equal(classifyFile({ target: 3, liveReplicas: 3 }, true), "healthy");
  assert.equal(classifyFile({ target: 3, liveReplicas: 4 }, false), "healthy", "extra replicas are not a problem");
  assert.equal(classifyFile({ target: 3, liveReplicas: 2 }, true), "degraded");
  assert.equal(classifyFile({ target: 3, liveReplicas: 2 }, false), "at-risk");
  assert.equal(classifyFile({ target: 3, liveReplicas: 0 }, true), "unavailable");
  assert.equal(classifyFile({ target: 0, liveReplicas: 0 }, false), "healthy", "nothing to store");
});

test("classifyFile: a pod count as room means one free pod per target replica", () => {
  assert.equal(classifyFile({ target: 3, liveReplicas: 2 }, 3), "degraded");
  assert.equal(classifyFile({ target: 3, liveReplicas: 2 }, 2), "at-risk");
  assert.equal(classifyFile({ target: 2, liveReplicas: 1 }, 2), "degraded");
});

test("assessHealth counts files and reports the worst state", () => {
  assert.deepEqual(assessHealth([], true), { state: "healthy", counts: { total: 0, underReplicated: 0, unavailable: 0 } });
  assert.deepEqual(
    assessHealth(
      [
        { target: 3, liveReplicas: 3 },
        { target: 3, liveReplicas: 1 },
      ],
      true,
    ),
    { state: "degraded", counts: { total: 2, underReplicated: 1, unavailable: 0 } },
  );
  assert.deepEqual(
    assessHealth(
      [
        { target: 3, liveReplicas: 1 },
        { target: 2, liveReplicas: 1 },
      ],
      2,
    ),
    { state: "at-risk", counts: { total: 2, underReplicated: 2, unavailable: 0 } },
    "the target-3 file cannot recover with two free pods",
  );
  assert.deepEqual(
    assessHealth(
      [
        { target: 3, liveReplicas: 0 },
        { target: 3, liveReplicas: 1 },
        { target: 3, liveReplicas: 3 },
      ],
      false,
    ),
    { state: "unavailable", counts: { total: 3, underReplicated: 2, unavailable: 1 } },
  );
});

test("assessHealth rejects nonsense counts", () => {
  assert.throws(() => assessHealth([{ target: 3, liveReplicas: -1 }], true), /liveReplicas must be an integer >= 0/);
  assert.throws(() => assessHealth([{ target: 1.5, liveReplicas: 1 }], true), /target must be an integer >= 0/);
  assert.throws(() => assessHealth([], -2), /room/);
});

test("reactionFor maps each state to its configured reaction", () => {
  const failure: FailureConfig = { degraded: "throttle", at_risk: "read-only", unavailable: "stop" };
  assert.equal(reactionFor("healthy", failure), "continue");
  assert.equal(reactionFor("degraded", failure), "throttle");
  assert.equal(reactionFor("at-risk", failure), "read-only");
  assert.equal(reactionFor("unavailable", failure), "stop");
  assert.equal(reactionFor("at-risk", { ...failure, at_risk: "lower-redundancy" }), "lower-redundancy");
  assert.throws(() => reactionFor("degraded", { ...failure, degraded: "panic" }), /\[failure\] degraded = "panic" is not a reaction; expected one of continue, throttle/);
});
