// Chunk ids: lowercase hex SHA-256 of the chunk's bytes.
import { createHash } from "node:crypto";

export const CHUNK_ID_BYTES = 32;
const ID_PATTERN = /^[0-9a-f]{64}$/;

export function chunkId(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function isChunkId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/** Throws a clear error for anything that is not a chunk id (ids arrive from peers and paths). */
export function assertChunkId(value: unknown): asserts value is string {
  if (!isChunkId(value)) {
    throw new TypeError(`invalid chunk id ${JSON.stringify(value)}: expected 64 lowercase hex characters (SHA-256)`);
  }
}
