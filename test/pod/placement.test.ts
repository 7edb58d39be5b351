import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Placement, placeReplicas, podWeight, type WeightedPod } from "../../src/pod/placement.js";

// Keys for the proportion test; CI keeps the default, a deeper run can raise it.
const PROPORTION_KEYS = Number(process.env.WORMHOLE_PLACEMENT_KEYS ?? 100_000);

const hexDigit = fc.constantFrom(..."0123456789abcdef");
const hex = (length: number, maxLength = length) => fc.string({ unit: hexDigit, minLength: length, maxLength });
const podId = hex(8, 16);
const pods = fc.uniqueArray(fc.record({ id: podId, weight: fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 1000, noNaN: true })) }), {
  minLength: 0,
  maxLength: 12,
  selector: (p) => p.id,
});
const inode = hex(32);

test("placement is deterministic and independent of the order pods are listed in", () => {
  fc.assert(
    fc.property(inode, pods, fc.integer({ min: 0, max: 6 }), (ino, ps, n) => {
      const a = placeReplicas(ino, ps, n);
      const b = placeReplicas(ino, [...ps].reverse(), n);
      assert.deepEqual(a, b);
      assert.deepEqual(new Placement(ps).place(ino, n), a);
    }),
  );
});

test("placement returns exactly min(n, eligible) distinct pods and never a weight-0 pod", () => {
  fc.assert(
    fc.property(inode, pods, fc.integer({ min: 0, max: 15 }), (ino, ps, n) => {
      const chosen = placeReplicas(ino, ps, n);
      const eligible = ps.filter((p) => p.weight > 0);
      assert.equal(chosen.length, Math.min(n, eligible.length));
      assert.equal(new Set(chosen).size, chosen.length);
      for (const id of chosen) assert.ok(eligible.some((p) => p.id === id), `${id} has weight 0 or is unknown`);
    }),
  );
});

test("a joining pod only takes keys onto itself; the others keep their order", () => {
  fc.assert(
    fc.property(fc.array(inode, { minLength: 1, maxLength: 20 }), pods, podId, fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.integer({ min: 1, max: 5 }), (inodes, ps, newId, newWeight, n) => {
      fc.pre(!ps.some((p) => p.id === newId));
      const before = new Placement(ps);
      const after = new Placement([...ps, { id: newId, weight: newWeight }]);
      for (const ino of inodes) {
        const old = before.place(ino, n);
        const now = after.place(ino, n);
        const gained = now.filter((id) => !old.includes(id));
        assert.ok(gained.every((id) => id === newId), `keys moved onto ${gained} which did not join`);
        // The survivors keep their relative order (the primary only changes to the newcomer).
        assert.deepEqual(now.filter((id) => id !== newId), old.slice(0, now.filter((id) => id !== newId).length));
      }
    }),
  );
});

test("a leaving pod only gives away its own keys", () => {
  fc.assert(
    fc.property(fc.array(inode, { minLength: 1, maxLength: 20 }), pods, fc.nat(), fc.integer({ min: 1, max: 5 }), (inodes, ps, which, n) => {
      fc.pre(ps.length > 0);
      const leaving = ps[which % ps.length].id;
      const before = new Placement(ps);
      const after = new Placement(ps.filter((p) => p.id !== leaving));
      for (const ino of inodes) {
        const old = before.place(ino, n).filter((id) => id !== leaving);
        const now = after.place(ino, n);
        assert.deepEqual(now.slice(0, old.length), old);
      }
    }),
  );
});

test("lowering one pod's weight only moves keys off that pod", () => {
  fc.assert(
    fc.property(fc.array(inode, { minLength: 1, maxLength: 20 }), pods, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 5 }), (inodes, ps, which, factor, n) => {
      fc.pre(ps.length > 0);
      const lowered = ps[which % ps.length].id;
      const before = new Placement(ps);
      const after = new Placement(ps.map((p) => (p.id === lowered ? { ...p, weight: p.weight * factor } : p)));
      for (const ino of inodes) {
        const old = before.place(ino, n);
        const gained = after.place(ino, n).filter((id) => !old.includes(id));
        // Only the slot the lowered pod gave up can change hands.
        assert.ok(gained.length === 0 || (old.includes(lowered) && gained.length === 1), `${gained} gained keys`);
      }
    }),
  );
});

