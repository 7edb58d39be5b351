// Versions: a file's content as chunks + a manifest. Writing streams the input through the
// HashPool block by block; reading serves any byte range without loading the whole file.
import { chunkId } from "./chunk-id.js";
import type { ChunkStore } from "./chunk-store.js";
import { WriteBarrier } from "./durable-fs.js";
import type { Lease } from "./lease.js";
import { ChunkMismatchError, ChunkNotFoundError, CorruptChunkError, InvalidManifestError } from "./errors.js";
import { chunkInput, type ChunkSourceInput } from "./chunker.js";
import { HashPool } from "./hash-pool.js";
import { decodeManifest, encodeManifest, type Manifest, type ManifestEntry } from "./manifest.js";

/** Blocks (~16 MiB of chunks each) being written and synced at once. */
const WRITE_BATCHES_IN_FLIGHT = 2;

/** One block's chunks, and how to hand the block's memory back once they are stored. */
interface Batch {
  chunks: { id: string; data: Buffer }[];
  release?: () => void;
}
/**
 * From this size on a version is committed in syncfs rounds (FileSystemCommit) instead of one
 * fdatasync + directory fsync per chunk. Below it, spawning `sync` costs more than it saves and
 * syncfs would also wait for other programs' dirty data (measured: docs/storage.md).
 */
export const BULK_MIN_BYTES = 16 * 1024 * 1024;
/** Bulk blocks written but not yet durable: bounds open temp files to ~512 MiB of chunks. */
const BULK_BLOCKS_UNCOMMITTED = 32;
/** Chunks fetched ahead of a sequential reader: disk reads and hashing of several overlap. */
const READ_AHEAD = 3;

export type VersionSource = ChunkSourceInput;

export interface WriteVersionOptions {
  /**
   * Holds every chunk and the manifest from the moment it is written. Pass one and release it
   * once the version is recorded (namespace, outbox), so gc cannot collect it in between.
   */
  lease?: Lease;
  pool?: HashPool;
  /** Force (true) or forbid (false) bulk commits; by default a version of BULK_MIN_BYTES or more uses them. */
  bulk?: boolean;
}

export interface WrittenVersion {
  /** Id of the manifest chunk: what the namespace records. */
  version: string;
  size: number;
  chunks: ManifestEntry[];
  /** How many chunks (including the manifest) were not already in the store. */
  newChunks: number;
}

/**
 * Stores a file's content (a file path, a Readable or any async iterable of bytes) as chunks
 * plus a manifest. Resolves once every chunk and the manifest are durable.
 */
export async function writeVersion(store: ChunkStore, source: VersionSource, options: WriteVersionOptions = {}): Promise<WrittenVersion> {
  const lease = options.lease ?? store.lease();
  let barrier = options.bulk === undefined ? undefined : new WriteBarrier(options.bulk);
  const inFlight = new Set<Promise<number>>();
  const chunks: ManifestEntry[] = [];
  /** Batches held back until we know whether the version is large enough for bulk commits. */
  const held: Batch[] = [];
  let size = 0;
  let newChunks = 0;
  const write = async ({ chunks: batch, release }: Batch, to: WriteBarrier) => {
    // One block's chunks are written (and synced) together, overlapping the next block's.
    while (inFlight.size >= WRITE_BATCHES_IN_FLIGHT) await Promise.race(inFlight);
    if (to.bulk) await to.waitBelow(BULK_BLOCKS_UNCOMMITTED);
    const put = store.putMany(batch, to);
    inFlight.add(put);
    put.then(
      (n) => {
        newChunks += n;
        release?.(); // the store no longer needs the block's memory (putMany's contract)
      },
      () => {},
    ).finally(() => inFlight.delete(put));
  };
  try {
    for await (const block of chunkInput(source, options.pool ?? HashPool.shared())) {
      const batch: { id: string; data: Buffer }[] = [];
      let pos = 0;
      for (let i = 0; i < block.lengths.length; i++) {
        const id = block.ids[i]!;
        const length = block.lengths[i]!;
        batch.push({ id, data: block.data.subarray(pos, pos + length) });
        pos += length;
        size += length;
        lease.hold(id);
        chunks.push({ id, length });
      }
      held.push({ chunks: batch, release: block.release });
      if (!barrier && size >= BULK_MIN_BYTES) barrier = new WriteBarrier(true);
      if (barrier) for (const b of held.splice(0)) await write(b, barrier);
    }
    barrier ??= new WriteBarrier(false);
    for (const b of held.splice(0)) await write(b, barrier);
    await Promise.all(inFlight);
    const manifest = encodeManifest({ size, chunks });
    const version = chunkId(manifest);
    lease.hold(version);
    newChunks += await store.putMany([{ id: version, data: manifest }], barrier);
    await barrier.done();
    return { version, size, chunks, newChunks };
  } finally {
    await Promise.allSettled(inFlight);
    await barrier?.done().catch(() => {}); // no temp file outlives a failed write's commits
    if (!options.lease) lease.release();
  }
}

