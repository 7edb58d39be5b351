// The resolved view: a pure function of the slots, maintained incrementally. Slot changes
// are fed in (`setSlot`), then `flush()` re-resolves only the touched inodes and the
// directories whose presence they change. A view built from scratch is the same class
// fed every slot, so both share every resolution function.
import { CompactFiles } from "./compact.js";
import { breakCycles, type Override } from "./cycles.js";
import { stampTimeMs } from "./hlc.js";
import { copyOriginal, resolveName, type InodeState, type NameResolution, type Side } from "./names.js";
import { entryKind, liveHeads, newestBy, type AttrGroup, type HeadGroup, type StoredSlot } from "./slots.js";
import {
  LOST_FOUND_INODE,
  LOST_FOUND_NAME,
  ROOT_INODE,
  type Attr,
  type Conflict,
  type ConflictPolicy,
  type ConflictSide,
  type Entry,
  type InodeId,
  type PodId,
  type VersionId,
} from "./types.js";

interface InodeRec extends InodeState {
  /** Every live slot, sorted by writer pod (a short array: usually one). */
  slots: StoredSlot[];
  attr?: AttrGroup;
  /** Shown in its directory: alive, or a directory holding something shown (revived). */
  present: boolean;
  /** Where it is indexed while present (its effective location). */
  idxPar?: InodeId;
  idxName?: string;
  /** Queued in `dirty` (a flag, not a Set: hashing a million ids per cold load is slow). */
  dirty: boolean;
}

/**
 * How the view holds an inode: a record object, or the index of a plain file in the
 * compact table (`CompactFiles`: one slot, never renamed; most inodes of a large
 * namespace). A compact file becomes a record when any of its slots changes.
 */
type Handle = InodeRec | number;

/** A content version some live file uses (see View.liveVersions). */
export interface LiveVersion {
  inode: InodeId;
  version: VersionId;
  size: number;
}

/** The present children of one directory inode, by name. */
interface DirIndex {
  count: number;
  /** One inode, or several when names collide (or directories merge). */
  byName: Map<string, Handle | Handle[]>;
}

/** What a path resolves to, before it is turned into an `Entry`. */
export interface Located {
  path: string;
  name: string;
  /** The directory group holding it (several inodes when directories merged). */
  parentDirs: readonly InodeState[];
  resolution: NameResolution;
  /** Set when the path names a keep-both conflict copy. */
  copy?: NameResolution["copies"][number];
}

const NO_SLOTS: StoredSlot[] = [];
const NO_HEADS: HeadGroup[] = [];
const DEFAULT_DIR_ATTR: Attr = { mode: 0o755, uid: 0, gid: 0, mtimeMs: 0, ctimeMs: 0 };
const MAX_DEPTH = 4096;

export class View {
  private readonly recs = new Map<InodeId, Handle>();
  private readonly files = new CompactFiles();
  private readonly children = new Map<InodeId, DirIndex>();
  private overrides = new Map<InodeId, Override>();
  private dirty: Handle[] = [];
  private readonly flipped = new Set<InodeId>();
  /** Directory buckets holding two or more present inodes (name conflicts or merges). */
  private readonly crowded = new Set<string>();
  /** Inodes with several live heads, and dead directories kept alive by their content. */
  private readonly conflicted = new Set<InodeId>();
  private readonly root: InodeRec;

  constructor(private readonly policyFor: (path: string) => ConflictPolicy) {
    this.root = { ...this.newRec(ROOT_INODE), kind: "d", alive: true, present: true };
    this.recs.set(ROOT_INODE, this.root);
    const lostFound = this.newRec(LOST_FOUND_INODE);
    this.recs.set(LOST_FOUND_INODE, lostFound);
    this.resolveSlots(lostFound);
  }

  // ---- feeding -------------------------------------------------------------------------

