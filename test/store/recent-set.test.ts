import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentSet } from "../../src/store/recent-set.js";

test("RecentSet keeps the newest members up to its capacity; adding again refreshes a member", () => {
  const set = new RecentSet(3);
  for (const k of ["a", "b", "c"]) set.add(k);
  set.add("a"); // now the newest: b is the oldest
  set.add("d");
  assert.deepEqual(["a", "b", "c", "d"].map((k) => set.has(k)), [true, false, true, true]);
  set.delete("c");
  set.add("e");
  set.add("f");
  assert.deepEqual(["a", "c", "d", "e", "f"].map((k) => set.has(k)), [false, false, true, true, true]);
});
