// The compact file table and its direct record reader must agree with `decodeSlot`, the
// reference decoder: same slot for every record they accept, and nothing accepted that
// `decodeSlot` rejects (records come from untrusted peers).
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

test(`the direct record reader gives decodeSlot's slot, or declines (${RUNS} runs)`, () => {
  let accepted = 0;
  fc.assert(
    fc.property(slotArb, (slot) => {
      const stored = encodeSlot(slot, WRITER);
      const files = new CompactFiles();
      const i = files.addEncoded(ID, WRITER, stored);
      const reference = decodeSlot(stored, WRITER)!;
      if (i >= 0) {
        accepted++;
        assert.deepEqual(files.slot(i), reference);
        assert.equal(files.newestStamp(i), Math.max(reference.loc.t, reference.t, reference.at.t));
      }
      // Whatever the reader declines, the table still takes from the decoded slot when it fits.
      const j = new CompactFiles().add(ID, reference);
      if (i >= 0) assert.ok(j >= 0, "add() refused a slot that addEncoded() took");
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted > RUNS / 20, `the reader took only ${accepted} of ${RUNS} records`);
});

test("the common record (a created file) takes the direct path and round-trips", () => {
  const slot: Slot = { k: "f", loc: { par: "cd".repeat(16), nm: "file-7.dat", t: 1_763_797_000_000_123, p: WRITER }, head: { v: version(7), sz: 7, b: [], t: 1_763_797_000_000_123, p: WRITER }, at: { m: 0o644, u: 1000, g: 100, mt: 1_763_797_000_000, ct: 1_763_797_000_000, t: 1_763_797_000_000_123, p: WRITER } };
  const stored = encodeSlot(slot, WRITER);
  const files = new CompactFiles();
  const i = files.addEncoded(ID, WRITER, stored);
  assert.ok(i >= 0);
  assert.deepEqual(files.slot(i), decodeSlot(stored, WRITER));
  assert.deepEqual(files.entry(i, "file-7.dat", "/x/file-7.dat"), {
    inode: ID, name: "file-7.dat", path: "/x/file-7.dat", kind: "file", size: 7, version: version(7),
    attr: { mode: 0o644, uid: 1000, gid: 100, mtimeMs: 1_763_797_000_000, ctimeMs: 1_763_797_000_000 },
  });
  // A freed index is reused and carries nothing over.
  files.remove(i);
  assert.equal(files.isDirty(i), false);
  assert.equal(files.addEncoded("cd".repeat(16), WRITER, stored), i);
  assert.equal(files.id(i), "cd".repeat(16));
});

test(`damaged records: the reader never accepts what decodeSlot rejects or reads differently (${RUNS} runs)`, () => {
  const edit = fc.record({ at: fc.nat(), del: fc.nat(3), ins: fc.array(fc.constantFrom(" ", '"', "\\", ",", ".", "-", "e", "0", "7", "[", "]", "n", "u", "l", "\u0001"), { maxLength: 3 }).map((cs) => cs.join("")) });
  fc.assert(
    fc.property(slotArb, fc.array(edit, { minLength: 1, maxLength: 3 }), (slot, edits) => {
      let stored = encodeSlot(slot, WRITER);
      for (const e of edits) {
        const at = e.at % (stored.length + 1);
        stored = stored.slice(0, at) + e.ins + stored.slice(at + e.del);
      }
      const files = new CompactFiles();
      const i = files.addEncoded(ID, WRITER, stored);
      if (i >= 0) assert.deepEqual(files.slot(i), decodeSlot(stored, WRITER), `read differently: ${stored}`);
    }),
    { numRuns: RUNS * 3 },
  );
});