  setSlot(inode: InodeId, pod: PodId, slot: StoredSlot | undefined): void {
    const had = this.recs.get(inode);
    let rec: InodeRec;
    if (had === undefined) {
      if (slot === undefined) return;
      const compact = this.files.add(inode, slot);
      if (compact >= 0) {
        this.recs.set(inode, compact);
        this.dirty.push(compact);
        return;
      }
      rec = this.newRec(inode);
      this.recs.set(inode, rec);
    } else rec = typeof had === "number" ? this.promote(had) : had;
    // Always a new array, never changed in place: `heads` may be this very array (see
    // resolveSlots) and must keep showing the resolved state until the next flush. A fresh
    // literal, not push(): push on an empty array reserves room for 17 elements, ~130
    // wasted bytes per inode at 100k+ inodes.
    const at = rec.slots.findIndex((s) => s.w === pod);
    if (slot === undefined) {
      if (at >= 0) rec.slots = rec.slots.filter((_, i) => i !== at);
    } else if (at >= 0) rec.slots = rec.slots.map((s, i) => (i === at ? slot : s));
    else rec.slots = rec.slots.length === 0 ? [slot] : [...rec.slots, slot].sort((a, b) => (a.w < b.w ? -1 : 1));
    if (!rec.dirty) {
      rec.dirty = true;
      this.dirty.push(rec);
    }
  }

  get pending(): boolean {
    return this.dirty.length > 0;
  }

  /**
   * A compact file whose slots change becomes a record: same state, same place in its
   * directory's index, still queued if it was. Its compact index is freed.
   */
  private promote(i: number): InodeRec {
    const rec = this.materialise(i);
    this.recs.set(rec.id, rec);
    if (rec.idxPar !== undefined) this.replaceIndexed(rec.idxPar, rec.idxName!, i, rec);
    if (rec.dirty) this.dirty.push(rec);
    this.files.remove(i);
    return rec;
  }

  /**
   * A resolved, indexed record that is a plain file again (one slot: e.g. a file written
   * after it was created) goes back to the compact table, in place in its directory's index.
   * Files are never overridden by cycle breaking, so a shown one is indexed where its slot says.
   */
  private demote(rec: InodeRec): void {
    const i = this.files.add(rec.id, rec.slots[0]);
    if (i < 0) return;
    this.files.takeDirty(i);
    if (rec.idxPar !== undefined) {
      this.replaceIndexed(rec.idxPar, rec.idxName!, rec, i);
      this.files.setIndexed(i, true);
    }
    this.recs.set(rec.id, i);
  }

  /** Swaps one handle for another where it is indexed (the same inode, held another way). */
  private replaceIndexed(par: InodeId, name: string, from: Handle, to: Handle): void {
    const dir = this.children.get(par)!;
    const had = dir.byName.get(name)!;
    dir.byName.set(name, Array.isArray(had) ? had.map((h) => (h === from ? to : h)) : to);
  }

  /** The record a compact file stands for (a new object: changing it changes nothing). */
  private materialise(i: number): InodeRec {
    const slot = this.files.slot(i);
    const indexed = this.files.isIndexed(i);
    const slots = [slot];
    return {
      id: this.files.id(i),
      kind: "f",
      target: undefined,
      slots,
      loc: slot.loc,
      attr: slot.at,
      heads: slots,
      alive: slot.v !== null,
      present: indexed,
      idxPar: indexed ? slot.loc.par : undefined,
      idxName: indexed ? slot.loc.nm : undefined,
      dirty: this.files.isDirty(i),
    };
  }

  private stateOf(h: Handle): InodeRec {
    return typeof h === "number" ? this.materialise(h) : h;
  }

