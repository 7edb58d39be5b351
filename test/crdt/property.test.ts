// Property tests: random operations on 3–5 replicas with random delivery orders and
// offline periods. The invariants are checked in property-model.ts.
import { test } from "node:test";
import fc from "fast-check";
import { opArb, RUNS, run, STATS } from "./property-model.js";

test(`namespace replicas converge without losing versions (${RUNS} runs)`, (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 3, max: 5 }),
      fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 5, maxLength: 5 }),
      fc.constantFrom("overwrite", "keep-both", "mixed" as const),
      fc.array(opArb, { minLength: 5, maxLength: 60 }),
      (replicas, skews, policy, ops) => run(replicas, skews, policy, ops),
    ),
    { numRuns: RUNS },
  );
  t.diagnostic(`coverage: ${JSON.stringify(STATS)} (operations ok/refused, conflicts by kind at the end of runs)`);
});

test(`with creates held back from the documents (write-behind), replicas still converge (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 3, max: 5 }),
      fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 5, maxLength: 5 }),
      fc.constantFrom("overwrite", "keep-both", "mixed" as const),
      fc.array(opArb, { minLength: 5, maxLength: 60 }),
      (replicas, skews, policy, ops) => run(replicas, skews, policy, ops, true),
    ),
    { numRuns: RUNS },
  );
});
