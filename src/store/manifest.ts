// Manifest: the ordered chunk list and size of one version, stored as a chunk itself. Its id
// is the version id the namespace records.
//
// Binary layout (big-endian), compact so a 100 GiB file costs ~3.6 MB:
//   "WHM1" | size u64 | count u32 | count × ( sha256 32 bytes | length u32 )
// Manifests arrive from peers, so decoding validates every length before trusting it.
import { chunkId, CHUNK_ID_BYTES } from "./chunk-id.js";
import { InvalidManifestError } from "./errors.js";
import { MAX_CHUNK } from "./fastcdc.js";

export interface ManifestEntry {
  id: string;
  length: number;
}

export interface Manifest {
  size: number;
  chunks: ManifestEntry[];
}

const MAGIC = Buffer.from("WHM1", "latin1");
const HEADER_BYTES = MAGIC.length + 8 + 4;
const ENTRY_BYTES = CHUNK_ID_BYTES + 4;

export function encodeManifest(manifest: Manifest): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + manifest.chunks.length * ENTRY_BYTES);
  MAGIC.copy(out, 0);
  out.writeBigUInt64BE(BigInt(manifest.size), 4);
  out.writeUInt32BE(manifest.chunks.length, 12);
  let pos = HEADER_BYTES;
  for (const { id, length } of manifest.chunks) {
    if (out.write(id, pos, CHUNK_ID_BYTES, "hex") !== CHUNK_ID_BYTES) throw new InvalidManifestError(`bad chunk id ${id}`);
    out.writeUInt32BE(length, pos + CHUNK_ID_BYTES);
    pos += ENTRY_BYTES;
  }
  return out;
}

export function decodeManifest(data: Uint8Array): Manifest {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER_BYTES) throw new InvalidManifestError(`${buf.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new InvalidManifestError("wrong magic (not a WHM1 manifest)");
  const bigSize = buf.readBigUInt64BE(4);
  if (bigSize > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidManifestError(`size ${bigSize} is too large`);
  const size = Number(bigSize);
  const count = buf.readUInt32BE(12);
  const expected = HEADER_BYTES + count * ENTRY_BYTES;
  if (buf.length !== expected) throw new InvalidManifestError(`${count} chunks need ${expected} bytes, got ${buf.length}`);
  const chunks: ManifestEntry[] = new Array(count);
  let total = 0;
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const length = buf.readUInt32BE(pos + CHUNK_ID_BYTES);
    if (length === 0 || length > MAX_CHUNK) throw new InvalidManifestError(`chunk ${i} has length ${length} (allowed 1..${MAX_CHUNK})`);
    chunks[i] = { id: buf.toString("hex", pos, pos + CHUNK_ID_BYTES), length };
    total += length;
    pos += ENTRY_BYTES;
  }
  if (total !== size) throw new InvalidManifestError(`chunk lengths add up to ${total}, but size says ${size}`);
  return { size, chunks };
}

/** The manifest of every empty file; stored in every chunk store at open. */
export const EMPTY_MANIFEST: Buffer = encodeManifest({ size: 0, chunks: [] });
/** Version id of the empty file. */
export const EMPTY_VERSION: string = chunkId(EMPTY_MANIFEST);