  /**
   * Re-resolves every inode touched since the last flush; returns the inodes whose view
   * changed. With `allFiles` false the compact files are left out of that set: nobody
   * listens during a cold load, and a set of a million ids costs ~10% of it.
   */
  flush(allFiles = true): Set<InodeId> {
    const queued = this.dirty;
    this.dirty = [];
    const touched = new Set<InodeId>();
    const movedDirs: InodeId[] = [];
    const recs: InodeRec[] = [];
    const compact: number[] = [];
    for (const h of queued) {
      if (typeof h === "number") {
        // Skipped if promoted or removed since it was queued (its record is queued instead).
        if (!this.files.takeDirty(h)) continue;
        if (allFiles) touched.add(this.files.id(h));
        compact.push(h);
        continue;
      }
      const rec = h;
      recs.push(rec);
      rec.dirty = false;
      touched.add(rec.id);
      const before = rec.loc;
      this.resolveSlots(rec);
      if (rec.kind === "d" && (before?.par !== rec.loc?.par || before?.t !== rec.loc?.t)) movedDirs.push(rec.id);
    }
    // Inodes whose cycle-breaking override changed move too, even if their slots did not.
    const moved: InodeRec[] = [];
    if (movedDirs.length > 0 || this.overrides.size > 0) {
      const old = this.overrides;
      this.overrides = breakCycles([...movedDirs, ...old.keys()], { dirLoc: (id) => this.dirLoc(id) });
      for (const id of new Set([...old.keys(), ...this.overrides.keys()])) {
        if (sameOverride(old.get(id), this.overrides.get(id)) || touched.has(id)) continue;
        touched.add(id);
        moved.push(this.dirRec(id)!);
      }
    }
    for (const rec of recs) this.reindex(rec);
    for (const rec of moved) this.reindex(rec);
    for (const rec of recs) if (rec.kind === "f" && rec.slots.length === 1) this.demote(rec);
    // A compact file is new since the last flush (any change makes it a record), so it is
    // not indexed yet; it is shown where its slot puts it while it is not deleted.
    for (const i of compact) if (this.files.version(i) !== null) this.index(i, this.files.par(i), this.files.name(i));
    // Directories that appeared or vanished with their content changed too.
    for (const id of this.flipped) touched.add(id);
    this.flipped.clear();
    return touched;
  }

  private newRec(id: InodeId): InodeRec {
    // Every field up front: properties added later would go to a separate, growing
    // backing store on each of 100k+ records.
    return { id, kind: "f", target: undefined, slots: NO_SLOTS, loc: undefined, attr: undefined, heads: NO_HEADS, alive: false, present: false, idxPar: undefined, idxName: undefined, dirty: false };
  }

  private resolveSlots(rec: InodeRec): void {
    if (rec.slots.length === 0) {
      // /lost+found exists only as long as something is in it; any other inode without
      // slots was removed wholesale (not something our operations do, but a peer may).
      const lf = rec.id === LOST_FOUND_INODE;
      rec.kind = lf ? "d" : rec.kind;
      rec.loc = lf ? { par: ROOT_INODE, nm: LOST_FOUND_NAME, t: 0, p: "" } : undefined;
      rec.heads = NO_HEADS;
      rec.alive = false;
      rec.attr = undefined;
      return;
    }
    const first = rec.slots[0];
    rec.kind = first.k;
    rec.target = first.s;
    if (rec.slots.length === 1) {
      rec.loc = first.loc;
      rec.attr = first.at;
    } else {
      rec.loc = newestBy(rec.slots.map((s) => s.loc));
      rec.attr = newestBy(rec.slots.map((s) => s.at));
    }
    // One slot is its own live head (see StoredSlot): share the array instead of allocating one.
    rec.heads = rec.slots.length === 1 ? rec.slots : liveHeads(rec.slots);
    rec.alive = rec.heads.some((h) => h.v !== null);
  }

  private dirLoc(id: InodeId) {
    const rec = this.recs.get(id);
    return rec !== undefined && typeof rec !== "number" && rec.kind === "d" && id !== ROOT_INODE ? rec.loc : undefined;
  }

  // ---- the presence index --------------------------------------------------------------

  private reindex(rec: InodeRec): void {
    if (rec.id === ROOT_INODE) return;
    this.unindex(rec);
    const ov = this.overrides.get(rec.id);
    const par = ov?.par ?? rec.loc?.par;
    const name = ov?.nm ?? rec.loc?.nm;
    rec.present = rec.alive || (rec.kind === "d" && (this.children.get(rec.id)?.count ?? 0) > 0);
    if (rec.present && par !== undefined && name !== undefined) this.index(rec, par, name);
    this.noteConflict(rec);
  }

