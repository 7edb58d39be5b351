// One pod's chunk store: content-addressed files under <data>/chunks/ab/cd/<sha256>.
//
// Durability: a chunk is acknowledged only after its bytes were fdatasync'ed under a temp name,
// renamed into place, and the new name was made durable (fsync of its directory, or a syncfs
// that started after the rename). Many chunks (a large version) go through FileSystemCommit:
// a few syncfs rounds instead of one journal commit per file.
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { assertChunkId, chunkId } from "./chunk-id.js";
import { WriteBarrier, exists, fsyncDir, mkdirIfMissing, readdirOrEmpty, settledOrThrow, syncAndClose } from "./durable-fs.js";
import { FileSystemCommit } from "./filesystem-sync.js";
import { Lease } from "./lease.js";
import { ChunkMismatchError, ChunkNotFoundError, CorruptChunkError } from "./errors.js";
import { HashPool, INLINE_LIMIT } from "./hash-pool.js";
import { ownedCopy } from "./owned-copy.js";
import { RecentBytes } from "./recent-bytes.js";
import { RecentSet } from "./recent-set.js";
import { EMPTY_MANIFEST, EMPTY_VERSION } from "./manifest.js";

export interface GcResult {
  deleted: number;
  freedBytes: number;
  skippedHeld: number;
}

/** About 16 GiB of chunks at the 1 MiB average; the ids take about 2 MB. */
const RECENTLY_VERIFIED_CHUNKS = 16_384;
/** Manifests and other small chunks: kept in memory once written or verified (see recent-bytes.ts). */
const SMALL_CHUNK_BYTES = 4096;
const SMALL_CHUNKS_KEPT_BYTES = 4 * 1024 * 1024;
/** Chunks served to a peer, for the next peer asking for the same (every target of an upload does). */
const SERVED_CHUNK_MAX_BYTES = 1024 * 1024;
const SERVED_CHUNKS_KEPT_BYTES = 16 * 1024 * 1024;

export class ChunkStore {
  private readonly holds = new Map<string, number>();
  /** Chunks being unlinked right now; a put of the same id waits, then writes it again. */
  private readonly deleting = new Map<string, Promise<void>>();
  /** Chunks being written right now; a second writer of the same id waits for the first. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly knownDirs = new Map<string, KnownDir>();
  /** Chunks this process wrote or verified lately: `getForPeer` serves them without hashing. */
  private readonly recentlyVerified = new RecentSet(RECENTLY_VERIFIED_CHUNKS);
  /** Verified bytes of small chunks: `get` answers from here without a file read. */
  private readonly smallChunks = new RecentBytes(SMALL_CHUNKS_KEPT_BYTES, SMALL_CHUNK_BYTES);
  /** Bytes lately served to peers, unverified like every `getForPeer` answer: only served again. */
  private readonly servedChunks = new RecentBytes(SERVED_CHUNKS_KEPT_BYTES, SERVED_CHUNK_MAX_BYTES);
  private readonly commits: FileSystemCommit;
  private used = 0;
  private count = 0;

  private constructor(
    readonly dir: string,
    private readonly pool: HashPool,
  ) {
    this.commits = new FileSystemCommit(dir);
  }

  get chunksDir(): string {
    return path.join(this.dir, "chunks");
  }

  get quarantineDir(): string {
    return path.join(this.dir, "quarantine");
  }

  private get tmpDir(): string {
    return path.join(this.dir, "tmp");
  }

  /** Opens (creating if needed) the store in `dir`; removes temp files left by a crash. */
  static async open(dir: string, options: { pool?: HashPool } = {}): Promise<ChunkStore> {
    const store = new ChunkStore(path.resolve(dir), options.pool ?? HashPool.shared());
    for (const d of [store.dir, store.chunksDir, store.quarantineDir]) await fsp.mkdir(d, { recursive: true });
    await fsp.rm(store.tmpDir, { recursive: true, force: true });
    await fsp.mkdir(store.tmpDir);
    await fsyncDir(store.dir);
    store.commits.prepare();
    await store.scan();
    if (!(await store.has(EMPTY_VERSION))) await store.put(EMPTY_MANIFEST);
    return store;
  }

  /** Bytes of chunk content stored (file sizes, not disk blocks). */
  get usedBytes(): number {
    return this.used;
  }

  get chunkCount(): number {
    return this.count;
  }

