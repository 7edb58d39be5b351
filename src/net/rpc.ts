/**
 * Control RPC over the rpc channel: small JSON requests and replies between pods.
 *
 *   request {"t":"q","id":n,"m":"method","p":params}
 *   reply   {"t":"r","id":n,"ok":true,"v":result} | {"t":"r","id":n,"ok":false,"e":"message"}
 *
 * An unknown method or a throwing handler becomes an error reply (the caller's promise
 * rejects with the message); a payload that is not this shape closes the connection.
 */
import type { PeerConnection, PeerInfo } from "./connection.js";
import { ProtocolError, expectProtocol } from "./errors.js";
import { Channel, MAX_PAYLOAD } from "./frame.js";
import type { Mesh } from "./mesh.js";
import { PendingRequests } from "./pending.js";
import { PerPeerLimit } from "./serve-limit.js";
import type { PodId } from "./types.js";

export type RpcHandler = (params: unknown, from: PeerInfo) => unknown;

const MAX_METHOD = 128;
/** Requests one peer may have us working on at once; beyond it the peer is misbehaving. */
const MAX_SERVED_PER_PEER = 256;
const DEFAULT_TIMEOUT_MS = 10_000;

export class RemoteError extends Error {
  override readonly name = "RemoteError";
}

export class Rpc {
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly pending = new PendingRequests<unknown>();
  private readonly served = new PerPeerLimit(MAX_SERVED_PER_PEER, "rpc requests");

  constructor(private readonly mesh: Mesh) {
    mesh.useChannel(Channel.Rpc, {
      onFrame: (peer, payload) => this.onFrame(peer, payload),
      onPeerDown: (peer) => {
        this.pending.failPeer(peer.podId, new Error(`peer ${peer.podId} disconnected`));
        this.served.forget(peer.podId);
      },
    });
  }

  handle(method: string, fn: RpcHandler): void {
    if (this.handlers.has(method)) throw new Error(`rpc method "${method}" already has a handler`);
    this.handlers.set(method, fn);
  }

  async request(peer: PodId, method: string, params: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const connection = this.mesh.peer(peer);
    if (!connection) throw new Error(`rpc ${method}: not connected to ${peer}`);
    const { id, reply } = this.pending.open(peer, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, `rpc ${method}`);
    connection.send(Channel.Rpc, Buffer.from(JSON.stringify({ t: "q", id, m: method, p: params ?? null })));
    return reply;
  }

  private onFrame(peer: PeerConnection, payload: Buffer): void | Promise<void> {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new ProtocolError("rpc message is not JSON");
    }
    expectProtocol(typeof msg === "object" && msg !== null && !Array.isArray(msg), "rpc message is not an object");
    expectProtocol(Number.isInteger(msg.id) && (msg.id as number) > 0, "rpc message without a valid id");
    const id = msg.id as number;
    if (msg.t === "q") {
      expectProtocol(typeof msg.m === "string" && msg.m.length <= MAX_METHOD, "rpc request without a valid method");
      return this.serve(peer, id, msg.m, msg.p);
    }
    expectProtocol(msg.t === "r" && typeof msg.ok === "boolean", "rpc message of unknown type");
    if (msg.ok) this.pending.resolve(peer.podId, id, msg.v);
    else this.pending.reject(peer.podId, id, new RemoteError(typeof msg.e === "string" ? msg.e : "remote error"));
  }

  private async serve(peer: PeerConnection, id: number, method: string, params: unknown): Promise<void> {
    this.served.enter(peer.podId);
    let reply: string;
    try {
      const fn = this.handlers.get(method);
      if (!fn) throw new Error(`unknown rpc method "${method}"`);
      reply = JSON.stringify({ t: "r", id, ok: true, v: (await fn(params, peer)) ?? null });
      if (Buffer.byteLength(reply) > MAX_PAYLOAD[Channel.Rpc]) throw new Error(`reply is larger than the ${MAX_PAYLOAD[Channel.Rpc]}-byte rpc limit`);
    } catch (err) {
      reply = JSON.stringify({ t: "r", id, ok: false, e: String((err as Error)?.message ?? err).slice(0, 1000) });
    } finally {
      this.served.leave(peer.podId);
    }
    peer.send(Channel.Rpc, Buffer.from(reply));
  }
}