  private index(h: Handle, par: InodeId, name: string): void {
    let dir = this.children.get(par);
    if (dir === undefined) this.children.set(par, (dir = { count: 0, byName: new Map() }));
    const had = dir.byName.get(name);
    if (had === undefined) dir.byName.set(name, h);
    else {
      dir.byName.set(name, Array.isArray(had) ? [...had, h] : [had, h]);
      this.crowded.add(`${par}/${name}`);
    }
    if (typeof h === "number") this.files.setIndexed(h, true);
    else {
      h.idxPar = par;
      h.idxName = name;
    }
    dir.count++;
    if (dir.count === 1) this.refreshPresence(par);
  }

  private unindex(rec: InodeRec): void {
    const par = rec.idxPar;
    if (par === undefined) return;
    const name = rec.idxName!;
    rec.idxPar = rec.idxName = undefined;
    const dir = this.children.get(par)!;
    const had = dir.byName.get(name)!;
    if (!Array.isArray(had)) dir.byName.delete(name);
    else {
      const rest = had.filter((x) => x !== rec);
      dir.byName.set(name, rest.length === 1 ? rest[0] : rest);
      if (rest.length === 1) this.crowded.delete(`${par}/${name}`);
    }
    dir.count--;
    if (dir.count === 0) {
      this.children.delete(par);
      this.refreshPresence(par);
    }
  }

  /** A directory's presence follows its content: it may appear or vanish with its last child. */
  private refreshPresence(id: InodeId): void {
    const rec = this.recs.get(id);
    // A compact file's presence depends on nothing but itself.
    if (rec === undefined || typeof rec === "number" || id === ROOT_INODE) return;
    const present = rec.alive || (rec.kind === "d" && (this.children.get(id)?.count ?? 0) > 0);
    if (present === rec.present) return;
    this.flipped.add(id);
    this.reindex(rec);
  }

  private noteConflict(rec: InodeRec): void {
    const revived = rec.kind === "d" && rec.present && !rec.alive && rec.id !== LOST_FOUND_INODE;
    if (revived || (rec.alive && rec.heads.length > 1)) this.conflicted.add(rec.id);
    else this.conflicted.delete(rec.id);
  }

  // ---- reading -------------------------------------------------------------------------

  private state(id: InodeId): InodeRec | undefined {
    const h = this.recs.get(id);
    return h === undefined ? undefined : this.stateOf(h);
  }

  private candidates(dirs: readonly InodeState[], name: string): InodeState[] {
    const out: InodeState[] = [];
    for (const d of dirs) {
      const found = this.children.get(d.id)?.byName.get(name);
      if (found === undefined) continue;
      if (Array.isArray(found)) for (const h of found) out.push(this.stateOf(h));
      else out.push(this.stateOf(found));
    }
    return out;
  }

  private resolveAt(dirs: readonly InodeState[], path: string, name: string, policy?: ConflictPolicy): NameResolution | undefined {
    if (dirs.length === 1) {
      // Hot path: one directory, one inode under the name, no conflict.
      const found = this.children.get(dirs[0].id)?.byName.get(name);
      if (found === undefined) return undefined;
      if (!Array.isArray(found)) {
        const only = this.stateOf(found);
        if (only.kind === "d") return { dirs: [only], copies: [] };
        if (only.heads.length === 1) return { side: { state: only, head: only.heads[0] }, copies: [] };
      }
    }
    const cands = this.candidates(dirs, name);
    return cands.length === 0 ? undefined : resolveName(name, cands, () => policy ?? this.policyFor(path));
  }

  /**
   * Resolves a normalised absolute path (see `splitPath`). `policy` overrides the rules
   * for the last component (used to name the copies a "keep both" resolution creates).
   */
  locate(parts: readonly string[], policy?: ConflictPolicy): Located | undefined {
    if (parts.length === 0) return { path: "/", name: "", parentDirs: [], resolution: { dirs: [this.root], copies: [] } };
    const parent = this.walk(parts);
    return parent && this.locateIn(parent.dirs, parent.path, parts[parts.length - 1], policy);
  }

