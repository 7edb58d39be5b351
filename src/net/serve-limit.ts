/**
 * Bounds how many requests one peer may have us working on at once (chunk reads, RPCs).
 * Well-behaved clients bound themselves far below this; a peer above it is flooding us and
 * gets a ProtocolError (its connection is closed) instead of unbounded work.
 */
import { expectProtocol } from "./errors.js";
import type { PodId } from "./types.js";

export class PerPeerLimit {
  private readonly active = new Map<PodId, number>();

  constructor(private readonly max: number, private readonly what: string) {}

  /** Counts one more request from `peer`, or throws if it already has `max` open. */
  enter(peer: PodId): void {
    const count = (this.active.get(peer) ?? 0) + 1;
    expectProtocol(count <= this.max, `more than ${this.max} concurrent ${this.what}`);
    this.active.set(peer, count);
  }

  leave(peer: PodId): void {
    const left = (this.active.get(peer) ?? 1) - 1;
    if (left > 0) this.active.set(peer, left);
    else this.active.delete(peer);
  }

  /** The peer disconnected: its count restarts from zero on a new connection. */
  forget(peer: PodId): void {
    this.active.delete(peer);
  }
}