  /**
   * Stores `data`, returns its id. Idempotent: an existing chunk is not written again.
   * Pass a `lease` to keep the chunk safe from gc until it is referenced by something live.
   */
  async put(data: Uint8Array, lease?: Lease): Promise<string> {
    const id = await this.idOf(data);
    lease?.hold(id);
    const barrier = new WriteBarrier();
    await this.putMany([{ id, data }], barrier);
    await barrier.done();
    return id;
  }

  /** Stores a chunk received from elsewhere under its announced id; rejects data that does not match. */
  async putVerified(id: string, data: Uint8Array, lease?: Lease): Promise<void> {
    assertChunkId(id);
    const actual = await this.idOf(data);
    if (actual !== id) throw new ChunkMismatchError(id, actual);
    lease?.hold(id);
    const barrier = new WriteBarrier();
    await this.putMany([{ id, data }], barrier);
    await barrier.done();
  }

  /**
   * Writes chunks whose ids the caller computed itself. Every new one is written under a temp
   * name first, then, depending on `barrier.bulk`:
   * - per file: fdatasync them all at once (concurrent syncs share journal commits), rename
   *   each; their directory entries are durable after `barrier.done()`. Resolves when renamed.
   * - bulk: hand them to the FileSystemCommit (syncfs rounds, see filesystem-sync.ts) and resolve
   *   as soon as they are written; `barrier.done()` waits until they are durable in place.
   * Returns how many chunks were new. Once it resolves, the store holds no reference to the
   * chunks' `data`: the caller may reuse that memory (the sequential feed recycles blocks).
   */
  async putMany(chunks: Iterable<{ id: string; data: Uint8Array }>, barrier: WriteBarrier): Promise<number> {
    // A short hold so a concurrent gc cannot unlink a chunk we find already present.
    const lease = this.lease();
    const mine: { id: string; data: Uint8Array }[] = [];
    let settle: (err?: unknown) => void = () => {};
    const ours = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    ours.catch(() => {});
    for (const { id, data } of chunks) {
      if (lease.has(id)) continue; // the same chunk twice in one batch
      lease.hold(id);
      const other = this.writing.get(id);
      if (other) {
        // Another writer is storing these bytes right now: its success is ours.
        barrier.track(other);
        barrier.addDir(path.dirname(this.pathOf(id)));
        continue;
      }
      this.writing.set(id, ours);
      mine.push({ id, data });
    }
    const finish = (err?: unknown) => {
      settle(err);
      for (const { id } of mine) this.writing.delete(id);
      lease.release();
    };
    try {
      const staged = settledOrThrow(await Promise.allSettled(mine.map(({ id, data }) => this.stage(id, data, barrier))), (s) => s && discard(s));
      const present = staged.filter((s): s is StagedChunk => s !== undefined);
      if (barrier.bulk) {
        const commits = present.map((s) => this.commits.commit({ handle: s.handle, publish: () => this.publish(s), discard: () => fsp.rm(s.tmp, { force: true }) }));
        barrier.track(
          Promise.allSettled(commits).then((results) => {
            const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
            finish(failed?.reason);
            if (failed) throw failed.reason;
          }),
        );
        return present.length;
      }
      settledOrThrow(await Promise.allSettled(present.map((s) => syncAndClose(s.handle))), () => {}, () => Promise.all(present.map((s) => fsp.rm(s.tmp, { force: true }))));
      for (const s of present) barrier.addDir(await this.publish(s));
      finish();
      return present.length;
    } catch (err) {
      finish(err);
      throw err;
    }
  }

  /** Renames a durable temp file to its chunk name; returns the directory to fsync. */
  private async publish(staged: StagedChunk): Promise<string> {
    const file = this.pathOf(staged.id);
    await fsp.rename(staged.tmp, file);
    this.recentlyVerified.add(staged.id); // its id was computed from these bytes
    if (staged.small) this.smallChunks.add(staged.id, staged.small);
    this.used += staged.size;
    this.count++;
    return path.dirname(file);
  }

