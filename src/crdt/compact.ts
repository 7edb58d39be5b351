// The view's compact storage for the common inode: a file with one slot (no concurrent
// writer, no conflict) that was never renamed. Almost every inode of a large namespace is
// one. Its fields live in columns (typed arrays for numbers, plain arrays for strings)
// indexed by a small integer, instead of a decoded slot object, an inode record and a
// slots array per inode: ~110 B of columns instead of ~380 B of objects and boxed
// numbers, and nothing for the garbage collector to trace or copy. The view rebuilds the
// usual objects on demand (`slot`), short-lived, when a lookup or an operation reads one.
// See docs/namespace.md "The view".
import { slotFromRaw, type RawSlot, type StoredSlot } from "./slots.js";
import type { Entry, InodeId, PodId, VersionId } from "./types.js";

// Float64 columns (stride NUMS): stamps, size, times.
const LOC_T = 0;
const HEAD_T = 1;
const AT_T = 2;
const SIZE = 3;
const MTIME = 4;
const CTIME = 5;
const NUMS = 6;
// Uint16 pod-index columns (stride PODS).
const WRITER = 0;
const LOC_P = 1;
const HEAD_P = 2;
const AT_P = 3;
const PODS = 4;
// Uint32 attribute columns (stride INTS).
const MODE = 0;
const UID = 1;
const GID = 2;
const INTS = 3;

const USED = 1;
const DIRTY = 2;
const INDEXED = 4;

const MAX_PODS = 0xffff;
const UINT32_LIMIT = 2 ** 32;

function isUint32(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x < UINT32_LIMIT && !Object.is(x, -0);
}

export class CompactFiles {
  private cap = 0;
  private nums = new Float64Array(0);
  private pods = new Uint16Array(0);
  private ints = new Uint32Array(0);
  private flags = new Uint8Array(0);
  private readonly ids: InodeId[] = [];
  private readonly pars: InodeId[] = [];
  private readonly names: string[] = [];
  private readonly versions: (VersionId | null)[] = [];
  private readonly bases: string[][] = [];
  private readonly free: number[] = [];
  private readonly podIndex = new Map<PodId, number>();
  private readonly podList: PodId[] = [];

  /**
   * Stores `slot` as the only slot of file `id` and returns its index (queued as dirty),
   * or -1 if it does not fit the compact form (the view then keeps objects as before).
   */
  add(id: InodeId, slot: StoredSlot): number {
    const { loc, at } = slot;
    if (slot.k !== "f" || slot.s !== undefined || loc.pp !== undefined || loc.pn !== undefined) return -1;
    if (!isUint32(at.m) || !isUint32(at.u) || !isUint32(at.g)) return -1;
    const w = this.pod(slot.w);
    const lp = this.pod(loc.p);
    const hp = this.pod(slot.p);
    const ap = this.pod(at.p);
    if (w < 0 || lp < 0 || hp < 0 || ap < 0) return -1;
    const i = this.free.pop() ?? this.grow();
    const n = i * NUMS;
    this.nums[n + LOC_T] = loc.t;
    this.nums[n + HEAD_T] = slot.t;
    this.nums[n + AT_T] = at.t;
    this.nums[n + SIZE] = slot.sz;
    this.nums[n + MTIME] = at.mt;
    this.nums[n + CTIME] = at.ct;
    const p = i * PODS;
    this.pods[p + WRITER] = w;
    this.pods[p + LOC_P] = lp;
    this.pods[p + HEAD_P] = hp;
    this.pods[p + AT_P] = ap;
    const a = i * INTS;
    this.ints[a + MODE] = at.m;
    this.ints[a + UID] = at.u;
    this.ints[a + GID] = at.g;
    this.ids[i] = id;
    this.pars[i] = loc.par;
    this.names[i] = loc.nm;
    this.versions[i] = slot.v;
    this.bases[i] = slot.b;
    this.flags[i] = USED | DIRTY;
    return i;
  }

  /** Forgets entry `i` (its index is reused); a stale copy of `i` in a dirty list is then skipped. */
  remove(i: number): void {
    this.flags[i] = 0;
    this.ids[i] = this.pars[i] = this.names[i] = "";
    this.versions[i] = null;
    this.bases[i] = NO_STRINGS;
    this.free.push(i);
  }

