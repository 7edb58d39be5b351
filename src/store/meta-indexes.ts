// The pod's local indexes kept beside the namespace in the metadata database. Each index owns
// one key prefix, keeps an in-memory copy for synchronous lookups, and writes through.
import { assertChunkId } from "./chunk-id.js";
import type { GroupCommit, MetaDb } from "./group-commit.js";

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** All entries under `prefix`, keys without the prefix. */
export async function loadPrefix(db: MetaDb, prefix: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const [key, value] of db.iterator({ gte: prefix, lt: prefix + "\xff" })) out.set(key.slice(prefix.length), value);
  return out;
}

export interface OutboxEntry {
  size: number;
  addedAt: number;
}

/**
 * Versions written on this pod and not yet replicated. Durable (fsync'ed with the namespace
 * updates): after a crash the pod still knows what it owes the cluster, and the cache never
 * evicts their chunks.
 */
export class Outbox {
  static readonly PREFIX = "o!";
  private readonly listeners = new Set<(version: string, added: boolean) => void>();
  /** Sum of the entries' sizes, kept as they change: status asks for it many times a second. */
  private totalBytes = 0;

  constructor(
    private readonly commit: GroupCommit,
    private readonly entries: Map<string, OutboxEntry>,
  ) {
    for (const entry of entries.values()) this.totalBytes += entry.size;
  }

  static async load(db: MetaDb, commit: GroupCommit): Promise<Outbox> {
    const raw = await loadPrefix(db, Outbox.PREFIX);
    return new Outbox(commit, new Map([...raw].map(([k, v]) => [k, JSON.parse(v.toString()) as OutboxEntry])));
  }

  async add(version: string, size: number): Promise<void> {
    assertChunkId(version);
    const entry = { size, addedAt: Date.now() };
    this.totalBytes += size - (this.entries.get(version)?.size ?? 0);
    this.entries.set(version, entry);
    this.emit(version, true);
    await this.commit.enqueue([{ type: "put", key: Outbox.PREFIX + version, value: json(entry) }]);
  }

  async remove(version: string): Promise<void> {
    const entry = this.entries.get(version);
    if (entry === undefined) return;
    this.entries.delete(version);
    this.totalBytes -= entry.size;
    this.emit(version, false);
    await this.commit.enqueue([{ type: "del", key: Outbox.PREFIX + version }]);
  }

  has(version: string): boolean {
    return this.entries.has(version);
  }

