// The view's compact file table must give back exactly the slot `decodeSlot` gave it, for
// every record it takes, and take the common ones (records come from untrusted peers, so
// the arbitrary slots include what only a peer would write).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CompactFiles } from "../../src/crdt/compact.js";
import { decodeSlot, encodeSlot, type Slot } from "../../src/crdt/slots.js";
import { podId, version } from "./helpers.js";
import { RUNS } from "./property-model.js";

const WRITER = podId(1);
const ID = "ab".repeat(16);
const pods = fc.constantFrom(podId(1), podId(2), podId(3));
const stamp = fc.oneof(fc.integer({ min: 1, max: 2 ** 53 - 1 }), fc.constant(1_763_797_000_000_000));
const name = fc.oneof(fc.constantFrom("file-1.dat", "a\"b", "back\\slash", "tab\there", "ünï", "x".repeat(30)), fc.string({ maxLength: 20 }));
/** Mostly what real records hold (non-negative integers), sometimes what only a peer would write. */
const num = fc.oneof(
  { arbitrary: fc.nat(), weight: 12 },
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 2 ** 32, 2 ** 53, 1e21),
);

/** Slots of every shape a peer could write, plain files most of the time. */
const slotArb: fc.Arbitrary<Slot> = fc
  .record({
    kind: fc.constantFrom<Slot["k"][]>("f", "f", "f", "d", "l"),
    par: fc.constantFrom("cd".repeat(16), "ef".repeat(16)),
    nm: name,
    prev: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, fc.tuple(fc.constant("12".repeat(16)), name)),
    locT: stamp,
    locP: pods,
    v: fc.option(fc.nat(50).map(version), { freq: 5 }),
    sz: num,
    b: fc.array(fc.nat(50).map(version), { maxLength: 2 }),
    head: fc.option(fc.tuple(stamp, pods), { freq: 2 }),
    m: num,
    u: num,
    g: num,
    mt: num,
    ct: fc.option(num, { freq: 2 }),
    attr: fc.option(fc.tuple(stamp, pods), { freq: 2 }),
  })
  .map((r) => {
    const loc = { par: r.par, nm: r.nm, t: r.locT, p: r.locP, ...(r.prev ? { pp: r.prev[0], pn: r.prev[1] } : {}) };
    const head = { v: r.v, sz: r.sz, b: r.b, t: r.head?.[0] ?? r.locT, p: r.head?.[1] ?? r.locP };
    const at = { m: r.m, u: r.u, g: r.g, mt: r.mt, ct: r.ct ?? r.mt, t: r.attr?.[0] ?? r.locT, p: r.attr?.[1] ?? r.locP };
    return r.kind === "l" ? { k: r.kind, s: "target", loc, head, at } : { k: r.kind, loc, head, at };
  });

test(`the table gives back decodeSlot's slot for every record it takes (${RUNS} runs)`, () => {
  let taken = 0;
  fc.assert(
    fc.property(slotArb, (slot) => {
      const reference = decodeSlot(encodeSlot(slot, WRITER), WRITER)!;
      const files = new CompactFiles();
      const i = files.add(ID, reference);
      const uint32 = (x: number) => Number.isInteger(x) && x >= 0 && x < 2 ** 32 && !Object.is(x, -0);
      const plainFile = reference.k === "f" && reference.loc.pp === undefined && [reference.at.m, reference.at.u, reference.at.g].every(uint32);
      assert.equal(i >= 0, plainFile, "a plain file must be taken, anything else left to records");
      if (i < 0) return;
      taken++;
      assert.deepEqual(files.slot(i), reference);
      assert.equal(files.version(i), reference.v);
    }),
    { numRuns: RUNS },
  );
  assert.ok(taken > RUNS / 20, `the table took only ${taken} of ${RUNS} records`);
});

test("a created file is taken, gives its entry, and a freed row is reused", () => {
  const slot: Slot = { k: "f", loc: { par: "cd".repeat(16), nm: "file-7.dat", t: 1_763_797_000_000_123, p: WRITER }, head: { v: version(7), sz: 7, b: [], t: 1_763_797_000_000_123, p: WRITER }, at: { m: 0o644, u: 1000, g: 100, mt: 1_763_797_000_000, ct: 1_763_797_000_000, t: 1_763_797_000_000_123, p: WRITER } };
  const stored = encodeSlot(slot, WRITER);
  const files = new CompactFiles();
  const i = files.add(ID, decodeSlot(stored, WRITER)!);
  assert.ok(i >= 0);
  assert.deepEqual(files.slot(i), decodeSlot(stored, WRITER));
  assert.deepEqual(files.entry(i, "file-7.dat", "/x/file-7.dat"), {
    inode: ID, name: "file-7.dat", path: "/x/file-7.dat", kind: "file", size: 7, version: version(7),
    attr: { mode: 0o644, uid: 1000, gid: 100, mtimeMs: 1_763_797_000_000, ctimeMs: 1_763_797_000_000 },
  });
  // A freed index is reused and carries nothing over.
  files.remove(i);
  assert.equal(files.isDirty(i), false);
  assert.equal(files.add("cd".repeat(16), decodeSlot(stored, WRITER)!), i);
  assert.equal(files.id(i), "cd".repeat(16));
});
