// The record format stored in the shard documents, and the pure functions that resolve
// one inode's slots. See docs/namespace.md "Data model".
//
// Each inode is stored as per-writer slots under key `<inode>/<pod>`: a pod only ever
// sets its own key, so Yjs never has to pick a winner between two concurrent Map.set.
// Values are plain objects (not nested Y.Maps): about 5x less memory and faster to load.
import { compareStamps, type Stamp } from "./hlc.js";
import type { EntryKind, InodeId, PodId, VersionId } from "./types.js";

export type SlotKind = "f" | "d" | "l";

/** Where the inode is. `pp`/`pn` is where it was before its last move (cycle fallback). */
export interface LocGroup extends Stamp {
  par: InodeId;
  nm: string;
  pp?: InodeId;
  pn?: string;
}

/**
 * Content. `v`: a version id for files, "" for a live directory or symlink, null when
 * deleted. `b`: keys of the heads this write replaced, so a descendant never conflicts
 * with its ancestors.
 */
export interface HeadGroup extends Stamp {
  v: VersionId | null;
  sz: number;
  b: string[];
}

export interface AttrGroup extends Stamp {
  m: number;
  u: number;
  g: number;
  mt: number;
  ct: number;
}

export interface Slot {
  k: SlotKind;
  /** Symlink target (immutable, like the kind). */
  s?: string;
  loc: LocGroup;
  head: HeadGroup;
  at: AttrGroup;
}

/**
 * A slot as read back from a shard, with the pod whose key it is stored under. It is its
 * own head (`slot.head === slot`): the head fields live on the slot object, so an inode
 * with one slot uses its `slots` array as its `heads` array too. One object and one array
 * fewer per inode (~80 B/file, and fewer objects for the collector to copy on load).
 */
export interface StoredSlot extends Slot, HeadGroup {
  w: PodId;
}

export const SLOT_KEY_LENGTH = 32 + 1 + 32;

export function slotKey(inode: InodeId, pod: PodId): string {
  return `${inode}/${pod}`;
}

/** Splits `<inode>/<pod>`; undefined for keys that are not ours (ignored, never trusted). */
export function parseSlotKey(key: string): { inode: InodeId; pod: PodId } | undefined {
  if (key.length !== SLOT_KEY_LENGTH || key.charCodeAt(32) !== 47 /* "/" */) return undefined;
  return { inode: key.slice(0, 32), pod: internWriter(key.slice(33)) };
}

const KINDS: Record<SlotKind, EntryKind> = { f: "file", d: "dir", l: "symlink" };
export function entryKind(k: SlotKind): EntryKind {
  return KINDS[k];
}

/**
 * Wire/storage form of a slot: a flat array serialised as one JSON string. Measured: as a
 * nested object, lib0's `writeAny` repeats every key in every record and decoding those
 * strings dominated cold load; as a raw array, lib0 builds it with push() (capacity ~40
 * for 20 items) plus boxed numbers, ~600 B/record. One string is ~250 B, and JSON.parse
 * is native. Stamps written by the slot's own pod omit the pod id (null). A head or attr
 * stamp equal to the loc stamp (one operation wrote them: every create) is written as 0,
 * and a ctime equal to the mtime as null: ~40 fewer characters in a ~250-character record,
 * kept in every replica's memory and store.
 *   [kind, target, par, nm, pp, pn, locT, locP, v, sz, base, headT, headP, m, u, g, mt, ct, atT, atP]
 */
export type RawSlot = [number, string | null, string, string, string | null, string | null, number, string | null, string | null, number, string[], number, string | null, number, number, number, number, number | null, number, string | null];

/** Written in place of a head/attr stamp that equals the loc stamp (real stamps are ≥ 1). */
const SAME_AS_LOC = 0;

/** Far above any real record (a symlink target is at most 4 KiB); bounds untrusted input. */
const MAX_SLOT_CHARS = 64 * 1024;

const KIND_CODES: readonly SlotKind[] = ["f", "d", "l"];

