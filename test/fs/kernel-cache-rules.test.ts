// KernelCache's rules without a mount: which node ids a change sweeps, and which replies wait
// for the sweep. (kernel-cache.test.ts checks the same end to end, through two pods' mounts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { KernelCache } from "../../src/fs/kernel-cache.js";

function cacheWithPort() {
  const sweeps: Array<{ nodeIds: number[]; dropPages: number[]; epoch: number }> = [];
  const cache = new KernelCache({ sweep: (nodeIds, _mayRetry, dropPages, epoch) => sweeps.push({ nodeIds, dropPages, epoch }) }, 1);
  return { cache, sweeps };
}

test("a change sweeps the attributes the kernel was given, and earlier replies wait for the sweep", () => {
  const { cache, sweeps } = cacheWithPort();
  const sent: string[] = [];
  cache.reply(cache.arrived(5), "attr", 5, (_entry, attr) => sent.push(`attr ${attr}`));
  const epoch = cache.arrived(6);
  cache.changed(new Set(["x", "y"]));
  assert.deepEqual(sweeps.map((s) => [s.nodeIds, s.dropPages]), [[[5], []]]);
  cache.reply(epoch, "attr", 6, (_entry, attr) => sent.push(`held attr ${attr}`));
  assert.deepEqual(sent, ["attr 1"], "a reply to a request from before the change waits");
  cache.sweptUpTo(sweeps[0]!.epoch);
  assert.deepEqual(sent, ["attr 1", "held attr 0"], "... and then carries no timeout");
});

test("content written past the page cache sweeps that file's pages, and the write's reply waits", () => {
  const { cache, sweeps } = cacheWithPort();
  const sent: string[] = [];
  const epoch = cache.arrived(9);
  cache.contentChanged(9, 4096);
  assert.deepEqual(sweeps.map((s) => [s.nodeIds, s.dropPages]), [[[], [9, 4096]]], "swept although no attributes were cached");
  cache.reply(epoch, "none", 0, () => sent.push("write"));
  assert.deepEqual(sent, []);
  cache.sweptUpTo(sweeps[0]!.epoch);
  assert.deepEqual(sent, ["write"]);
});
