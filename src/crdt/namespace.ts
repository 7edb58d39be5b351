// The namespace: Yjs shard documents, the path-based operations that write them, and the
// incrementally maintained view that every Yjs transaction (local, remote or loaded) updates,
// and a local create before its transaction (write-behind, see `createBatchMs`).
import * as Y from "yjs";
import { Hlc } from "./hlc.js";
import { copyOriginal, type Copy } from "./names.js";
import { joinPath, splitPath } from "./paths.js";
import { Registry, REGISTRY_DOC } from "./registry.js";
import { DEFAULT_MODE, planWrite, type Change } from "./merge.js";
import { decodeSlot, encodeSlot, headKey, parseSlotKey, slotKey, type Slot, type SlotKind } from "./slots.js";
import {
  assertPodId,
  isInodeId,
  LOST_FOUND_INODE,
  NamespaceError,
  ROOT_INODE,
  type Attr,
  type Conflict,
  type ConflictPolicy,
  type Entry,
  type InodeId,
  type PodId,
  type VersionId,
} from "./types.js";
import { type LiveVersion, type Located, View } from "./view.js";
import { randomInodeId } from "./random-id.js";

export interface NamespaceOptions {
  podId: PodId;
  /** Conflict policy per path (the config layer's per-file rules); default "overwrite". */
  policyFor?: (path: string) => ConflictPolicy;
  /** Wall clock in ms (injectable for tests). */
  now?: () => number;
  /** Number of shard documents; a cluster-wide constant (default 16). */
  shardCount?: number;
  /** Version id of the empty file, used by `createFile` without content. */
  emptyVersion?: VersionId;
  /** Source of new inode ids (default: 128 random bits); injectable for reproducible tests. */
  newInodeId?: () => InodeId;
  /**
   * Write-behind for creates (default 0: off). A new file, directory or symlink is in the view
   * at once, and reaches the shard documents (the store, the peers) up to this many ms later,
   * together with the creates made meanwhile: one Yjs transaction per batch instead of one per
   * create, and none on the create's own path. See `applyHeldCreates`.
   */
  createBatchMs?: number;
}

export interface Content {
  version: VersionId;
  size: number;
}

export type ResolveChoice = "newest" | "both" | { pod: PodId };

type ChangeListener = (inodes: ReadonlySet<InodeId>) => void;

/** A batch of held creates is applied at once when it reaches this size (bounds one transaction). */
const MAX_HELD_CREATES = 256;

export class Namespace {
  readonly podId: PodId;
  readonly hlc: Hlc;
  readonly registry: Registry;
  readonly docs: ReadonlyMap<string, Y.Doc>;
  readonly shardNames: readonly string[];
  private readonly shards: Y.Map<unknown>[];
  private readonly view: View;
  private readonly policyFor: (path: string) => ConflictPolicy;
  private readonly emptyVersion: VersionId;
  private readonly newInodeId: () => InodeId;
  private readonly listeners = new Set<ChangeListener>();
  private batchDepth = 0;
  private touched = new Set<InodeId>();
  private readonly createBatchMs: number;
  /** Creates in the view, not yet in the shard documents: slot key → encoded slot, all in `heldShard`. */
  private held = new Map<string, string>();
  private heldShard = -1;
  private heldTimer: NodeJS.Timeout | undefined;
  private heldApplied: { promise: Promise<void>; resolve: () => void } | undefined;
  /** The batch being applied: the view already has these values. */
  private applying: ReadonlyMap<string, string> | undefined;

