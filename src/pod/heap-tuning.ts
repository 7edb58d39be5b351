// V8 heap sizing for a long-running pod.
//
// V8 counts the backing stores of Buffers in its "global" memory limit, which it sets to the
// live heap times a growing factor picked after each full GC. A pod's live heap is small
// (tens of MB: the namespace) while its in-flight chunk Buffers are large (a pull window of
// chunks, socket buffers), and after an idle spell V8 picks its smallest factor (1.1). So
// replicating 100 MiB ran 20–40 full mark-compacts per pod, one every ~150 ms, each marking
// the whole namespace on the two cores the pod shares (bench/offline.mjs, measured
// 2026-12-04: 21–39 full GCs, 9 with the factor below; six alternated pairs: converge
// 5,464 → 4,949 ms and pod CPU 9.16 → 8.16 s on average, better in every pair).
// A fixed factor of 3 lets the heap grow to three times its live size before the next full
// GC: a few MB more resident for a small pod, far fewer pauses while data moves.
// The flag is read whenever V8 computes a limit, so setting it at start-up takes effect.
//
// That headroom is twice the live heap, and a fresh pod's heap is ~10 MB. Writing through the
// mount keeps a few 16 MiB blocks in flight, and each one that comes back from a hashing
// worker counts as newly allocated external memory (V8's OldGenerationSpaceAvailable): with
// 20 MB of headroom, writing 1 GiB started 43 full mark-compacts of the main heap. V8's
// own remedy, a larger initial old generation (--initial-old-space-size), can only be given
// on node's command line, before the heap exists, and a pod is often started as
// `node .../main.js start`. So the pod keeps a ballast instead: 20 MB of doubles on the V8
// heap, one object with no pointers in it, so marking it costs nothing, and the headroom
// becomes 60 MB. Measured 2026-12-07 (1 GiB written through the mount, one pod): 43 → 14
// full GCs, pod CPU 4.9 / 4.8 → 4.4 / 4.2 s per GiB (8 MB: 29 GCs; 40 MB: 14, as with 20).
import { setFlagsFromString } from "node:v8";

const HEAP_GROWING_PERCENT = 200;
const BALLAST_DOUBLES = 2_500_000;

/** Held for the life of the process: only its size matters (see above). */
let ballast: number[] | undefined;

export function tuneHeapForPod(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  ballast ??= new Array<number>(BALLAST_DOUBLES).fill(0.5);
}
