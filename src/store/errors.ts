// Errors of the storage layer. Each says what went wrong and what the caller can do.

/** A stored chunk whose bytes no longer hash to its id. It has been moved to quarantine. */
export class CorruptChunkError extends Error {
  override readonly name = "CorruptChunkError";
  constructor(
    readonly id: string,
    readonly quarantinedAt: string,
  ) {
    super(`chunk ${id} is corrupt on disk (content hash mismatch); moved to ${quarantinedAt}. Fetch it again from a replica.`);
  }
}

export class ChunkNotFoundError extends Error {
  override readonly name = "ChunkNotFoundError";
  readonly code = "ENOENT";
  constructor(readonly id: string) {
    super(`chunk ${id} is not in this store: pull it from a pod that holds it`);
  }
}

/** Bytes offered under an id they do not hash to (e.g. a chunk received from a peer). */
export class ChunkMismatchError extends Error {
  override readonly name = "ChunkMismatchError";
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`chunk data hashes to ${actual}, not to the announced id ${expected}: rejected, nothing stored`);
  }
}

/** A manifest that cannot be decoded: truncated, wrong magic, or inconsistent lengths. */
export class InvalidManifestError extends Error {
  override readonly name = "InvalidManifestError";
  constructor(reason: string) {
    super(`invalid manifest: ${reason}`);
  }
}