  /** Phase 1 of putMany: writes a new chunk under a temp name (undefined if already stored). */
  private async stage(id: string, data: Uint8Array, barrier: WriteBarrier): Promise<StagedChunk | undefined> {
    await this.deleting.get(id);
    const file = this.pathOf(id);
    if (this.mayHold(id) && (await exists(file))) {
      // Possibly renamed by a writer whose directory fsync has not run yet: sync it too.
      barrier.addDir(path.dirname(file));
      return undefined;
    }
    const dir = this.ensureDir(path.dirname(file), barrier.bulk);
    // Bulk writes need the directory to exist; its entry becomes durable in their syncfs round.
    await (barrier.bulk ? dir.made : dir.durable);
    const tmp = path.join(this.tmpDir, `${id}.${randomBytes(6).toString("hex")}`);
    const handle = await fsp.open(tmp, "wx");
    try {
      await handle.writeFile(data);
    } catch (err) {
      await handle.close();
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    // `small` is kept until publish, which in bulk mode comes after putMany resolved and the
    // caller may have reused `data`: it is copied (at most 4 KiB), in memory of its own, which
    // the small-chunk cache then keeps as it is.
    return { id, tmp, handle, size: data.length, small: data.length <= SMALL_CHUNK_BYTES ? ownedCopy(data) : undefined };
  }

  /** The chunk's bytes, verified against its id (hashed in the HashPool when large). */
  async get(id: string): Promise<Buffer> {
    const kept = this.smallChunks.get(id);
    if (kept) return kept;
    const raw = await this.readRaw(id);
    const { id: actual, data } = await this.pool.hash(raw, true);
    if (actual !== id) throw await this.quarantine(id, data.length);
    this.recentlyVerified.add(id);
    this.smallChunks.add(id, data);
    return data;
  }

  /**
   * The chunk's bytes for a peer that verifies them on arrival (ChunkPull does, and discards
   * a mismatch). Hashed here too, as `get` does, unless this process wrote or verified the
   * chunk lately: replicating a fresh 1 GiB file to two pods would otherwise hash it twice
   * more on the sending pod. Bytes that rotted since are still caught by the receiver.
   * Served bytes are kept for the next peer asking (see recent-bytes.ts); a small chunk's
   * kept bytes answer too.
   */
  async getForPeer(id: string): Promise<Buffer> {
    const kept = this.smallChunks.get(id) ?? this.servedChunks.get(id);
    if (kept) return kept;
    const data = this.recentlyVerified.has(id) ? await this.readRaw(id) : await this.get(id);
    this.servedChunks.add(id, data);
    return data;
  }

  /** The chunk file's bytes as stored, unverified. */
  private async readRaw(id: string): Promise<Buffer> {
    assertChunkId(id);
    let handle: FileHandle;
    try {
      handle = await fsp.open(this.pathOf(id), "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new ChunkNotFoundError(id);
      throw err;
    }
    let raw: Buffer;
    try {
      const { size } = await handle.stat();
      // Owned memory, so the bytes can move to a hashing worker and back without a copy.
      raw = size > INLINE_LIMIT ? Buffer.allocUnsafeSlow(size) : Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(raw, 0, size, 0);
      raw = raw.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    return raw;
  }

  async has(id: string): Promise<boolean> {
    assertChunkId(id);
    return this.mayHold(id) && exists(this.pathOf(id));
  }

  /**
   * False when the chunk's directory does not exist: then it is absent without a file-system
   * call. `knownDirs` lists every chunk directory (found at open, or made since), and only
   * this process writes the store. A young store has few of its 65,536 directories, so most
   * new chunks are answered here (each `access` that fails also builds an error object).
   */
  private mayHold(id: string): boolean {
    return this.knownDirs.has(path.dirname(this.pathOf(id)));
  }

  /** Size in bytes of a stored chunk, or undefined when absent. */
  async sizeOf(id: string): Promise<number | undefined> {
    assertChunkId(id);
    try {
      return (await fsp.stat(this.pathOf(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** Protects chunk ids from gc/delete until `release()`. Readers and writers take one. */
  lease(): Lease {
    return new Lease(this.holds);
  }

  isHeld(id: string): boolean {
    return this.holds.has(id);
  }

  /** Deletes a chunk unless a lease holds it. Returns true when something was deleted. */
  async delete(id: string): Promise<boolean> {
    assertChunkId(id);
    if (this.holds.has(id) || id === EMPTY_VERSION) return false;
    const pending = this.deleting.get(id);
    if (pending) {
      await pending;
      return false;
    }
    const file = this.pathOf(id);
    this.forget(id);
    const work = (async () => {
      try {
        const { size } = await fsp.stat(file);
        await fsp.unlink(file);
        this.used -= size;
        this.count--;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    })();
    this.deleting.set(id, work.then(() => undefined, () => undefined));
    try {
      await work;
      return true;
    } finally {
      this.deleting.delete(id);
    }
  }

  /** Every stored chunk id (walks the directory tree). */
  async *list(): AsyncGenerator<string> {
    for (const a of await readdirOrEmpty(this.chunksDir)) {
      for (const b of await readdirOrEmpty(path.join(this.chunksDir, a))) {
        for (const name of await readdirOrEmpty(path.join(this.chunksDir, a, b))) yield name;
      }
    }
  }

  /** Deletes every chunk for which `isLive(id)` is false and that no lease holds. */
  async gc(isLive: (id: string) => boolean): Promise<GcResult> {
    const result: GcResult = { deleted: 0, freedBytes: 0, skippedHeld: 0 };
    for await (const id of this.list()) {
      if (id === EMPTY_VERSION || isLive(id)) continue;
      if (this.holds.has(id)) {
        result.skippedHeld++;
        continue;
      }
      const before = this.used;
      if (await this.delete(id)) {
        result.deleted++;
        result.freedBytes += before - this.used;
      }
    }
    return result;
  }

  pathOf(id: string): string {
    return path.join(this.chunksDir, id.slice(0, 2), id.slice(2, 4), id);
  }

  /** SHA-256 of `data`, in the HashPool when large so the caller's thread stays free. */
  private async idOf(data: Uint8Array): Promise<string> {
    if (data.length <= INLINE_LIMIT) return chunkId(data);
    return (await this.pool.hash(Buffer.from(data.buffer, data.byteOffset, data.byteLength))).id;
  }

  /**
   * Drops what this process remembers of a chunk's bytes (it is being deleted or moved aside).
   * A read racing with the delete may keep them again: they are still that chunk's bytes
   * (content-addressed), so the cost is memory until they age out, never wrong data.
   */
  private forget(id: string): void {
    this.recentlyVerified.delete(id);
    this.smallChunks.delete(id);
    this.servedChunks.delete(id);
  }

  /** Moves a corrupt chunk aside so it is never served again, keeping it for inspection. */
  private async quarantine(id: string, length: number): Promise<CorruptChunkError> {
    this.forget(id);
    const target = path.join(this.quarantineDir, `${id}.${Date.now()}.${randomBytes(3).toString("hex")}`);
    try {
      await fsp.rename(this.pathOf(id), target);
      this.used -= length;
      this.count--;
    } catch (err) {
      // A concurrent reader quarantined it first.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    await fsyncDir(path.dirname(this.pathOf(id)));
    await fsyncDir(this.quarantineDir);
    return new CorruptChunkError(id, target);
  }

  /**
   * Creates chunks/ab/cd on first use. Memoized, so a second writer into the same new directory
   * waits for it too. `made`: the directory exists; `durable`: its entry (and its parent's)
   * survives power loss — by an fsync of the parent, or by the next syncfs round, which a bulk
   * write runs anyway after its renames.
   */
  private ensureDir(dir: string, bulk: boolean): KnownDir {
    let known = this.knownDirs.get(dir);
    if (!known) {
      const parent = path.dirname(dir);
      const above = parent === this.chunksDir ? READY_DIR : this.ensureDir(parent, bulk);
      const created = above.made.then(() => mkdirIfMissing(dir));
      const made = created.then(() => {});
      const durable = created.then(async (fresh) => {
        if (fresh) await (bulk ? this.commits.entryDurable(parent) : fsyncDir(parent));
        await above.durable;
      });
      made.catch(() => {});
      durable.catch(() => this.knownDirs.delete(dir)); // retry on the next write
      known = { made, durable };
      this.knownDirs.set(dir, known);
    }
    return known;
  }

  private async scan(): Promise<void> {
    for (const a of await readdirOrEmpty(this.chunksDir)) {
      const top = path.join(this.chunksDir, a);
      this.knownDirs.set(top, READY_DIR);
      for (const b of await readdirOrEmpty(top)) {
        const dir = path.join(top, b);
        this.knownDirs.set(dir, READY_DIR);
        // A directory's stats run in parallel: open waits per directory, not per chunk.
        const sizes = await Promise.all((await readdirOrEmpty(dir)).map(async (name) => (await fsp.stat(path.join(dir, name))).size));
        for (const size of sizes) this.used += size;
        this.count += sizes.length;
      }
    }
  }
}

interface KnownDir {
  made: Promise<void>;
  durable: Promise<void>;
}

const READY_DIR: KnownDir = { made: Promise.resolve(), durable: Promise.resolve() };

interface StagedChunk {
  id: string;
  tmp: string;
  handle: FileHandle;
  size: number;
  /** The bytes, when small enough to be kept in memory once published. */
  small?: Uint8Array;
}

async function discard(staged: StagedChunk): Promise<void> {
  await staged.handle.close().catch(() => {});
  await fsp.rm(staged.tmp, { force: true });
}