/** The manifest of `version`, from the store or (if missing or corrupt locally) from `getChunk`. */
export async function readManifest(store: ChunkStore, version: string, getChunk?: ChunkSource): Promise<Manifest> {
  return decodeManifest(await fetchChunk(store, version, getChunk));
}

/** Where chunks missing locally come from (the pod plugs network pulls in here). */
export type ChunkSource = (id: string) => Promise<Uint8Array>;

/**
 * Random-access reader of one version. Holds a lease on the manifest and its chunks while open,
 * keeps the last chunks it decoded and reads ahead on sequential access.
 */
export class VersionReader {
  private readonly starts: Float64Array;
  private readonly recent = new Map<number, Promise<Buffer>>();
  private lastIndex = -1;

  private constructor(
    private readonly store: ChunkStore,
    readonly version: string,
    readonly manifest: Manifest,
    private readonly lease: Lease,
    private readonly getChunk?: ChunkSource,
  ) {
    this.starts = new Float64Array(manifest.chunks.length + 1);
    let pos = 0;
    manifest.chunks.forEach((c, i) => {
      this.starts[i] = pos;
      pos += c.length;
    });
    this.starts[manifest.chunks.length] = pos;
  }

  static async open(store: ChunkStore, version: string, getChunk?: ChunkSource): Promise<VersionReader> {
    const lease = store.lease();
    lease.hold(version);
    try {
      const manifest = await readManifest(store, version, getChunk);
      for (const c of manifest.chunks) lease.hold(c.id);
      return new VersionReader(store, version, manifest, lease, getChunk);
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  get size(): number {
    return this.manifest.size;
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the file, none past it). */
  async read(offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`invalid byte range offset=${offset} length=${length}: both must be non-negative integers`);
    }
    const end = Math.min(offset + length, this.size);
    if (offset >= end) return Buffer.alloc(0);
    const pieces: Buffer[] = [];
    for (let i = this.indexOf(offset); i < this.manifest.chunks.length && this.starts[i]! < end; i++) {
      const data = await this.chunk(i);
      const chunkStart = this.starts[i]!;
      pieces.push(data.subarray(Math.max(offset, chunkStart) - chunkStart, Math.min(end, this.starts[i + 1]!) - chunkStart));
    }
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  }

  close(): void {
    this.recent.clear();
    this.lease.release();
  }

  private indexOf(offset: number): number {
    let lo = 0;
    let hi = this.manifest.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private chunk(index: number): Promise<Buffer> {
    const sequential = index === this.lastIndex + 1 || index === this.lastIndex;
    this.lastIndex = index;
    const data = this.load(index);
    if (sequential) for (let ahead = index + 1; ahead <= index + READ_AHEAD && ahead < this.manifest.chunks.length; ahead++) this.load(ahead).catch(() => {});
    // Keep the window small: the current chunk, one behind, READ_AHEAD ahead.
    for (const i of this.recent.keys()) if (i < index - 1 || i > index + READ_AHEAD) this.recent.delete(i);
    return data;
  }

  private load(index: number): Promise<Buffer> {
    let data = this.recent.get(index);
    if (!data) {
      const entry = this.manifest.chunks[index]!;
      data = fetchChunk(this.store, entry.id, this.getChunk).then((bytes) => {
        // The hash proves the bytes; only the length can still disagree (a forged manifest).
        if (bytes.length !== entry.length) {
          throw new InvalidManifestError(`version ${this.version} says chunk ${index} (${entry.id}) has ${entry.length} bytes, it has ${bytes.length}`);
        }
        return bytes;
      });
      const loaded = data;
      this.recent.set(index, loaded);
      loaded.catch(() => {
        if (this.recent.get(index) === loaded) this.recent.delete(index);
      });
    }
    return data;
  }
}

/** Reads one byte range of a version (opens and closes a VersionReader). */
export async function readRange(store: ChunkStore, version: string, offset: number, length: number, getChunk?: ChunkSource): Promise<Buffer> {
  const reader = await VersionReader.open(store, version, getChunk);
  try {
    return await reader.read(offset, length);
  } finally {
    reader.close();
  }
}

/** Every chunk id (manifests included) that the given versions need: the live set for gc. */
export async function collectLiveChunks(store: ChunkStore, versions: Iterable<string>): Promise<Set<string>> {
  const live = new Set<string>();
  for (const version of versions) {
    live.add(version);
    const manifest = await readManifest(store, version);
    for (const c of manifest.chunks) live.add(c.id);
  }
  return live;
}

/** A chunk from the local store; if it is missing or corrupt there, from `getChunk`, verified. */
async function fetchChunk(store: ChunkStore, id: string, getChunk?: ChunkSource): Promise<Buffer> {
  try {
    return await store.get(id);
  } catch (err) {
    if (!getChunk || !(err instanceof ChunkNotFoundError || err instanceof CorruptChunkError)) throw err;
  }
  const bytes = await getChunk(id);
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const actual = chunkId(data);
  if (actual !== id) throw new ChunkMismatchError(id, actual);
  return data;
}
