// A small pool of worker threads that chunk (FastCDC) and hash (SHA-256) large inputs, so the
// caller's thread (the pod's event loop, FUSE callbacks) stays free while a file is ingested.
//
// Cutting, stitching and hashing are separate jobs so one stream (see chunker.ts) spreads over
// every worker (measured per core: cut ~2 GB/s since the gear loop is WebAssembly, SHA-256
// ~1.5 GB/s).
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { chunkId } from "./chunk-id.js";
import { chunkLengths, stitchLengths } from "./fastcdc.js";
import { ownedCopy } from "./owned-copy.js";

export interface PoolRequest {
  seq: number;
  kind: "cut" | "hash" | "stitch";
  buffer: ArrayBuffer;
  offset: number;
  length: number;
  final: boolean;
  /** For "hash": the chunk lengths to hash (default: the whole range as one chunk). */
  lengths?: number[];
  /** For "stitch": bytes of carried-over tail at the start, and the block's own cut offsets. */
  tailLength?: number;
  blockCuts?: number[];
}

export type PoolReply =
  | { seq: number; buffer: ArrayBuffer; offset: number; length: number; lengths: number[]; ids: string[]; consumed: number; meetsAt: number; error?: undefined }
  | { seq: number; buffer: ArrayBuffer; error: string };

/** Cut points of one block: chunk lengths in order and how many bytes they cover. */
export interface CutBlock {
  /** The block's bytes (memory handed back by the worker); chunk i starts at the sum of the lengths before it. */
  data: Buffer;
  lengths: number[];
  consumed: number;
}

/** A cut block whose chunks are hashed too: ids[i] names chunk i. */
export interface ChunkedBlock extends CutBlock {
  ids: string[];
  /**
   * Set by chunkInput when the source takes blocks back (RECYCLE_BLOCK): the consumer calls it
   * once it no longer needs `data` (its chunks are stored), and the memory is filled again.
   */
  release?: () => void;
}

/**
 * Below this size, posting to a worker costs the caller's thread more than doing the work
 * (measured, bench of docs/storage.md: a worker round trip costs ~0.09 ms, SHA-256 inline
 * takes 0.044 ms at 64 KiB, 0.086 ms at 128 KiB, 0.19 ms at 256 KiB), so small inputs are
 * handled on the caller's thread.
 */
export const INLINE_LIMIT = 128 * 1024;

interface Job {
  resolve: (reply: PoolReply & { error?: undefined }) => void;
  reject: (err: Error) => void;
  owner: PoolWorker;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
}

export class HashPool {
  private static sharedPool: HashPool | undefined;
  private readonly workers: PoolWorker[] = [];
  private readonly jobs = new Map<number, Job>();
  private seq = 0;
  private closed = false;

  constructor(readonly size = Math.max(2, Math.min(4, availableParallelism()))) {}

  /** One pool per process, created on first use; its idle workers never keep the process alive. */
  static shared(): HashPool {
    HashPool.sharedPool ??= new HashPool();
    return HashPool.sharedPool;
  }

  /**
   * FastCDC cut points of `data`. With `final` false, the tail after the last cut point is not
   * covered (`consumed < data.length`) and must be prepended to the next block.
   * With `transfer`, the memory under `data` (its whole ArrayBuffer, which must not be Node's
   * shared small-buffer pool) moves to the worker and back instead of being copied: `data`
   * itself is unusable afterwards, use the returned `data`.
   */
  async cut(data: Buffer, final: boolean, transfer = false): Promise<CutBlock> {
    if (data.length <= INLINE_LIMIT) return { data, ...chunkLengths(data, final) };
    const reply = await this.submit("cut", transfer ? data : ownedCopy(data), final);
    return { data: replyData(reply), lengths: reply.lengths, consumed: reply.consumed };
  }

  /**
   * SHA-256 ids of the chunks of a cut block. Only the covered bytes are hashed and returned as
   * `data`; with `transfer`, copy the uncovered tail out first: it shares the moved memory.
   */
  async hashChunks(block: CutBlock, transfer = false): Promise<ChunkedBlock> {
    const covered = block.data.subarray(0, block.consumed);
    if (covered.length <= INLINE_LIMIT) return { data: covered, lengths: block.lengths, consumed: block.consumed, ids: hashInline(covered, block.lengths) };
    const reply = await this.submit("hash", transfer ? covered : ownedCopy(covered), true, block.lengths);
    return { data: replyData(reply), lengths: block.lengths, consumed: block.consumed, ids: reply.ids };
  }