  /** `entryOf(locate(parts))`; a plain file's entry comes straight from the compact table (the common lookup). */
  lookup(parts: readonly string[]): Entry | undefined {
    if (parts.length === 0) return this.entryOf(this.locate(parts)!);
    const parent = this.walk(parts);
    if (parent === undefined) return undefined;
    const name = parts[parts.length - 1];
    if (parent.dirs.length === 1) {
      const found = this.children.get(parent.dirs[0].id)?.byName.get(name);
      if (typeof found === "number") return this.files.entry(found, name, `${parent.path}/${name}`);
    }
    const loc = this.locateIn(parent.dirs, parent.path, name);
    return loc && this.entryOf(loc);
  }

  /** The directory group holding the last component of `parts` (non-empty), and its path ("" for the root). */
  walk(parts: readonly string[]): { dirs: readonly InodeState[]; path: string } | undefined {
    let dirs: readonly InodeState[] = [this.root];
    let path = "";
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i];
      path = `${path}/${name}`;
      const res = this.resolveAt(dirs, path, name);
      if (res?.dirs === undefined) return undefined;
      dirs = res.dirs;
    }
    return { dirs, path };
  }

  /** What `name` in the directory group `dirs` (at `parentPath`, "" for the root) resolves to. */
  locateIn(dirs: readonly InodeState[], parentPath: string, name: string, policy?: ConflictPolicy): Located | undefined {
    const path = `${parentPath}/${name}`;
    const res = this.resolveAt(dirs, path, name, policy);
    if (res !== undefined) return { path, name, parentDirs: dirs, resolution: res };
    return this.locateCopy(dirs, parentPath, name);
  }

  private locateCopy(dirs: readonly InodeState[], parentPath: string, name: string): Located | undefined {
    const original = copyOriginal(name);
    if (original === undefined) return undefined;
    const res = this.resolveAt(dirs, `${parentPath}/${original}`, original);
    const copy = res?.copies.find((c) => c.name === name);
    if (copy === undefined) return undefined;
    return { path: `${parentPath}/${name}`, name, parentDirs: dirs, resolution: res!, copy };
  }

  entryOf(loc: Located): Entry {
    if (loc.copy !== undefined) {
      const { side, reason } = loc.copy;
      const of = loc.path.slice(0, loc.path.length - loc.name.length) + (copyOriginal(loc.name) ?? loc.name);
      return { ...this.sideEntry(side, loc.name, loc.path), conflictCopy: { pod: side.head.p, timeMs: stampTimeMs(side.head.t), of, reason } };
    }
    const res = loc.resolution;
    if (res.dirs !== undefined) return this.dirEntry(res.dirs[0], loc.name, loc.path);
    return this.sideEntry(res.side!, loc.name, loc.path);
  }

  private dirEntry(d: InodeState, name: string, path: string): Entry {
    return { inode: d.id, name, path, kind: "dir", size: 0, version: "", attr: this.attrOf(d) };
  }

  private sideEntry(side: Side, name: string, path: string): Entry {
    const s = side.state;
    const e: Entry = { inode: s.id, name, path, kind: entryKind(s.kind), size: side.head.sz, version: side.head.v ?? "", attr: this.attrOf(s) };
    if (s.target !== undefined) e.symlinkTarget = s.target;
    return e;
  }

  private attrOf(s: InodeState): Attr {
    const a = (s as InodeRec).attr;
    if (a === undefined) return { ...DEFAULT_DIR_ATTR };
    return { mode: a.m, uid: a.u, gid: a.g, mtimeMs: a.mt, ctimeMs: a.ct };
  }

  /** Every name shown in a directory group, conflict copies included, sorted by name. */
  list(dirPath: string, dirs: readonly InodeState[]): Entry[] {
    let names: string[];
    if (dirs.length === 1) names = [...(this.children.get(dirs[0].id)?.byName.keys() ?? [])];
    else {
      const all = new Set<string>();
      for (const d of dirs) for (const n of this.children.get(d.id)?.byName.keys() ?? []) all.add(n);
      names = [...all];
    }
    names.sort();
    const prefix = dirPath === "/" ? "/" : `${dirPath}/`;
    const out: Entry[] = [];
    let withCopies = false;
    for (const name of names) {
      const path = prefix + name;
      if (dirs.length === 1) {
        const found = this.children.get(dirs[0].id)!.byName.get(name);
        if (typeof found === "number") {
          out.push(this.files.entry(found, name, path));
          continue;
        }
      }
      const resolution = this.resolveAt(dirs, path, name)!;
      out.push(resolution.dirs ? this.dirEntry(resolution.dirs[0], name, path) : this.sideEntry(resolution.side!, name, path));
      for (const copy of resolution.copies) {
        withCopies = true;
        out.push(this.entryOf({ path: prefix + copy.name, name: copy.name, parentDirs: dirs, resolution, copy }));
      }
    }
    return withCopies ? out.sort((a, b) => compareText(a.name, b.name)) : out;
  }

  /** The path an inode is indexed at (its original name, even if shown as a copy), if reachable from the root. */
  pathOf(id: InodeId): string | undefined {
    if (id === ROOT_INODE) return "/";
    const names: string[] = [];
    const first = this.recs.get(id);
    if (typeof first === "number") {
      // A compact file is shown exactly where its slot puts it.
      if (!this.files.isIndexed(first)) return undefined;
      names.push(this.files.name(first));
    }
    let cur = typeof first === "number" ? this.dirRec(this.files.par(first)) : first;
    for (let depth = 0; cur !== undefined && cur.id !== ROOT_INODE; depth++) {
      if (!cur.present || cur.idxPar === undefined || depth > MAX_DEPTH) return undefined;
      names.push(cur.idxName!);
      cur = this.dirRec(cur.idxPar);
    }
    if (cur === undefined) return undefined;
    return "/" + names.reverse().join("/");
  }

  /** The entry an inode is shown as (its name, or its keep-both copy name). */
  stat(id: InodeId): Entry | undefined {
    const path = this.pathOf(id);
    if (path === undefined) return undefined;
    const h = this.recs.get(id);
    if (typeof h === "number") {
      // Alone under its name in a directory that merged with no other: shown as itself.
      const name = this.files.name(h);
      const parent = this.walk(splitPathUnchecked(path));
      if (parent?.dirs.length === 1 && parent.dirs[0].id === this.files.par(h) && this.children.get(this.files.par(h))?.byName.get(name) === h) {
        return this.files.entry(h, name, path);
      }
    }
    const loc = this.locate(splitPathUnchecked(path));
    if (loc === undefined) return undefined;
    const res = loc.resolution;
    if (res.dirs?.some((d) => d.id === id)) return this.entryOf(loc);
    if (res.side?.state.id === id) return this.entryOf(loc);
    const copy = res.copies.find((c) => c.reason === "name" && c.side.state.id === id);
    if (copy === undefined) return undefined;
    const parent = path.slice(0, path.length - loc.name.length);
    return this.entryOf({ ...loc, path: parent + copy.name, name: copy.name, copy });
  }

  /** Raw state for the operations layer (undefined if unknown). */
  inode(id: InodeId): (InodeState & { attr?: AttrGroup; present: boolean; slots: readonly StoredSlot[] }) | undefined {
    return this.state(id);
  }

  /** Effective location (after cycle breaking) of a present inode. */
  placement(id: InodeId): { par: InodeId; nm: string } | undefined {
    const rec = this.recs.get(id);
    if (typeof rec === "number") return this.files.isIndexed(rec) ? { par: this.files.par(rec), nm: this.files.name(rec) } : undefined;
    return rec?.idxPar === undefined ? undefined : { par: rec.idxPar, nm: rec.idxName! };
  }

  /** A directory's record (directories are never compact); undefined for anything else. */
  private dirRec(id: InodeId): InodeRec | undefined {
    const h = this.recs.get(id);
    return typeof h === "number" ? undefined : h;
  }

  conflicts(): Conflict[] {
    const out: Conflict[] = [];
    // Name conflicts live in crowded buckets, or across the members of merged directories.
    const scan = new Set<string>();
    for (const key of this.crowded) {
      const p = this.pathOf(key.slice(0, 32));
      if (p !== undefined) scan.add(p);
    }
    for (const dirPath of scan) {
      const loc = this.locate(splitPathUnchecked(dirPath));
      if (loc?.resolution.dirs === undefined) continue;
      const dirs = loc.resolution.dirs;
      const names = new Set<string>();
      for (const d of dirs) for (const n of this.children.get(d.id)?.byName.keys() ?? []) names.add(n);
      const prefix = dirPath === "/" ? "/" : `${dirPath}/`;
      for (const name of names) {
        const res = this.resolveAt(dirs, prefix + name, name)!;
        if (res.rivals) out.push({ path: prefix + name, kind: "name", sides: res.rivals.map(sideToConflictSide) });
        if (res.dirs !== undefined && res.dirs.length > 1) scan.add(prefix + name);
      }
    }
    for (const id of this.conflicted) {
      const rec = this.state(id)!;
      const path = this.pathOf(id);
      if (path === undefined) continue;
      const kind = rec.heads.some((h) => h.v === null) || !rec.alive ? "edit-delete" : "content";
      out.push({ path, kind, sides: rec.heads.map((head) => sideToConflictSide({ state: rec, head })) });
    }
    for (const [id, ov] of this.overrides) {
      const path = this.pathOf(id);
      if (path === undefined) continue;
      const sides = ov.cycle.map((m) => this.state(m)!.loc!).map((l) => ({ pod: l.p, timeMs: stampTimeMs(l.t), inode: id }));
      out.push({ path, kind: "move", sides });
    }
    return out.sort((a, b) => compareText(a.path, b.path) || compareText(a.kind, b.kind) || compareText(a.sides[0]?.inode ?? "", b.sides[0]?.inode ?? ""));
  }

  *liveVersions(): Iterable<LiveVersion> {
    for (const rec of this.recs.values()) yield* this.liveVersionsOfRec(rec);
  }

  /** How many names directory `id` holds (0 for an empty directory, a file or an unknown inode). */
  childCount(id: InodeId): number {
    return this.children.get(id)?.count ?? 0;
  }

  /** Whether inode `id` is a directory, also once deleted (its tombstone remembers). */
  isDirectory(id: InodeId): boolean {
    const h = this.recs.get(id);
    return h !== undefined && typeof h !== "number" && h.kind === "d";
  }

  /** The content versions inode `id` keeps alive: its current one, and every conflicting head. */
  liveVersionsOf(id: InodeId): LiveVersion[] {
    const rec = this.recs.get(id);
    return rec === undefined ? [] : [...this.liveVersionsOfRec(rec)];
  }

  private *liveVersionsOfRec(rec: Handle): Iterable<LiveVersion> {
    if (typeof rec === "number") {
      const v = this.files.version(rec);
      if (v !== null) yield { inode: this.files.id(rec), version: v, size: this.files.size(rec) };
      return;
    }
    if (rec.kind !== "f" || !rec.alive) return;
    for (const h of rec.heads) if (h.v !== null) yield { inode: rec.id, version: h.v, size: h.sz };
  }

  /** Number of inodes known (including deleted ones kept as tombstones). */
  get size(): number {
    return this.recs.size;
  }
}

function sideToConflictSide(s: Side): ConflictSide {
  const st = s.state;
  if (st.kind === "d" || s.head === undefined) {
    const stamp = st.loc ?? s.head;
    return { pod: stamp?.p ?? "", timeMs: stampTimeMs(stamp?.t ?? 0), inode: st.id };
  }
  const side: ConflictSide = { pod: s.head.p, timeMs: stampTimeMs(s.head.t), inode: st.id };
  if (s.head.v === null) side.deleted = true;
  else {
    side.version = s.head.v;
    side.size = s.head.sz;
  }
  return side;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameOverride(a: Override | undefined, b: Override | undefined): boolean {
  return a?.par === b?.par && a?.nm === b?.nm;
}

/** Components of a path already known to be normalised (built by the view itself). */
export function splitPathUnchecked(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}