export function encodeSlot(s: Slot, writer: PodId): string {
  const own = (p: PodId) => (p === writer ? null : p);
  const { loc, head, at } = s;
  const headSame = head.t === loc.t && head.p === loc.p;
  const atSame = at.t === loc.t && at.p === loc.p;
  const raw: RawSlot = [
    KIND_CODES.indexOf(s.k), s.s ?? null,
    loc.par, loc.nm, loc.pp ?? null, loc.pn ?? null, loc.t, own(loc.p),
    head.v, head.sz, head.b, headSame ? SAME_AS_LOC : head.t, headSame ? null : own(head.p),
    at.m, at.u, at.g, at.mt, at.ct === at.mt ? null : at.ct, atSame ? SAME_AS_LOC : at.t, atSame ? null : own(at.p),
  ];
  return JSON.stringify(raw);
}

/**
 * Peers are untrusted: a value that is not a well-formed slot decodes to undefined and is
 * ignored as if absent, so a malformed record can hide itself but never crash the view.
 */
export function decodeSlot(stored: unknown, writer: PodId): StoredSlot | undefined {
  if (typeof stored !== "string" || stored.length > MAX_SLOT_CHARS) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(stored);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length !== 20) return undefined;
  const r = raw as RawSlot;
  const k = KIND_CODES[r[0]];
  const strOrNull = (x: unknown) => x === null || typeof x === "string";
  if (k === undefined || !strOrNull(r[1]) || typeof r[2] !== "string" || typeof r[3] !== "string" || !strOrNull(r[4]) || !strOrNull(r[5])) return undefined;
  if (!strOrNull(r[8]) || typeof r[9] !== "number" || !Array.isArray(r[10]) || !r[10].every((b) => typeof b === "string")) return undefined;
  if (typeof r[13] !== "number" || typeof r[14] !== "number" || typeof r[15] !== "number" || typeof r[16] !== "number" || (r[17] !== null && typeof r[17] !== "number")) return undefined;
  if (!Number.isSafeInteger(r[6]) || !Number.isSafeInteger(r[11]) || !Number.isSafeInteger(r[18]) || !strOrNull(r[7]) || !strOrNull(r[12]) || !strOrNull(r[19])) return undefined;
  return slotFromRaw(r, writer, stored);
}

/**
 * Builds the decoded slot from a validated raw record. `stored` is the record string the
 * raw form was parsed from (long fields become slices of it); the compact file table
 * (compact.ts) rebuilds slots without one.
 */
export function slotFromRaw(r: RawSlot, writer: PodId, stored?: string): StoredSlot {
  const k = KIND_CODES[r[0]];
  const par = internParent(r[2]);
  const nm = stored === undefined ? r[3] : shareText(stored, r[3]);
  const v = r[8] === null || stored === undefined ? r[8] : shareText(stored, r[8]);
  const b = r[10].length === 0 ? NO_BASE : r[10];
  const ct = r[17] ?? r[16];
  const t = r[6];
  const p = podOr(r[7], writer);
  const headSame = r[11] === SAME_AS_LOC;
  const atSame = r[18] === SAME_AS_LOC;
  // Decoded groups are never mutated, and the fields of loc, head and attr do not overlap
  // except for the stamp (t, p). So groups stamped by one operation share one object; a
  // create stamps all three alike and its slot is its own loc, head and attr (three
  // objects and two boxed stamps fewer per inode). A slot is always its own head.
  let slot: StoredSlot;
  if (headSame && atSame) {
    const all: StoredSlot & LocGroup & AttrGroup = { w: writer, k, loc: PENDING, head: PENDING, at: PENDING, par, nm, t, p, v, sz: r[9], b, m: r[13], u: r[14], g: r[15], mt: r[16], ct };
    all.loc = all.head = all.at = all;
    slot = all;
  } else {
    let loc: LocGroup;
    let at: AttrGroup;
    if (atSame) {
      const both: LocGroup & AttrGroup = { par, nm, t, p, m: r[13], u: r[14], g: r[15], mt: r[16], ct };
      loc = at = both;
    } else {
      loc = { par, nm, t, p };
      at = { m: r[13], u: r[14], g: r[15], mt: r[16], ct, t: r[18], p: podOr(r[19], writer) };
    }
    const headT = headSame ? t : r[11];
    const headP = headSame ? p : podOr(r[12], writer);
    slot = { w: writer, k, loc, head: PENDING, at, v, sz: r[9], b, t: headT, p: headP };
    slot.head = slot;
  }
  if (r[4] !== null && r[5] !== null) {
    slot.loc.pp = r[4];
    slot.loc.pn = r[5];
  }
  if (r[1] !== null) slot.s = r[1];
  return slot;
}

