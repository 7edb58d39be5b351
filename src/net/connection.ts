/**
 * A PeerConnection exists only after a completed handshake (the mesh constructs it in the
 * handshake's success callback and nowhere else). It is therefore the only way to send a
 * sync, awareness, chunk or rpc frame: code holding no PeerConnection cannot leak namespace
 * data to an unauthenticated socket.
 */
import WebSocket from "ws";
import { Channel, MAX_PAYLOAD, encodeFrame } from "./frame.js";

/** Bodies at least this big are sent as their own fragment instead of being copied into the frame. */
const FRAGMENT_THRESHOLD = 64 * 1024;
import type { PodId, Role } from "./types.js";

export interface PeerInfo {
  podId: PodId;
  role: Role;
  publicKey: Buffer;
  /** The address we dialled, or the remote socket address of an inbound connection. */
  address: string;
}

export class PeerConnection implements PeerInfo {
  readonly podId: PodId;
  readonly role: Role;
  readonly publicKey: Buffer;
  readonly address: string;
  /** Which pod dialled this connection (the simultaneous-dial tie-break keeps the lower one). */
  readonly dialler: PodId;
  /** The peer's last presence state (opaque JSON set by its pod). */
  presence: unknown = undefined;
  private alive = true;
  private lastBuffered = 0;
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    readonly socket: WebSocket,
    info: PeerInfo & { dialler: PodId },
    keepaliveMs: number,
    onDead: (why: string) => void,
  ) {
    this.podId = info.podId;
    this.role = info.role;
    this.publicKey = info.publicKey;
    this.address = info.address;
    this.dialler = info.dialler;
    socket.on("pong", () => this.touch());
    // A pulled cable sends no FIN: only silence reveals it, within one or two intervals. On a
    // slow link a pong can queue behind megabytes of chunk data, so any frame received, or our
    // own send queue draining, also proves the link is alive.
    this.keepalive = setInterval(() => {
      const buffered = socket.bufferedAmount;
      const draining = buffered > 0 && buffered < this.lastBuffered;
      this.lastBuffered = buffered;
      if (!this.alive && !draining) return onDead(`no keepalive answer within ${keepaliveMs} ms`);
      this.alive = false;
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, keepaliveMs);
    this.keepalive.unref();
  }

  /** Evidence the peer is alive (a pong or any frame from it). */
  touch(): void {
    this.alive = true;
  }

  /**
   * Bytes received on this link so far, counted by the TCP socket (so a large frame still
   * arriving counts as progress before it is complete). A reader that must not hang on a
   * link cut without a close watches it: no new bytes for a while means no answer coming.
   */
  get receivedBytes(): number {
    // ws keeps its net.Socket as `_socket` (not typed): the only place bytes are counted below the message level.
    return (this.socket as unknown as { _socket?: { bytesRead?: number } })._socket?.bytesRead ?? 0;
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in the socket, not yet handed to the kernel (for back-pressure decisions). */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Sends one frame; false when the link is already closing (the caller treats it as a lost peer). */
  send(channel: Exclude<Channel, Channel.Handshake>, payload: Uint8Array | readonly Uint8Array[]): boolean {
    if (!this.open) return false;
    const last = Array.isArray(payload) ? payload[payload.length - 1] : undefined;
    if (last && last.length >= FRAGMENT_THRESHOLD) {
      // Big body (a chunk): send the channel byte and headers as a first WebSocket fragment and
      // the body as the final one, so the body is never copied into a new frame buffer. Both
      // sends happen in this tick, so no other message can come between the fragments.
      const head = encodeFrame(channel, payload.slice(0, -1));
      if (head.length - 1 + last.length > MAX_PAYLOAD[channel]) throw new RangeError(`${Channel[channel]} payload exceeds its limit of ${MAX_PAYLOAD[channel]}`);
      this.socket.send(head, { binary: true, fin: false });
      this.socket.send(last, { binary: true, fin: true });
    } else {
      this.socket.send(encodeFrame(channel, payload));
    }
    return true;
  }

  /** Marks the connection dead for the keepalive; the mesh then closes the socket. */
  dispose(): void {
    clearInterval(this.keepalive);
  }
}
