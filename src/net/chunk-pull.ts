/**
 * Chunk pull over the chunk channel: ask a holder for a chunk by id, verify it on arrival.
 *
 *   REQUEST [0][request id u32][chunk id: 32 bytes]
 *   DATA    [1][request id u32][chunk bytes ≤ 8 MiB]
 *   MISSING [2][request id u32]
 *   FAILED  [3][request id u32][reason: u8 length + UTF-8]
 *
 * Back-pressure: at most `maxInFlightPerPeer` requests are outstanding to one peer; more
 * wait in a local queue. A server refuses (closes) a peer that exceeds `maxServedPerPeer`,
 * a much larger bound, since a well-behaved client never does.
 * Spreading: each pull goes to the least-loaded connected holder; `pullMany` keeps a window
 * of pulls open so that a faster holder, freeing slots sooner, naturally serves more.
 * Integrity: the SHA-256 of the bytes must equal the id; a mismatch is logged as the holder
 * misbehaving and the next holder is tried.
 */
import { createHash, webcrypto } from "node:crypto";
import type { PeerConnection } from "./connection.js";
import { ProtocolError, expectProtocol } from "./errors.js";
import { Channel, MAX_CHUNK_BYTES } from "./frame.js";
import type { Mesh } from "./mesh.js";
import { PendingRequests } from "./pending.js";
import { PerPeerLimit } from "./serve-limit.js";
import type { PodId } from "./types.js";
import { WireReader, WireWriter, clipUtf8 } from "./wire.js";

/** 64 lowercase hex characters: the SHA-256 of the chunk's bytes. */
export type ChunkId = string;
export type ChunkProvider = (id: ChunkId) => Promise<Buffer | undefined>;

export interface ChunkPullOptions {
  /** Serves our chunks to peers; without it every request is answered MISSING. */
  provider?: ChunkProvider;
  maxInFlightPerPeer?: number;
  maxServedPerPeer?: number;
  requestTimeoutMs?: number;
}

enum Message {
  Request = 0,
  Data = 1,
  Missing = 2,
  Failed = 3,
}

const CHUNK_ID = /^[0-9a-f]{64}$/;
const MAX_REASON = 200;
/**
 * Chunks up to this size are verified on this thread (SHA-256 with the CPU's SHA extensions:
 * ~0.7 ms per MiB). Handing a chunk to WebCrypto first copies it into fresh native memory,
 * which cost the receiving thread more than the hash itself: 390 ms of a full pod's thread
 * for 100 MiB of small chunks in bench/offline. Larger chunks still go to the thread pool,
 * so no single check stalls this thread for long.
 */
const INLINE_VERIFY_BYTES = 1024 * 1024;

/** Per-peer request slots with a FIFO of waiters. */
class Slots {
  inFlight = 0;
  readonly waiting: Array<() => void> = [];

  get load(): number {
    return this.inFlight + this.waiting.length;
  }
}

export class ChunkPull {
  private readonly o: Required<Omit<ChunkPullOptions, "provider">> & { provider?: ChunkProvider };
  private readonly pending = new PendingRequests<Buffer>();
  private readonly slots = new Map<PodId, Slots>();
  private readonly served: PerPeerLimit;

  constructor(private readonly mesh: Mesh, options: ChunkPullOptions = {}) {
    this.o = { maxInFlightPerPeer: 8, maxServedPerPeer: 64, requestTimeoutMs: 30_000, ...options };
    this.served = new PerPeerLimit(this.o.maxServedPerPeer, "chunk requests");
    mesh.useChannel(Channel.Chunk, {
      onFrame: (peer, payload) => this.onFrame(peer, payload),
      onPeerDown: (peer) => {
        this.pending.failPeer(peer.podId, new Error(`holder ${peer.podId} disconnected`));
        this.served.forget(peer.podId);
      },
    });
  }

  /** Requests currently outstanding or queued to `peer` (observability, tests). */
  load(peer: PodId): number {
    return this.slots.get(peer)?.load ?? 0;
  }

  /** Pulls one chunk, trying connected holders from the least loaded; rejects only when all failed. */
  async pull(id: ChunkId, holders: readonly PodId[]): Promise<Buffer> {
    if (!CHUNK_ID.test(id)) throw new Error(`"${id}" is not a chunk id (64 lowercase hex characters)`);
    const connected = holders.filter((h) => h !== this.mesh.podId && this.mesh.isConnected(h));
    if (connected.length === 0) throw new Error(`no connected holder of chunk ${id} (holders: ${holders.join(", ") || "none"})`);
    const ranked = connected.map((h, i) => ({ h, i, load: this.load(h) })).sort((a, b) => a.load - b.load || a.i - b.i);
    const failures: string[] = [];
    for (const { h } of ranked) {
      try {
        return await this.pullFrom(h, id);
      } catch (err) {
        failures.push(`${h}: ${(err as Error).message}`);
      }
    }
    throw new Error(`could not pull chunk ${id} from any holder (${failures.join("; ")})`);
  }

