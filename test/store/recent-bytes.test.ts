import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentBytes } from "../../src/store/recent-bytes.js";

test("RecentBytes keeps the newest entries within its byte budget; reading refreshes an entry", () => {
  const kept = new RecentBytes(300, 200);
  kept.add("a", Buffer.alloc(100, 1));
  kept.add("b", Buffer.alloc(100, 2));
  kept.add("c", Buffer.alloc(100, 3));
  assert.equal(kept.size, 300);
  kept.get("a"); // now the newest: b goes first
  kept.add("d", Buffer.alloc(50, 4));
  assert.deepEqual(["a", "b", "c", "d"].map((k) => kept.get(k) !== undefined), [true, false, true, true]);
  assert.equal(kept.size, 250);
  kept.add("big", Buffer.alloc(201));
  assert.equal(kept.get("big"), undefined, "an entry above the item limit is not kept");
  kept.delete("c");
  kept.delete("c");
  assert.equal(kept.size, 150);
});

test("RecentBytes copies a view into a larger buffer, so the larger one is not kept alive or shared", () => {
  const block = Buffer.alloc(1000, 7);
  const kept = new RecentBytes(1000, 1000);
  kept.add("view", block.subarray(10, 20));
  block.fill(0);
  assert.deepEqual(kept.get("view"), Buffer.alloc(10, 7));
  assert.equal(kept.get("view")!.buffer.byteLength, 10);
  const own = Buffer.from(new ArrayBuffer(16));
  kept.add("own", own);
  assert.equal(kept.get("own")!.buffer, own.buffer, "a buffer that owns its memory is kept as is");
});
