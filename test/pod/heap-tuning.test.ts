// The pod's heap tuning (src/pod/heap-tuning.ts): the ballast that gives V8's full-GC limit
// room for the blocks a write keeps in flight is on the V8 heap, about 20 MB, and made once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { getHeapStatistics } from "node:v8";
import { tuneHeapForPod } from "../../src/pod/heap-tuning.js";

const MB = 1024 * 1024;

test("tuneHeapForPod keeps a ballast of about 20 MB on the V8 heap, once", () => {
  const before = getHeapStatistics().used_heap_size;
  tuneHeapForPod();
  const afterFirst = getHeapStatistics().used_heap_size;
  tuneHeapForPod();
  const afterSecond = getHeapStatistics().used_heap_size;
  assert.ok(afterFirst - before >= 19 * MB, `the heap grew by ${((afterFirst - before) / MB).toFixed(1)} MB`);
  assert.ok(afterSecond - afterFirst < 2 * MB, `a second call grew it by ${((afterSecond - afterFirst) / MB).toFixed(1)} MB more`);
});