  /** Pulls many chunks at once, spreading them over their holders; results in the order of `ids`. */
  async pullMany(ids: readonly ChunkId[], holdersOf: (id: ChunkId) => readonly PodId[]): Promise<Buffer[]> {
    const distinctHolders = new Set(ids.flatMap((id) => holdersOf(id)));
    // Twice the request slots, so that chunks being verified do not leave slots idle.
    const windowSize = Math.max(1, 2 * this.o.maxInFlightPerPeer * distinctHolders.size);
    const results = new Array<Buffer>(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        results[i] = await this.pull(ids[i]!, holdersOf(ids[i]!));
      }
    };
    await Promise.all(Array.from({ length: Math.min(windowSize, ids.length) }, worker));
    return results;
  }

  private async pullFrom(holder: PodId, id: ChunkId): Promise<Buffer> {
    const data = await this.request(holder, id);
    // Outside the request slot: verification overlaps with receiving the next chunks.
    if ((await sha256Hex(data)) !== id) {
      this.mesh.log("warn", `holder ${holder} sent bytes that do not match chunk ${id}: discarded (its copy may be corrupt)`);
      throw new Error("sent bytes that do not match the chunk id");
    }
    return data;
  }

  /** One request/reply with `holder`, holding one of its in-flight slots meanwhile. */
  private async request(holder: PodId, id: ChunkId): Promise<Buffer> {
    const slots = this.slots.get(holder) ?? new Slots();
    this.slots.set(holder, slots);
    if (slots.inFlight >= this.o.maxInFlightPerPeer) await new Promise<void>((resolve) => slots.waiting.push(resolve));
    slots.inFlight++;
    try {
      const peer = this.mesh.peer(holder);
      if (!peer) throw new Error("disconnected");
      const { id: requestId, reply } = this.pending.open(holder, this.o.requestTimeoutMs, `chunk request ${id.slice(0, 12)}`);
      peer.send(Channel.Chunk, new WireWriter().u8(Message.Request).u32(requestId).bytes(Buffer.from(id, "hex")).finish());
      return await reply;
    } finally {
      slots.inFlight--;
      slots.waiting.shift()?.();
      if (slots.load === 0) this.slots.delete(holder);
    }
  }

  private onFrame(peer: PeerConnection, payload: Buffer): void | Promise<void> {
    const r = new WireReader(payload, "chunk");
    const type = r.u8("message type");
    const requestId = r.u32("request id");
    switch (type) {
      case Message.Request: {
        const id = r.bytes(32, "chunk id").toString("hex");
        r.end();
        return this.serve(peer, requestId, id);
      }
      case Message.Data:
        expectProtocol(r.remaining <= MAX_CHUNK_BYTES, "chunk larger than the limit");
        this.pending.resolve(peer.podId, requestId, r.rest());
        return;
      case Message.Missing:
        r.end();
        this.pending.reject(peer.podId, requestId, new Error("does not hold it"));
        return;
      case Message.Failed: {
        const reason = r.string("reason", MAX_REASON);
        r.end();
        this.pending.reject(peer.podId, requestId, new Error(`failed to read it: ${reason}`));
        return;
      }
      default:
        throw new ProtocolError(`unknown chunk message ${type}`);
    }
  }

  private async serve(peer: PeerConnection, requestId: number, id: ChunkId): Promise<void> {
    this.served.enter(peer.podId);
    let reply: Buffer | Buffer[];
    try {
      const data = this.o.provider ? await this.o.provider(id) : undefined;
      if (!data) reply = new WireWriter().u8(Message.Missing).u32(requestId).finish();
      else if (data.length > MAX_CHUNK_BYTES) throw new Error(`chunk is ${data.length} bytes, above the ${MAX_CHUNK_BYTES} limit`);
      else reply = [new WireWriter().u8(Message.Data).u32(requestId).finish(), data];
    } catch (err) {
      const reason = (err as Error)?.message ?? String(err);
      this.mesh.log("warn", `serving chunk ${id} to ${peer.podId} failed: ${reason}`);
      reply = new WireWriter().u8(Message.Failed).u32(requestId).string(clipUtf8(reason, MAX_REASON), MAX_REASON).finish();
    } finally {
      this.served.leave(peer.podId);
    }
    peer.send(Channel.Chunk, reply);
  }
}

async function sha256Hex(data: Buffer): Promise<string> {
  if (data.length <= INLINE_VERIFY_BYTES) return createHash("sha256").update(data).digest("hex");
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", data)).toString("hex");
}