  constructor(opts: NamespaceOptions) {
    assertPodId(opts.podId);
    this.podId = opts.podId;
    this.hlc = new Hlc(opts.podId, opts.now);
    this.policyFor = opts.policyFor ?? (() => "overwrite");
    this.emptyVersion = opts.emptyVersion ?? "0".repeat(64);
    this.newInodeId = opts.newInodeId ?? randomInodeId;
    this.createBatchMs = opts.createBatchMs ?? 0;
    if (!Number.isFinite(this.createBatchMs) || this.createBatchMs < 0) throw new NamespaceError("EINVAL", `createBatchMs must be a number ≥ 0, got ${this.createBatchMs}`);
    const shardCount = opts.shardCount ?? 16;
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 4096) {
      throw new NamespaceError("EINVAL", `shardCount must be an integer from 1 to 4096, got ${shardCount}`);
    }
    this.view = new View(this.policyFor);
    const docs = new Map<string, Y.Doc>();
    const width = Math.max(1, (shardCount - 1).toString(16).length);
    this.shards = [];
    const names: string[] = [];
    for (let i = 0; i < shardCount; i++) {
      const name = `ns/${i.toString(16).padStart(width, "0")}`;
      // gc on: the content of superseded slots is dropped (only a small tombstone stays),
      // which keeps memory and encoded size proportional to live records. We never need
      // old states back (no undo, no snapshots of the namespace).
      const doc = new Y.Doc({ gc: true });
      const map = doc.getMap<unknown>("inodes");
      map.observe((event) => this.onShardEvent(map, event.keysChanged));
      docs.set(name, doc);
      names.push(name);
      this.shards.push(map);
    }
    const registryDoc = new Y.Doc({ gc: true });
    docs.set(REGISTRY_DOC, registryDoc);
    this.registry = new Registry(registryDoc, this.podId, this.hlc);
    this.docs = docs;
    this.shardNames = names;
  }

  // ---- Yjs plumbing --------------------------------------------------------------------

  private onShardEvent(map: Y.Map<unknown>, keys: Set<string>): void {
    for (const key of keys) {
      const k = parseSlotKey(key);
      if (k === undefined) continue;
      const value = currentValue(map, key);
      if (this.applying !== undefined && this.applying.get(key) === value) continue;
      this.setSlot(k.inode, k.pod, value);
    }
    if (this.batchDepth === 0) this.flush();
  }

  /** A slot's stored value as the view takes it (the same for local, held and remote slots). */
  private setSlot(inode: InodeId, pod: PodId, value: unknown): void {
    const slot = decodeSlot(value, pod);
    if (slot !== undefined) this.hlc.receive(Math.max(slot.loc.t, slot.head.t, slot.at.t));
    this.view.setSlot(inode, pod, slot);
  }

  /** Brings the view up to date; the touched inodes wait for the next change event. */
  private refreshView(): void {
    if (!this.view.pending) return;
    // Without listeners (a pod loads its documents before it subscribes) the touched set
    // is never read: skip the compact files, most of a cold load's million ids.
    const changed = this.view.flush(this.listeners.size > 0);
    // A cold load touches every inode: adopt its set rather than copy a million ids.
    if (this.touched.size === 0) this.touched = changed;
    else for (const id of changed) this.touched.add(id);
  }

  private flush(): void {
    this.refreshView();
    if (this.touched.size === 0) return;
    const touched = this.touched;
    this.touched = new Set();
    for (const l of this.listeners) l(touched);
  }

  /** Runs `fn` with view maintenance deferred to its end (one flush, one change event). */
  batch<T>(fn: () => T): T {
    this.batchDepth++;
    try {
      return fn();
    } finally {
      if (--this.batchDepth === 0) this.flush();
    }
  }

  /**
   * Puts the held creates into their shard document now, in one transaction, in the order
   * they were made (see `createBatchMs`). Their view change was reported when they were made;
   * applying them changes nothing the view shows. Anything that needs the documents complete
   * (a flush to disk, a stop) calls this first; every other local write does too, so local
   * writes reach the documents in the order they were made.
   *
   * Why holding them is safe: a held create names a fresh inode id no peer knows, so no
   * remote update can touch its slot before it is applied; to a peer, a held create is a
   * create that travelled a little longer.
   */
  applyHeldCreates(): void {
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (this.held.size === 0) return;
    const held = this.held;
    const map = this.shards[this.heldShard];
    const applied = this.heldApplied;
    this.held = new Map();
    this.heldShard = -1;
    this.heldApplied = undefined;
    this.applying = held;
    try {
      map.doc!.transact(() => {
        for (const [key, value] of held) map.set(key, value);
      });
    } finally {
      this.applying = undefined;
      applied?.resolve();
    }
  }

  /** Resolves once the creates made so far are in the shard documents (at once if none is held). */
  createsApplied(): Promise<void> {
    if (this.held.size === 0) return APPLIED;
    if (this.heldApplied === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.heldApplied = { promise, resolve };
    }
    return this.heldApplied.promise;
  }

  /**
   * Applies many updates at once (cold load from the store, or a burst from a peer): the
   * updates of each doc are merged and applied in one transaction, and the view is
   * resolved once at the end.
   */
  applyUpdates(updates: Iterable<{ doc: string; update: Uint8Array }>, encoding: "v1" | "v2" = "v2", origin?: unknown): void {
    const byDoc = new Map<string, Uint8Array[]>();
    for (const { doc, update } of updates) {
      if (!this.docs.has(doc)) throw new NamespaceError("EINVAL", `unknown namespace document "${doc}" (expected ${this.shardNames[0]}… or ${REGISTRY_DOC})`);
      const list = byDoc.get(doc);
      if (list) list.push(update);
      else byDoc.set(doc, [update]);
    }
    this.batch(() => {
      for (const [name, list] of byDoc) {
        const doc = this.docs.get(name)!;
        if (encoding === "v2") Y.applyUpdateV2(doc, list.length === 1 ? list[0] : Y.mergeUpdatesV2(list), origin);
        else Y.applyUpdate(doc, list.length === 1 ? list[0] : Y.mergeUpdates(list), origin);
      }
    });
  }

  /** Called after the view changed, once per Yjs transaction (or batch), local and remote alike. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private shardOf(id: InodeId): Y.Map<unknown> {
    return this.shards[this.shardIndex(id)];
  }

  private shardIndex(id: InodeId): number {
    return parseInt(id.slice(0, 8), 16) % this.shards.length;
  }

  // ---- view ----------------------------------------------------------------------------

  lookup(path: string): Entry | undefined {
    return this.view.lookup(splitPath(path));
  }

  stat(inode: InodeId): Entry | undefined {
    return this.view.stat(inode);
  }

  readdir(path: string): Entry[] {
    const loc = this.locateDir(splitPath(path));
    return this.view.list(loc.path, loc.resolution.dirs!);
  }

  conflicts(): Conflict[] {
    return this.view.conflicts();
  }

  liveVersions(): Iterable<LiveVersion> {
    return this.view.liveVersions();
  }

  /** How many names directory `inode` holds (0 when empty, or not a directory). */
  childCount(inode: InodeId): number {
    return this.view.childCount(inode);
  }

  /** Whether an inode is a directory, also once deleted. */
  isDirectory(inode: InodeId): boolean {
    return this.view.isDirectory(inode);
  }

  /** The content versions one inode keeps alive (none for a deleted file or a directory). */
  liveVersionsOf(inode: InodeId): LiveVersion[] {
    return this.view.liveVersionsOf(inode);
  }

  /** The view as a from-scratch build over the same documents would give it (tests, audits). */
  static buildView(docs: ReadonlyMap<string, Y.Doc>, policyFor: (path: string) => ConflictPolicy = () => "overwrite"): View {
    const view = new View(policyFor);
    for (const [name, doc] of docs) {
      if (!name.startsWith("ns/")) continue;
      for (const [key, v] of doc.getMap<unknown>("inodes").entries()) {
        const k = parseSlotKey(key);
        const slot = k && decodeSlot(v, k.pod);
        if (slot) view.setSlot(k!.inode, k!.pod, slot);
      }
    }
    view.flush();
    return view;
  }

  /** This namespace's incrementally maintained view (tests compare it with `buildView`). */
  get resolvedView(): View {
    return this.view;
  }

  // ---- operations ----------------------------------------------------------------------

  mkdir(path: string, attr?: Partial<Attr>): Entry {
    return this.create(path, "d", { v: "", sz: 0 }, attr);
  }

  createFile(path: string, attr?: Partial<Attr>, content?: Content): Entry {
    return this.create(path, "f", { v: content?.version ?? this.emptyVersion, sz: content?.size ?? 0 }, attr);
  }

  symlink(path: string, target: string, attr?: Partial<Attr>): Entry {
    if (typeof target !== "string" || target.length === 0 || target.includes("\0")) {
      throw new NamespaceError("EINVAL", `symlink target for "${path}" must be a non-empty string without NUL`);
    }
    return this.create(path, "l", { v: "", sz: 0 }, attr, target);
  }

  /**
   * A new content version; its base is every live head this pod sees (this resolves content
   * conflicts). Returns the entry, or undefined if the inode is not shown (a name-conflict
   * loser under "overwrite").
   */
  write(pathOrInode: string, content: Content): Entry | undefined {
    const id = this.fileFor(pathOrInode, "write");
    this.keepVisibleCopies(id);
    this.commit(id, { head: { v: content.version, sz: content.size } });
    return this.stat(id);
  }

  setattr(pathOrInode: string, attr: Partial<Attr>): Entry | undefined {
    const id = this.isInodeRef(pathOrInode) ? this.liveInode(pathOrInode, "setattr") : this.materialisedTarget(splitPath(pathOrInode), "setattr");
    if (id === LOST_FOUND_INODE) throw new NamespaceError("EACCES", "/lost+found is managed by wormhole; its attributes cannot be changed");
    this.commit(id, { attr });
    return this.stat(id);
  }

  rename(from: string, to: string): void {
    const fp = splitPath(from);
    const tp = splitPath(to);
    if (fp.length === 0 || tp.length === 0) throw new NamespaceError("EBUSY", `cannot rename the root directory (rename "${from}" → "${to}")`);
    const src = this.view.locate(fp);
    if (src === undefined) throw new NamespaceError("ENOENT", `rename: "${from}" does not exist`);
    const dstParent = this.locateDir(tp.slice(0, -1));
    const srcIsDir = src.copy === undefined && src.resolution.dirs !== undefined;
    if (src.resolution.dirs?.some((d) => d.id === LOST_FOUND_INODE)) throw new NamespaceError("EACCES", "/lost+found is managed by wormhole; move its contents instead");
    if (srcIsDir && tp.length > fp.length && fp.every((p, i) => tp[i] === p)) {
      throw new NamespaceError("EINVAL", `rename: cannot move directory "${from}" into itself ("${to}")`);
    }
    if (joinPath(fp) === joinPath(tp)) return;
    const dst = this.view.locate(tp);
    if (dst !== undefined) {
      if (this.sameObject(src, dst)) return;
      const dstIsDir = dst.copy === undefined && dst.resolution.dirs !== undefined;
      if (srcIsDir && !dstIsDir) throw new NamespaceError("ENOTDIR", `rename: "${to}" is not a directory but "${from}" is`);
      if (!srcIsDir && dstIsDir) throw new NamespaceError("EISDIR", `rename: "${to}" is a directory but "${from}" is not`);
      if (dstIsDir && this.view.list(dst.path, dst.resolution.dirs!).length > 0) throw new NamespaceError("ENOTEMPTY", `rename: directory "${to}" is not empty`);
      this.remove(dst);
    }
    const par = dstParent.resolution.dirs![0].id;
    const name = tp[tp.length - 1];
    if (src.copy?.reason === "content") {
      this.materialise(src.copy, par, name);
      return;
    }
    this.batch(() => {
      for (const id of this.inodesOf(src)) {
        const was = this.view.placement(id);
        this.commit(id, { loc: { par, nm: name, ...(was ? { pp: was.par, pn: was.nm } : {}) } });
      }
    });
  }

  unlink(path: string): void {
    const loc = this.view.locate(splitPath(path));
    if (loc === undefined) throw new NamespaceError("ENOENT", `unlink: "${path}" does not exist`);
    if (loc.copy === undefined && loc.resolution.dirs !== undefined) throw new NamespaceError("EISDIR", `unlink: "${path}" is a directory (use rmdir)`);
    this.remove(loc);
  }

  rmdir(path: string): void {
    const parts = splitPath(path);
    if (parts.length === 0) throw new NamespaceError("EBUSY", "rmdir: cannot remove the root directory");
    const loc = this.locateDir(parts);
    if (this.view.list(loc.path, loc.resolution.dirs!).length > 0) throw new NamespaceError("ENOTEMPTY", `rmdir: directory "${path}" is not empty`);
    this.remove(loc);
  }

  /**
   * Ends the conflicts at `path` (content, edit-delete, name or move) with an ordinary
   * write whose base covers every live head. "newest" keeps the newest side, `{pod}` the
   * side written by that pod, "both" keeps every side as its own file (copy names).
   */
  resolveConflict(path: string, keep: ResolveChoice): void {
    const parts = splitPath(path);
    let loc = this.view.locate(parts);
    // A copy's conflict is listed under the name it stands beside.
    if (loc?.copy !== undefined) loc = this.view.locate([...parts.slice(0, -1), copyOriginal(loc.name)!]);
    if (loc === undefined) throw new NamespaceError("ENOENT", `resolve: "${path}" does not exist`);
    const conflicts = this.view.conflicts().filter((c) => c.path === loc!.path);
    if (conflicts.length === 0) throw new NamespaceError("EINVAL", `resolve: there is no conflict at "${path}" (see the conflict list)`);
    this.batch(() => {
      for (const c of conflicts) {
        if (c.kind === "name") this.resolveName(loc!, keep);
        else if (c.kind === "move") for (const id of this.inodesOf(loc!)) this.commit(id, { loc: this.view.placement(id)! });
        else this.resolveContent(c.sides[0].inode, loc!, keep);
      }
    });
  }

  // ---- operation helpers ---------------------------------------------------------------

  private create(path: string, kind: SlotKind, head: Change["head"], attr: Partial<Attr> | undefined, target?: string): Entry {
    const parts = splitPath(path);
    if (parts.length === 0) throw new NamespaceError("EEXIST", `"/" already exists`);
    // One walk serves both checks (a create's path is resolved once, not twice: creates are hot).
    const parent = this.view.walk(parts);
    if (parent === undefined) throw this.notADirectory(parts.slice(0, -1));
    const name = parts[parts.length - 1];
    if (this.view.locateIn(parent.dirs, parent.path, name) !== undefined) throw new NamespaceError("EEXIST", `"${joinPath(parts)}" already exists`);
    const id = this.freshId();
    const now = this.hlc.now();
    const fullAttr: Partial<Attr> = { mode: DEFAULT_MODE[kind], uid: 0, gid: 0, mtimeMs: Math.floor(now.t / 1024), ctimeMs: Math.floor(now.t / 1024), ...attr };
    this.commit(id, { loc: { par: parent.dirs[0].id, nm: name }, head, attr: fullAttr }, kind, target, true);
    return this.stat(id)!;
  }

  private freshId(): InodeId {
    let id = this.newInodeId();
    // Drawn in the shard of the creates held so far, so that one transaction applies them all.
    if (this.heldShard >= 0 && isInodeId(id)) id = inShard(id, this.heldShard, this.shards.length);
    if (!isInodeId(id) || id === ROOT_INODE || id === LOST_FOUND_INODE || this.view.inode(id)?.slots.length) {
      throw new NamespaceError("EINVAL", `inode id generator returned an unusable id "${id}"`);
    }
    return id;
  }

  /** The directory group at `parts`, or ENOENT / ENOTDIR. */
  private locateDir(parts: readonly string[]): Located {
    const loc = this.view.locate(parts);
    if (loc === undefined || loc.copy !== undefined || loc.resolution.dirs === undefined) throw this.notADirectory(parts, loc);
    return loc;
  }

  /** Why `parts` is no directory: ENOENT, or ENOTDIR for anything else found there. */
  private notADirectory(parts: readonly string[], loc = this.view.locate(parts)): NamespaceError {
    if (loc === undefined) return new NamespaceError("ENOENT", `"${joinPath(parts)}" does not exist`);
    return new NamespaceError("ENOTDIR", `"${joinPath(parts)}" is not a directory`);
  }

  private isInodeRef(pathOrInode: string): boolean {
    return !pathOrInode.startsWith("/") && isInodeId(pathOrInode);
  }

  private liveInode(id: InodeId, op: string): InodeId {
    const st = this.view.inode(id);
    if (st === undefined || !st.present) throw new NamespaceError("ENOENT", `${op}: inode ${id} does not exist (deleted?)`);
    return id;
  }

  /** The file inode a write addresses; a keep-both copy first becomes a file of its own. */
  private fileFor(pathOrInode: string, op: string): InodeId {
    const id = this.isInodeRef(pathOrInode) ? this.liveInode(pathOrInode, op) : this.materialisedTarget(splitPath(pathOrInode), op);
    const kind = this.view.inode(id)!.kind;
    if (kind === "d") throw new NamespaceError("EISDIR", `${op}: "${pathOrInode}" is a directory`);
    if (kind === "l") throw new NamespaceError("EINVAL", `${op}: "${pathOrInode}" is a symlink; write to its target`);
    return id;
  }

  private materialisedTarget(parts: string[], op: string): InodeId {
    const loc = this.view.locate(parts);
    if (loc === undefined) throw new NamespaceError("ENOENT", `${op}: "${joinPath(parts)}" does not exist`);
    if (loc.copy?.reason === "content") return this.materialise(loc.copy, loc.parentDirs[0].id, loc.name);
    return this.inodesOf(loc)[0];
  }

  /** The inodes a located name stands for (every member of a merged directory). */
  private inodesOf(loc: Located): InodeId[] {
    if (loc.copy !== undefined) return [loc.copy.side.state.id];
    if (loc.resolution.dirs !== undefined) return loc.resolution.dirs.map((d) => d.id);
    return [loc.resolution.side!.state.id];
  }

  private sameObject(a: Located, b: Located): boolean {
    if (a.copy?.reason === "content" || b.copy?.reason === "content") return a.path === b.path;
    return this.inodesOf(a)[0] === this.inodesOf(b)[0];
  }

  /** unlink / rmdir / rename-replace: a copy path discards just that side. */
  private remove(loc: Located): void {
    if (loc.copy?.reason === "content") {
      this.commit(loc.copy.side.state.id, { discard: headKey(loc.copy.side.head) });
      return;
    }
    this.batch(() => {
      for (const id of this.inodesOf(loc)) {
        if (id === LOST_FOUND_INODE) continue;
        this.keepVisibleCopies(id);
        this.commit(id, { head: { v: null, sz: 0 } });
      }
    });
  }

  /** Turns one content side into a new file named `name` in `par`, and drops it from its inode. */
  private materialise(copy: Copy, par: InodeId, name: string): InodeId {
    const orig = this.view.inode(copy.side.state.id)!;
    const id = this.freshId();
    const a = orig.attr!;
    this.batch(() => {
      this.commit(id, { loc: { par, nm: name }, head: { v: copy.side.head.v, sz: copy.side.head.sz }, attr: { mode: a.m, uid: a.u, gid: a.g, mtimeMs: a.mt, ctimeMs: a.ct } }, orig.kind, orig.target);
      this.commit(orig.id, { discard: headKey(copy.side.head) });
    });
    return id;
  }

  /**
   * Before a write or delete supersedes every head of an inode, the keep-both copies the
   * user can see become files of their own: an operation on `f` never makes the visible
   * `f.conflict-…` vanish.
   */
  private keepVisibleCopies(id: InodeId): void {
    const st = this.view.inode(id);
    if (st === undefined || st.heads.length < 2) return;
    const path = this.view.pathOf(id);
    const loc = path === undefined ? undefined : this.view.locate(splitPath(path));
    if (loc === undefined) return;
    for (const c of loc.resolution.copies) if (c.reason === "content" && c.side.state.id === id) this.materialise(c, this.view.placement(id)!.par, c.name);
  }

  private resolveContent(id: InodeId, loc: Located, keep: ResolveChoice): void {
    const st = this.view.inode(id)!;
    if (st.kind === "d") {
      this.commit(id, { head: { v: "", sz: 0 } });
      return;
    }
    if (keep === "both") {
      const withCopies = this.view.locate(splitPath(loc.path), "keep-both")!;
      const par = this.view.placement(id)!.par;
      for (const c of withCopies.resolution.copies) if (c.reason === "content") this.materialise(c, par, c.name);
      const shown = withCopies.resolution.side!.head;
      this.commit(id, { head: { v: shown.v, sz: shown.sz } });
      return;
    }
    const chosen = keep === "newest" ? st.heads[0] : st.heads.find((h) => h.p === keep.pod);
    if (chosen === undefined) throw new NamespaceError("EINVAL", `resolve: no side of "${loc.path}" was written by pod ${keep === "newest" ? "?" : keep.pod}`);
    this.commit(id, { head: { v: chosen.v, sz: chosen.sz } });
  }

  private resolveName(loc: Located, keep: ResolveChoice): void {
    const rivals = loc.resolution.rivals ?? [];
    if (keep === "both") {
      const withCopies = this.view.locate(splitPath(loc.path), "keep-both")!;
      for (const c of withCopies.resolution.copies) {
        if (c.reason === "name") this.commit(c.side.state.id, { loc: { ...this.view.placement(c.side.state.id)!, nm: c.name } });
      }
      return;
    }
    const keeper = keep === "newest" ? rivals[0] : rivals.find((r) => r.head?.p === keep.pod || r.state.loc?.p === keep.pod);
    if (keeper === undefined) throw new NamespaceError("EINVAL", `resolve: no side of "${loc.path}" comes from pod ${keep === "newest" ? "?" : keep.pod}`);
    if (keeper.state.kind !== "d" && loc.resolution.dirs !== undefined) {
      throw new NamespaceError("EINVAL", `resolve: a directory holds "${loc.path}"; rename the directory first, or keep "both"`);
    }
    for (const r of rivals) {
      if (r.state === keeper.state || r.state.kind === "d") continue;
      this.keepVisibleCopies(r.state.id);
      this.commit(r.state.id, { head: { v: null, sz: 0 } });
    }
    // Re-claim the name so the kept side is the newest claim from now on.
    if (keeper.state.kind !== "d") this.commit(keeper.state.id, { loc: this.view.placement(keeper.state.id)! });
  }

  /**
   * Writes this pod's slot for `id`: every group merged from all slots seen (newest wins),
   * the changed groups restamped. Slots it supersedes are deleted; slots holding a live
   * head that this write does not replace stay, so a concurrent head is never dropped.
   */
  private commit(id: InodeId, change: Change, newKind?: SlotKind, target?: string, fresh = false): void {
    // Inside a batch an earlier commit may have touched this inode: merge from fresh state.
    this.refreshView();
    const { slot, superseded } = planWrite(this.view.inode(id), change, this.podId, this.hlc.now(), newKind, target);
    if (fresh && this.createBatchMs > 0 && superseded.length === 0) {
      this.holdCreate(id, slot);
      return;
    }
    this.applyHeldCreates();
    const map = this.shardOf(id);
    map.doc!.transact(() => {
      for (const w of superseded) map.delete(slotKey(id, w));
      map.set(slotKey(id, this.podId), encodeSlot(slot, this.podId));
    });
  }

  /** A create's slot: into the view now, as the shard's observer would take it; into the documents with its batch. */
  private holdCreate(id: InodeId, slot: Slot): void {
    const shard = this.shardIndex(id);
    if (shard !== this.heldShard) this.applyHeldCreates();
    const key = slotKey(id, this.podId);
    const value = encodeSlot(slot, this.podId);
    this.held.set(key, value);
    this.heldShard = shard;
    this.setSlot(id, this.podId, value);
    if (this.batchDepth === 0) this.flush();
    if (this.held.size >= MAX_HELD_CREATES) this.applyHeldCreates();
    else this.heldTimer ??= setTimeout(() => this.applyHeldCreates(), this.createBatchMs);
  }
}