/** Placeholder for the group pointers of a slot under construction (they point back at it). */
const PENDING: LocGroup & HeadGroup & AttrGroup = Object.freeze({ par: "", nm: "", v: null, sz: 0, b: [], t: 0, p: "", m: 0, u: 0, g: 0, mt: 0, ct: 0 });

/** Most heads replace nothing: one shared empty base instead of an array per record (32 B). */
const NO_BASE = Object.freeze([]) as unknown as string[];

/**
 * A long field (a version is 64 characters, 80 B as its own string) as a slice of the
 * record string Yjs keeps anyway (a sliced string is 32 B): ~48 B per record at 100k+
 * inodes. Same characters either way; a field JSON had to escape is not found verbatim
 * and stays the parsed copy.
 */
function shareText(stored: string, text: string): string {
  if (text.length < MIN_SHARED_TEXT) return text;
  const at = stored.indexOf(text);
  return at < 0 ? text : stored.slice(at, at + text.length);
}
/** Below this a V8 string is no larger than a slice of another one. */
const MIN_SHARED_TEXT = 24;

/**
 * Pod ids repeat in every record, parent ids in every record of a directory: one shared
 * string each instead of one per record saves ~50 bytes per field at 100k+ inodes. The
 * table grows with distinct pods and directories seen (a small fraction of all inodes).
 */
const podTable = new Map<string, string>();
function intern(p: string): string {
  const had = podTable.get(p);
  if (had !== undefined) return had;
  // Kept as a string of its own: `p` may be a slice of a Yjs key or record, which it would
  // keep alive, and which every comparison with the interned id would have to read.
  const own = JSON.parse(JSON.stringify(p)) as string;
  podTable.set(own, own);
  return own;
}

/**
 * `intern` with a one-entry memo in front: a cold load meets the records of one writer and
 * one directory together, and comparing with the last hit is cheaper than hashing a fresh
 * 32-character string (measured: intern was 2-3% of a 1M-file cold load). One per field
 * so that pods and parents do not evict each other.
 */
function lastHitInterner(): (s: string) => string {
  let last = "";
  return (s) => (s === last ? last : (last = intern(s)));
}
const internWriter = lastHitInterner();
const internParent = lastHitInterner();

function podOr(p: string | null, writer: PodId): PodId {
  return p === null ? writer : intern(p);
}

/** Identity of a head: its version (same bytes = same head), or a unique token for deletes. */
export function headKey(h: HeadGroup): string {
  return h.v === null ? `x${h.t.toString(36)}.${h.p}` : h.v;
}

export function newestBy<T extends Stamp>(items: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const it of items) if (best === undefined || compareStamps(it, best) > 0) best = it;
  return best;
}

/**
 * The live heads of an inode: every distinct head no other head lists in its base,
 * newest first. Two or more live heads are a conflict. If bases form a loop (content
 * reverted concurrently) nothing survives the rule, and the newest head is kept.
 */
export function liveHeads(slots: readonly Slot[]): HeadGroup[] {
  if (slots.length === 1) return [slots[0].head];
  const byKey = new Map<string, HeadGroup>();
  for (const s of slots) {
    const k = headKey(s.head);
    const had = byKey.get(k);
    if (had === undefined || compareStamps(s.head, had) > 0) byKey.set(k, s.head);
  }
  if (byKey.size === 1) return [...byKey.values()];
  const superseded = new Set<string>();
  for (const [k, h] of byKey) for (const b of h.b) if (b !== k) superseded.add(b);
  const live: HeadGroup[] = [];
  for (const [k, h] of byKey) if (!superseded.has(k)) live.push(h);
  if (live.length === 0) live.push(newestBy(byKey.values())!);
  return live.sort((a, b) => compareStamps(b, a));
}

/** The head the file system shows: the newest one that is not a delete. */
export function shownHead(heads: readonly HeadGroup[]): HeadGroup | undefined {
  for (const h of heads) if (h.v !== null) return h;
  return undefined;
}