test(`first-place shares follow the weights within 1.5 points over ${PROPORTION_KEYS} keys`, () => {
  const weighted: WeightedPod[] = [
    { id: "pod-a", weight: 1 },
    { id: "pod-b", weight: 2 },
    { id: "pod-c", weight: 3 },
    { id: "pod-d", weight: 4 },
    { id: "pod-e", weight: 10 },
  ];
  const total = weighted.reduce((s, p) => s + p.weight, 0);
  const placement = new Placement(weighted);
  const wins = new Map<string, number>();
  for (let i = 0; i < PROPORTION_KEYS; i++) {
    const [first] = placement.place(`inode-${i.toString(16).padStart(32, "0")}`, 3);
    wins.set(first, (wins.get(first) ?? 0) + 1);
  }
  for (const pod of weighted) {
    const share = (wins.get(pod.id) ?? 0) / PROPORTION_KEYS;
    assert.ok(Math.abs(share - pod.weight / total) < 0.015, `${pod.id}: share ${share.toFixed(4)} vs weight share ${(pod.weight / total).toFixed(4)}`);
  }
});

test("equal pods get equal replica loads with n = 3 of 6", () => {
  const equal = Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, weight: 5 }));
  const placement = new Placement(equal);
  const load = new Map<string, number>();
  const keys = Math.min(PROPORTION_KEYS, 30_000);
  for (let i = 0; i < keys; i++) for (const id of placement.place(`k${i}`, 3)) load.set(id, (load.get(id) ?? 0) + 1);
  for (const pod of equal) {
    const share = (load.get(pod.id) ?? 0) / (keys * 3);
    assert.ok(Math.abs(share - 1 / 6) < 0.01, `${pod.id}: ${share}`);
  }
});

test("bad input is rejected with a clear error", () => {
  assert.throws(() => placeReplicas("x", [{ id: "a", weight: -1 }], 1), /pod a: weight must be a finite number >= 0/);
  assert.throws(() => placeReplicas("x", [{ id: "a", weight: Number.NaN }], 1), /weight must be a finite number/);
  assert.throws(() => placeReplicas("x", [{ id: "a", weight: 1 }, { id: "a", weight: 2 }], 1), /listed twice/);
  assert.throws(() => placeReplicas("x", [{ id: "a", weight: 1 }], 1.5), /replica count must be an integer/);
  assert.throws(() => placeReplicas("x", [{ id: "", weight: 1 }], 1), /non-empty string id/);
});

test("podWeight: capacity is the share, affinities multiply, 0 means never, full pods fade out", () => {
  const tib = 2 ** 40;
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: 0 }), 1024);
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: tib / 2 }), 1024, "free space below the knee does not change the share");
  assert.equal(podWeight({ capacityBytes: 2 * tib, usedBytes: 0 }), 2048);
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: 0, affinity: { replicas: 0.5 } }), 512);
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: 0, affinity: { hot_files: 3 } }, "hot"), 3072);
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: 0, affinity: { hot_files: 3 } }, "cold"), 1024);
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: 0, affinity: { cold_files: 0 } }, "cold"), 0);
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: 0, affinity: { replicas: 0 } }, "new"), 0);
  assert.ok(Math.abs(podWeight({ capacityBytes: tib, usedBytes: 0.95 * tib }) - 512) < 1e-6, "halfway between the knee and full = half weight");
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: tib }), 0);
  assert.equal(podWeight({ capacityBytes: tib, usedBytes: 2 * tib }), 0, "over-full counts as full");
  assert.equal(podWeight({ capacityBytes: 0, usedBytes: 0 }), 0);
  assert.throws(() => podWeight({ capacityBytes: tib, usedBytes: 0, affinity: { new_files: -1 } }), /affinity new_files must be a finite number >= 0/);
  assert.throws(() => podWeight({ capacityBytes: -1, usedBytes: 0 }), /capacityBytes/);
});