  /** Clears the dirty mark; false if `i` was not dirty (already flushed, or removed). */
  takeDirty(i: number): boolean {
    if ((this.flags[i] & DIRTY) === 0) return false;
    this.flags[i] &= ~DIRTY;
    return true;
  }

  isDirty(i: number): boolean {
    return (this.flags[i] & DIRTY) !== 0;
  }

  /** Indexed in its directory (shown): set by the view when it indexes the file. */
  isIndexed(i: number): boolean {
    return (this.flags[i] & INDEXED) !== 0;
  }

  setIndexed(i: number, on: boolean): void {
    this.flags[i] = on ? this.flags[i] | INDEXED : this.flags[i] & ~INDEXED;
  }

  id(i: number): InodeId {
    return this.ids[i];
  }

  par(i: number): InodeId {
    return this.pars[i];
  }

  name(i: number): string {
    return this.names[i];
  }

  /** The version, or null for a delete. */
  version(i: number): VersionId | null {
    return this.versions[i];
  }

  size(i: number): number {
    return this.nums[i * NUMS + SIZE];
  }

  /** What `lookup`/`readdir` return for file `i` shown as `name` (no conflict: it is alone under its name). */
  entry(i: number, name: string, path: string): Entry {
    const n = i * NUMS;
    const a = i * INTS;
    return {
      inode: this.ids[i],
      name,
      path,
      kind: "file",
      size: this.nums[n + SIZE],
      version: this.versions[i] ?? "",
      attr: { mode: this.ints[a + MODE], uid: this.ints[a + UID], gid: this.ints[a + GID], mtimeMs: this.nums[n + MTIME], ctimeMs: this.nums[n + CTIME] },
    };
  }

  /** The slot as `decodeSlot` would have returned it (a new object on every call). */
  slot(i: number): StoredSlot {
    const n = i * NUMS;
    const p = i * PODS;
    const a = i * INTS;
    const writer = this.podList[this.pods[p + WRITER]];
    const own = (x: number) => (this.podList[x] === writer ? null : this.podList[x]);
    const locT = this.nums[n + LOC_T];
    const locP = this.pods[p + LOC_P];
    const headSame = this.nums[n + HEAD_T] === locT && this.pods[p + HEAD_P] === locP;
    const atSame = this.nums[n + AT_T] === locT && this.pods[p + AT_P] === locP;
    const mt = this.nums[n + MTIME];
    const ct = this.nums[n + CTIME];
    const raw: RawSlot = [
      0, null, this.pars[i], this.names[i], null, null, locT, own(locP),
      this.versions[i], this.nums[n + SIZE], this.bases[i], headSame ? 0 : this.nums[n + HEAD_T], headSame ? null : own(this.pods[p + HEAD_P]),
      this.ints[a + MODE], this.ints[a + UID], this.ints[a + GID], mt, Object.is(ct, mt) ? null : ct, atSame ? 0 : this.nums[n + AT_T], atSame ? null : own(this.pods[p + AT_P]),
    ];
    return slotFromRaw(raw, writer);
  }

  /** Pods are few (ids are interned by decodeSlot); up to 65,536 fit the Uint16 columns. */
  private pod(p: PodId): number {
    const had = this.podIndex.get(p);
    if (had !== undefined) return had;
    if (this.podList.length > MAX_PODS) return -1;
    this.podIndex.set(p, this.podList.length);
    this.podList.push(p);
    return this.podList.length - 1;
  }

  /** A fresh index at the end, doubling the columns when full. */
  private grow(): number {
    const i = this.ids.length;
    if (i === this.cap) {
      this.cap = Math.max(1024, this.cap * 2);
      this.nums = resized(this.nums, new Float64Array(this.cap * NUMS));
      this.pods = resized(this.pods, new Uint16Array(this.cap * PODS));
      this.ints = resized(this.ints, new Uint32Array(this.cap * INTS));
      this.flags = resized(this.flags, new Uint8Array(this.cap));
    }
    this.ids.push("");
    this.pars.push("");
    this.names.push("");
    this.versions.push(null);
    this.bases.push(NO_STRINGS);
    return i;
  }
}

const NO_STRINGS: string[] = [];

function resized<T extends Float64Array | Uint16Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
