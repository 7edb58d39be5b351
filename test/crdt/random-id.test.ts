import assert from "node:assert/strict";
import { test } from "node:test";
import { randomInodeId } from "../../src/crdt/random-id.js";

test("inode ids are 128 random bits in hex, distinct across refills of the pool", () => {
  const ids = Array.from({ length: 10_000 }, () => randomInodeId()); // ~39 refills
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(new Set(ids).size, ids.length);
});
