// Property tests: random operations on 3–5 replicas with random delivery orders and
// offline periods. The invariants are checked in property-model.ts.
import { test } from "node:test";
import fc from "fast-check";
import { opArb, RUNS, run, STATS } from "./property-model.js";

/** Random scenarios: 3–5 replicas with skewed clocks, a conflict policy, up to 60 operations. */
function scenarios(writeBehind: boolean) {
  return fc.property(
    fc.integer({ min: 3, max: 5 }),
    fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 5, maxLength: 5 }),
    fc.constantFrom("overwrite", "keep-both", "mixed" as const),
    fc.array(opArb, { minLength: 5, maxLength: 60 }),
    (replicas, skews, policy, ops) => run(replicas, skews, policy, ops, writeBehind),
  );
}

test(`namespace replicas converge without losing versions (${RUNS} runs)`, (t) => {
  fc.assert(scenarios(false), { numRuns: RUNS });
  t.diagnostic(`coverage: ${JSON.stringify(STATS)} (operations ok/refused, conflicts by kind at the end of runs)`);
});

test(`with creates held back from the documents (write-behind), replicas still converge (${RUNS} runs)`, () => {
  fc.assert(scenarios(true), { numRuns: RUNS });
});
