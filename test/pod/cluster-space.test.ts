import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterSpace } from "../../src/pod/cluster-space.js";

const GiB = 2 ** 30;

test("the full pods' space divided by the redundancy", () => {
  const pods = [
    { capacityBytes: 100 * GiB, usedBytes: 10 * GiB, freeBytes: 80 * GiB },
    { capacityBytes: 200 * GiB, usedBytes: 20 * GiB, freeBytes: 500 * GiB }, // a storage_limit below its disk
    { capacityBytes: 100 * GiB, usedBytes: 30 * GiB, freeBytes: 10 * GiB }, // a disk full of other data
  ];
  assert.deepEqual(clusterSpace(pods, 2), {
    totalBytes: 200 * GiB,
    usedBytes: 30 * GiB,
    // free space is capped by the limit (180) and by the disk (10): 80 + 180 + 10 = 270, halved
    availableBytes: 135 * GiB,
  });
});

test("fewer pods than the redundancy: each file has one copy per pod", () => {
  const one = [{ capacityBytes: 100 * GiB, usedBytes: 0, freeBytes: 100 * GiB }];
  assert.equal(clusterSpace(one, 3)?.totalBytes, 100 * GiB);
  assert.equal(clusterSpace([...one, ...one], 3)?.totalBytes, 100 * GiB);
});

test("untrusted presence: malformed figures leave that pod out; none known is undefined", () => {
  const good = { capacityBytes: 10 * GiB, usedBytes: GiB, freeBytes: 5 * GiB };
  const bad = [undefined, null, "x", {}, { ...good, usedBytes: -1 }, { ...good, freeBytes: Number.NaN }, { ...good, capacityBytes: Infinity }, { ...good, capacityBytes: 0 }, { ...good, usedBytes: "1" }];
  assert.deepEqual(clusterSpace([...bad, good], 1), { totalBytes: 10 * GiB, usedBytes: GiB, availableBytes: 5 * GiB });
  assert.equal(clusterSpace(bad, 2), undefined);
  assert.equal(clusterSpace([], 2), undefined);
});

test("a pod over its limit counts as full, not as negative space", () => {
  assert.deepEqual(clusterSpace([{ capacityBytes: 10 * GiB, usedBytes: 12 * GiB, freeBytes: 50 * GiB }], 1), { totalBytes: 10 * GiB, usedBytes: 10 * GiB, availableBytes: 0 });
});