  /**
   * Continues a chunk chain through `junction` (a carried-over tail of `tailLength` bytes + the
   * head of a block) until it meets `blockCuts`, the block's independently found cut offsets
   * (see `stitchLengths`), and hashes the chunks on the way. `junction` is transferred.
   */
  async stitch(junction: Buffer, tailLength: number, blockCuts: number[], final: boolean): Promise<ChunkedBlock & { meetsAt: number }> {
    if (junction.length <= INLINE_LIMIT) {
      const { lengths, consumed, meetsAt } = stitchLengths(junction, tailLength, blockCuts, final);
      return { data: junction.subarray(0, consumed), lengths, consumed, meetsAt, ids: hashInline(junction, lengths) };
    }
    const reply = await this.submit("stitch", junction, final, undefined, { tailLength, blockCuts });
    return { data: replyData(reply).subarray(0, reply.consumed), lengths: reply.lengths, consumed: reply.consumed, meetsAt: reply.meetsAt, ids: reply.ids };
  }

  /**
   * SHA-256 of `data` as a chunk id, off the caller's thread for large inputs. With `transfer`
   * the memory moves to the worker and back (see `cut`): use the returned `data`.
   */
  async hash(data: Buffer, transfer = false): Promise<{ id: string; data: Buffer }> {
    if (data.length <= INLINE_LIMIT) return { id: chunkId(data), data };
    const reply = await this.submit("hash", transfer ? data : ownedCopy(data), true);
    return { id: reply.ids[0]!, data: transfer ? replyData(reply) : data };
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
    if (HashPool.sharedPool === this) HashPool.sharedPool = undefined;
  }

  private submit(
    kind: PoolRequest["kind"],
    data: Buffer,
    final: boolean,
    lengths?: number[],
    stitch?: { tailLength: number; blockCuts: number[] },
  ): Promise<PoolReply & { error?: undefined }> {
    if (this.closed) return Promise.reject(new Error("HashPool is closed: create a new pool"));
    if (data.buffer instanceof SharedArrayBuffer || data.buffer.byteLength <= Buffer.poolSize) {
      return Promise.reject(new Error("HashPool: only a buffer that owns its memory (Buffer.allocUnsafeSlow) can be transferred"));
    }
    const owner = this.pickWorker();
    const seq = ++this.seq;
    const request: PoolRequest = { seq, kind, buffer: data.buffer, offset: data.byteOffset, length: data.length, final, lengths, ...stitch };
    return new Promise((resolve, reject) => {
      this.jobs.set(seq, { resolve, reject, owner });
      if (owner.busy++ === 0) owner.worker.ref();
      owner.worker.postMessage(request, [request.buffer]);
    });
  }

  private pickWorker(): PoolWorker {
    let best = this.workers.reduce<PoolWorker | undefined>((a, w) => (!a || w.busy < a.busy ? w : a), undefined);
    if ((!best || best.busy > 0) && this.workers.length < this.size) best = this.spawn();
    return best!;
  }

  private spawn(): PoolWorker {
    const worker = new Worker(new URL("./hash-worker.js", import.meta.url));
    const slot: PoolWorker = { worker, busy: 0 };
    worker.unref();
    worker.on("message", (reply: PoolReply) => this.onReply(slot, reply));
    worker.on("error", (err) => this.failWorker(slot, err));
    worker.on("exit", (code) => this.failWorker(slot, new Error(`hash worker exited with code ${code}`)));
    this.workers.push(slot);
    return slot;
  }

  private onReply(slot: PoolWorker, reply: PoolReply): void {
    const job = this.jobs.get(reply.seq);
    if (!job) return;
    this.jobs.delete(reply.seq);
    if (--slot.busy === 0) slot.worker.unref();
    if (reply.error !== undefined) job.reject(new Error(`hash worker failed: ${reply.error}`));
    else job.resolve(reply);
  }

  /** A worker that dies fails only its own jobs; the next job spawns a fresh worker. */
  private failWorker(slot: PoolWorker, err: Error): void {
    const index = this.workers.indexOf(slot);
    if (index < 0) return;
    this.workers.splice(index, 1);
    for (const [seq, job] of this.jobs) {
      if (job.owner !== slot) continue;
      this.jobs.delete(seq);
      job.reject(err);
    }
  }
}

export function hashInline(data: Buffer, lengths: number[]): string[] {
  const ids: string[] = [];
  let pos = 0;
  for (const len of lengths) {
    ids.push(chunkId(data.subarray(pos, pos + len)));
    pos += len;
  }
  return ids;
}

function replyData(reply: { buffer: ArrayBuffer; offset: number; length: number }): Buffer {
  return Buffer.from(reply.buffer, reply.offset, reply.length);
}

