// LRU cache of chunks that are not counted replicas (a client pod's reads, a full pod's copies
// of files placed elsewhere), bounded by bytes. Chunks of pinned versions and of outbox
// versions (local writes not yet replicated) are never evicted, nor chunks a reader or writer
// holds a lease on. Eviction runs in the background: admitting or touching a chunk only
// schedules it, so a reader never waits for a deletion.
import type { ChunkStore } from "./chunk-store.js";
import type { CacheEntry } from "./meta-indexes.js";
import type { MetaStore } from "./meta-store.js";
import { readManifest } from "./version.js";

export interface EvictionResult {
  evicted: number;
  freedBytes: number;
}

export class ChunkCache {
  /** Map order is LRU order: oldest first (a touch deletes and re-inserts). */
  private readonly entries: Map<string, CacheEntry>;
  private readonly pins: Set<string>;
  private readonly protectedChunks = new Map<string, number>();
  private readonly protectedVersions = new Map<string, string[]>();
  private readonly pendingProtection = new Set<Promise<void>>();
  private readonly dirty = new Set<string>();
  private used = 0;
  private tick = 0;
  private eviction: Promise<EvictionResult> | undefined;
  private evictAgain = false;
  private backgroundError: Error | undefined;
  private readonly stopOutboxWatch: () => void;

  private constructor(
    private readonly store: ChunkStore,
    private readonly meta: MetaStore,
    readonly maxBytes: number,
    entries: Map<string, CacheEntry>,
    pins: Set<string>,
  ) {
    this.entries = new Map([...entries].sort((a, b) => a[1].tick - b[1].tick));
    for (const e of this.entries.values()) {
      this.used += e.size;
      this.tick = Math.max(this.tick, e.tick);
    }
    this.pins = pins;
    this.stopOutboxWatch = meta.outbox.onChange((version, added) => this.trackProtection(version, added));
  }

  static async open(store: ChunkStore, meta: MetaStore, options: { maxBytes: number }): Promise<ChunkCache> {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 0) {
      throw new RangeError(`cache.max_size must be a non-negative number of bytes, got ${options.maxBytes}`);
    }
    const { entries, pins } = await meta.cacheIndex.load();
    const cache = new ChunkCache(store, meta, options.maxBytes, entries, pins);
    for (const version of pins) cache.trackProtection(version, true);
    for (const { version } of meta.outbox.list()) cache.trackProtection(version, true);
    await Promise.all(cache.pendingProtection);
    cache.scheduleEviction();
    return cache;
  }

  get usedBytes(): number {
    return this.used;
  }

  get chunkCount(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Records a chunk now stored as a cached (non-replica) copy. Resolves once the index entry is durable. */
  async admit(id: string, size: number): Promise<void> {
    const old = this.entries.get(id);
    if (old) this.used -= old.size;
    const entry = { size, tick: ++this.tick };
    this.entries.delete(id);
    this.entries.set(id, entry);
    this.used += size;
    this.dirty.delete(id);
    this.scheduleEviction();
    await this.meta.cacheIndex.save([[id, entry]], []);
  }

  /** Marks a cached chunk as just used. Cheap and synchronous; persisted lazily. */
  touch(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.tick = ++this.tick;
    this.entries.delete(id);
    this.entries.set(id, entry);
    this.dirty.add(id);
  }

  /** Stops tracking a chunk (it became a counted replica, or was deleted by its owner). */
  async forget(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.dirty.delete(id);
    this.used -= entry.size;
    await this.meta.cacheIndex.save([], [id]);
  }

  /** Keeps every chunk of `version` out of eviction until unpinned (persisted). */
  async pin(version: string): Promise<void> {
    if (this.pins.has(version)) return;
    this.pins.add(version);
    await this.meta.cacheIndex.setPinned(version, true);
    this.trackProtection(version, true);
    await Promise.all(this.pendingProtection);
  }

  async unpin(version: string): Promise<void> {
    if (!this.pins.delete(version)) return;
    this.trackProtection(version, false);
    await this.meta.cacheIndex.setPinned(version, false);
    this.scheduleEviction();
  }

  isPinned(version: string): boolean {
    return this.pins.has(version);
  }

  isProtected(id: string): boolean {
    return this.protectedChunks.has(id);
  }

  /** Waits for the background eviction in progress (if any); rethrows its failure. */
  async idle(): Promise<void> {
    while (this.eviction) await this.eviction.catch(() => {});
    if (this.backgroundError) throw this.backgroundError;
  }

  /** Evicts least recently used, unprotected, unheld chunks until the cache fits its budget. */
  async evict(): Promise<EvictionResult> {
    await Promise.all(this.pendingProtection);
    const result: EvictionResult = { evicted: 0, freedBytes: 0 };
    const removed: string[] = [];
    for (const [id, entry] of this.entries) {
      if (this.used <= this.maxBytes) break;
      if (this.protectedChunks.has(id) || this.store.isHeld(id)) continue;
      if (!(await this.store.delete(id))) continue;
      // Re-check: the entry may have been forgotten or re-admitted while we awaited.
      if (this.entries.get(id) !== entry) continue;
      this.entries.delete(id);
      this.dirty.delete(id);
      this.used -= entry.size;
      removed.push(id);
      result.evicted++;
      result.freedBytes += entry.size;
    }
    await this.persistDirty(removed);
    return result;
  }

  async close(): Promise<void> {
    this.stopOutboxWatch();
    await this.idle();
    await this.persistDirty([]);
  }

  private persistDirty(removed: string[]): Promise<void> {
    const put: [string, CacheEntry][] = [];
    for (const id of this.dirty) {
      const entry = this.entries.get(id);
      if (entry) put.push([id, entry]);
    }
    this.dirty.clear();
    return this.meta.cacheIndex.save(put, removed);
  }

  private scheduleEviction(): void {
    if (this.used <= this.maxBytes) return;
    if (this.eviction) {
      this.evictAgain = true;
      return;
    }
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.evict());
    this.eviction = run;
    run.then(
      () => {},
      (err: Error) => {
        this.backgroundError ??= new Error(`cache eviction failed: ${err.message}`, { cause: err });
      },
    ).finally(() => {
      this.eviction = undefined;
      if (this.evictAgain) {
        this.evictAgain = false;
        this.scheduleEviction();
      }
    });
  }

  /** Protects (or releases) the manifest and chunks of `version` from eviction. */
  private trackProtection(version: string, add: boolean): void {
    if (!add) {
      const ids = this.protectedVersions.get(version);
      if (!ids || this.pins.has(version) || this.meta.outbox.has(version)) return;
      this.protectedVersions.delete(version);
      for (const id of ids) {
        const n = this.protectedChunks.get(id)! - 1;
        if (n === 0) this.protectedChunks.delete(id);
        else this.protectedChunks.set(id, n);
      }
      return;
    }
    if (this.protectedVersions.has(version)) return;
    this.protectedVersions.set(version, []);
    const work = (async () => {
      // A version whose manifest is not local yet protects only its manifest id until re-pinned.
      const ids = [version];
      try {
        for (const c of (await readManifest(this.store, version)).chunks) ids.push(c.id);
      } catch {
        // Missing or corrupt manifest: nothing more to protect here.
      }
      if (this.protectedVersions.get(version)?.length !== 0) return; // released meanwhile
      this.protectedVersions.set(version, ids);
      for (const id of ids) this.protectedChunks.set(id, (this.protectedChunks.get(id) ?? 0) + 1);
    })();
    this.pendingProtection.add(work);
    void work.finally(() => this.pendingProtection.delete(work));
  }
}