  list(): Array<{ version: string } & OutboxEntry> {
    return [...this.entries].map(([version, e]) => ({ version, ...e }));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Total size of the versions waiting. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Called on every add/remove (the cache uses it to protect outbox chunks). */
  onChange(listener: (version: string, added: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(version: string, added: boolean): void {
    for (const listener of this.listeners) listener(version, added);
  }
}

/**
 * Which versions each peer pod announced it holds. Announcements are repeated on every
 * reconnect, so these writes are not fsync'ed individually (they ride the next group commit).
 */
export class PeerHoldings {
  static readonly PREFIX = "h!";
  /**
   * Holders per version, copy-on-write: status and planning read this for every live version
   * many times a second, so a read hands out the stored array instead of a fresh copy.
   */
  private readonly byVersion = new Map<string, readonly string[]>();
  private changes = 0;

  constructor(
    private readonly commit: GroupCommit,
    private readonly byPeer: Map<string, Set<string>>,
  ) {
    for (const [peer, versions] of byPeer) for (const v of versions) this.index(peer, v, true);
  }

  static async load(db: MetaDb, commit: GroupCommit): Promise<PeerHoldings> {
    const byPeer = new Map<string, Set<string>>();
    for (const key of (await loadPrefix(db, PeerHoldings.PREFIX)).keys()) {
      const [peer, version] = key.split("!") as [string, string];
      let set = byPeer.get(peer);
      if (!set) byPeer.set(peer, (set = new Set()));
      set.add(version);
    }
    return new PeerHoldings(commit, byPeer);
  }

  /** Replaces everything known about `peer` with `versions` (a full announcement). */
  replace(peer: string, versions: Iterable<string>): Promise<void> {
    const next = new Set(versions);
    const current = this.byPeer.get(peer) ?? new Set<string>();
    return this.patch(peer, { add: [...next].filter((v) => !current.has(v)), remove: [...current].filter((v) => !next.has(v)) });
  }

  /** Applies an incremental announcement. */
  async patch(peer: string, change: { add?: Iterable<string>; remove?: Iterable<string> }): Promise<void> {
    assertPeerId(peer);
    const ops: Parameters<GroupCommit["enqueue"]>[0] = [];
    let set = this.byPeer.get(peer);
    if (!set) this.byPeer.set(peer, (set = new Set()));
    for (const v of change.add ?? []) {
      assertChunkId(v);
      if (set.has(v)) continue;
      set.add(v);
      this.index(peer, v, true);
      ops.push({ type: "put", key: `${PeerHoldings.PREFIX}${peer}!${v}`, value: Buffer.alloc(0) });
    }
    for (const v of change.remove ?? []) {
      if (!set.delete(v)) continue;
      this.index(peer, v, false);
      ops.push({ type: "del", key: `${PeerHoldings.PREFIX}${peer}!${v}` });
    }
    if (set.size === 0) this.byPeer.delete(peer);
    if (ops.length === 0) return;
    this.changes++;
    await this.commit.enqueue(ops);
  }

  /** Forgets a peer entirely (it left the cluster). */
  forget(peer: string): Promise<void> {
    return this.patch(peer, { remove: [...(this.byPeer.get(peer) ?? [])] });
  }

  /** Grows with every change to the index: a cheap "did anything change since" check. */
  get generation(): number {
    return this.changes;
  }

  versionsOf(peer: string): ReadonlySet<string> {
    return this.byPeer.get(peer) ?? new Set();
  }

  holdersOf(version: string): readonly string[] {
    return this.byVersion.get(version) ?? NO_HOLDERS;
  }

  peers(): string[] {
    return [...this.byPeer.keys()];
  }

  private index(peer: string, version: string, add: boolean): void {
    const holders = this.byVersion.get(version) ?? NO_HOLDERS;
    if (add) {
      if (!holders.includes(peer)) this.byVersion.set(version, [...holders, peer]);
    } else if (holders.includes(peer)) {
      const rest = holders.filter((p) => p !== peer);
      if (rest.length === 0) this.byVersion.delete(version);
      else this.byVersion.set(version, rest);
    }
  }
}

const NO_HOLDERS: readonly string[] = Object.freeze([]);

function assertPeerId(peer: string): void {
  if (typeof peer !== "string" || peer.length === 0 || peer.length > 256 || peer.includes("!")) {
    throw new TypeError(`invalid peer pod id ${JSON.stringify(peer)}: expected 1..256 characters without "!"`);
  }
}

/** Small JSON key/value store for the pod's local state (durable on write). */
export class LocalState {
  static readonly PREFIX = "l!";

  constructor(
    private readonly db: MetaDb,
    private readonly commit: GroupCommit,
  ) {}

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const raw = await this.db.get(LocalState.PREFIX + key);
    return raw === undefined ? undefined : (JSON.parse(raw.toString()) as T);
  }

  put(key: string, value: unknown): Promise<void> {
    return this.commit.enqueue([{ type: "put", key: LocalState.PREFIX + key, value: json(value) }]);
  }

  del(key: string): Promise<void> {
    return this.commit.enqueue([{ type: "del", key: LocalState.PREFIX + key }]);
  }
}

export interface CacheEntry {
  size: number;
  /** Logical access time: higher was used more recently. */
  tick: number;
}

/** Persistent accounting of the chunk cache, so a restart keeps the LRU order and pins. */
export class CacheIndex {
  static readonly PREFIX = "c!";
  static readonly PIN_PREFIX = "p!";

  constructor(
    private readonly db: MetaDb,
    private readonly commit: GroupCommit,
  ) {}

  async load(): Promise<{ entries: Map<string, CacheEntry>; pins: Set<string> }> {
    const raw = await loadPrefix(this.db, CacheIndex.PREFIX);
    const entries = new Map([...raw].map(([id, v]) => [id, JSON.parse(v.toString()) as CacheEntry]));
    const pins = new Set((await loadPrefix(this.db, CacheIndex.PIN_PREFIX)).keys());
    return { entries, pins };
  }

  save(put: Iterable<[string, CacheEntry]>, del: Iterable<string>): Promise<void> {
    const ops: Parameters<GroupCommit["enqueue"]>[0] = [];
    for (const [id, entry] of put) ops.push({ type: "put", key: CacheIndex.PREFIX + id, value: json(entry) });
    for (const id of del) ops.push({ type: "del", key: CacheIndex.PREFIX + id });
    return ops.length ? this.commit.enqueue(ops) : Promise.resolve();
  }

  setPinned(version: string, pinned: boolean): Promise<void> {
    const key = CacheIndex.PIN_PREFIX + version;
    return this.commit.enqueue([pinned ? { type: "put", key, value: Buffer.alloc(0) } : { type: "del", key }]);
  }
}