/** Why `createsApplied` is cheap when nothing is held: one settled promise for every caller. */
const APPLIED: Promise<void> = Promise.resolve();

/** `id` with its first 8 hex digits moved, within their block of `shardCount` values, to the one that `shardOf` maps to `shard`. */
function inShard(id: InodeId, shard: number, shardCount: number): InodeId {
  const head = parseInt(id.slice(0, 8), 16);
  let moved = head - (head % shardCount) + shard;
  if (moved > 0xffffffff) moved -= shardCount;
  return moved.toString(16).padStart(8, "0") + id.slice(8);
}

/**
 * The value under `key` (what `map.get` returns), read with one lookup. Yjs decodes a map
 * value into `ContentAny.arr` with push(), which reserves room for 17 values for our single
 * one: ~130 bytes wasted per record (measured: 8% of the heap at 100k files). Replacing it
 * with an exact-size copy is invisible to Yjs, which only reads `arr`.
 */
function currentValue(map: Y.Map<unknown>, key: string): unknown {
  const item = map._map.get(key);
  if (item === undefined || item.deleted) return undefined;
  const content = item.content;
  if (content instanceof Y.ContentAny) {
    if (content.arr.length === 1) content.arr = [content.arr[0]];
    return content.arr[content.arr.length - 1];
  }
  return content.getContent()[item.length - 1];
}
