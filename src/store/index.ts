// Public API of the storage layer (src/store): one pod's disk.
export { MIN_CHUNK, AVG_CHUNK, MAX_CHUNK, SMALL_FILE_THRESHOLD, chunkLengths } from "./fastcdc.js";
export { chunkId, isChunkId, assertChunkId } from "./chunk-id.js";
export { HashPool, INLINE_LIMIT, type CutBlock, type ChunkedBlock } from "./hash-pool.js";
export { BLOCK_BYTES as CHUNKER_BLOCK_BYTES, OWNED_BLOCKS, RECYCLE_BLOCK, chunkInput, type ChunkSourceInput } from "./chunker.js";
export { ChunkStore, type GcResult } from "./chunk-store.js";
export { Lease } from "./lease.js";
export { WriteBarrier } from "./durable-fs.js";
export { CorruptChunkError, ChunkNotFoundError, ChunkMismatchError, InvalidManifestError } from "./errors.js";
export { encodeManifest, decodeManifest, EMPTY_VERSION, EMPTY_MANIFEST, type Manifest, type ManifestEntry } from "./manifest.js";
export {
  writeVersion,
  BULK_MIN_BYTES,
  readManifest,
  readRange,
  VersionReader,
  collectLiveChunks,
  type VersionSource,
  type WriteVersionOptions,
  type WrittenVersion,
  type ChunkSource,
} from "./version.js";
export { MetaStore } from "./meta-store.js";
export { Outbox, PeerHoldings, LocalState, CacheIndex, type OutboxEntry, type CacheEntry } from "./meta-indexes.js";
export { ChunkCache, type EvictionResult } from "./chunk-cache.js";
