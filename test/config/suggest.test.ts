import assert from "node:assert/strict";
import { test } from "node:test";
import { closestMatch, editDistance } from "../../src/config/suggest.js";

test("editDistance counts insertions, deletions, substitutions and transpositions", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("redundancy", "redundancy"), 0);
  assert.equal(editDistance("redundancy2", "redundancy"), 1);
  assert.equal(editDistance("redudnancy", "redundancy"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("ca", "abc"), 3, "OSA, not full Damerau");
});

test("closestMatch suggests only plausible typos", () => {
  const keys = ["name", "redundancy", "conflict", "join", "max_size", "admins", "grace", "write_ack"];
  assert.equal(closestMatch("redundancy2", keys), "redundancy");
  assert.equal(closestMatch("Write-Ack", keys), "write_ack");
  assert.equal(closestMatch("nmae", keys), "name");
  assert.equal(closestMatch("maxsize", keys), "max_size");
  assert.equal(closestMatch("colour", keys), undefined);
  assert.equal(closestMatch("x".repeat(100_000), keys), undefined);
});
