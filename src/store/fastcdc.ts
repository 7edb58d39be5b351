// FastCDC content-defined chunking (Xia et al., 2016/2020), our own implementation.
//
// Why these sizes (see docs/storage.md for the measurements):
// - AVG 1 MiB: DESIGN asks for about 1 MiB. A 500 GiB file is ~500k chunks and a ~18 MB
//   manifest; a 1 KiB file is one chunk. Smaller averages multiply per-chunk costs (one file,
//   one fsync, one network request, 36 manifest bytes each) for little extra dedup.
// - MIN 256 KiB (AVG/4): FastCDC skips hashing the first MIN bytes of every chunk, which is
//   most of why the gear loop runs faster than its raw speed, and it bounds the number of
//   tiny chunks; it is small enough that a cut point is found again soon after an edit.
// - MAX 4 MiB (AVG*4): bounds memory per chunk and worst-case latency of one pull; with
//   normalized chunking fewer than 1 in 10^4 random chunks hit it.
// - Normalization level 2: a harder mask (22 bits) before AVG and an easier one (18 bits)
//   after it, which narrows the size distribution around AVG.
import { createHash } from "node:crypto";
import { GearScanner } from "./gear-scan.js";

export const MIN_CHUNK = 256 * 1024;
export const AVG_CHUNK = 1024 * 1024;
export const MAX_CHUNK = 4 * 1024 * 1024;
/** Inputs of at most this many bytes are stored as one chunk, without looking for cut points. */
export const SMALL_FILE_THRESHOLD = AVG_CHUNK;

// Masks use the HIGH bits of the 32-bit gear hash: with `h = (h << 1) + G[b]`, bit k depends
// on the last k+1 bytes, so high bits see the widest window.
const MASK_HARD = 0xfffffc00 | 0; // 22 bits: used before AVG
const MASK_EASY = 0xffffc000 | 0; // 18 bits: used after AVG

/**
 * The gear table must be identical on every pod forever (boundaries decide dedup), so it is
 * derived deterministically from SHA-256 rather than from Math.random.
 */
const GEAR: Int32Array = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = createHash("sha256").update(`wormhole-gear-${i}`).digest().readInt32LE(0);
  }
  return table;
})();

/** One scanner per thread: chunking is synchronous, so a load is never interleaved with another. */
const scanner = new GearScanner(GEAR);

/**
 * Length of the chunk that starts at `start` of the loaded input, given the bytes available in
 * [start, end). Returns -1 when more input is needed to decide (only when `final` is false).
 */
function cutPoint(start: number, end: number, final: boolean): number {
  const available = end - start;
  if (available <= MIN_CHUNK) return final ? available : -1;
  const limit = Math.min(end, start + MAX_CHUNK);
  const normal = Math.min(limit, start + AVG_CHUNK);
  let cut = scanner.scan(start + MIN_CHUNK, normal, MASK_HARD, 0);
  if (cut < 0) cut = scanner.scan(normal, limit, MASK_EASY, scanner.lastHash);
  if (cut >= 0) return cut - start;
  if (limit === start + MAX_CHUNK) return MAX_CHUNK;
  return final ? available : -1;
}

/** Chunk lengths for one block of input; `consumed` bytes are covered, the rest must be carried over. */
export function chunkLengths(data: Uint8Array, final: boolean): { lengths: number[]; consumed: number } {
  scanner.load(data);
  const lengths: number[] = [];
  let pos = 0;
  while (pos < data.length) {
    const len = cutPoint(pos, data.length, final);
    if (len < 0) break;
    lengths.push(len);
    pos += len;
  }
  return { lengths, consumed: pos };
}

/**
 * Cut points of one block found independently (as if a chunk started at the block's first
 * byte) equal the true ones from the first offset where both chains cut: chunking from a cut
 * point depends only on the bytes after it. `stitchLengths` continues the true chain through
 * `data` = the carried-over tail (`tailLength` bytes) + the block's head, and stops at the first
 * cut that lands on one of `blockCuts` (offsets in the block, 0 included). `meetsAt` is that
 * offset in the block, or -1 if the chains did not meet within `data`.
 */
export function stitchLengths(data: Uint8Array, tailLength: number, blockCuts: readonly number[], final: boolean): { lengths: number[]; consumed: number; meetsAt: number } {
  const cuts = new Set(blockCuts);
  scanner.load(data);
  const lengths: number[] = [];
  let pos = 0;
  while (pos < data.length) {
    const len = cutPoint(pos, data.length, final);
    if (len <= 0) break;
    lengths.push(len);
    pos += len;
    if (pos >= tailLength && cuts.has(pos - tailLength)) return { lengths, consumed: pos, meetsAt: pos - tailLength };
  }
  return { lengths, consumed: pos, meetsAt: -1 };
}
