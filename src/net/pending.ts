/**
 * Outstanding requests to peers (chunk pulls, RPCs): each has an id, a timeout, and fails at
 * once if its peer disconnects. A reply for an id we no longer wait for (it timed out) is
 * ignored, and so is a reply from a peer other than the one asked.
 */
import type { PodId } from "./types.js";

interface Entry<T> {
  peer: PodId;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class PendingRequests<T> {
  private nextId = 1;
  private readonly entries = new Map<number, Entry<T>>();

  /** Registers a request to `peer`; returns its id (to put on the wire) and the awaited reply. */
  open(peer: PodId, timeoutMs: number, what: string): { id: number; reply: Promise<T> } {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const reply = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.entries.delete(id);
        reject(new Error(`${what} to ${peer} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.entries.set(id, { peer, resolve, reject, timer });
    });
    return { id, reply };
  }

  /** True if the reply was awaited (and is now delivered). */
  resolve(peer: PodId, id: number, value: T): boolean {
    const e = this.take(peer, id);
    e?.resolve(value);
    return e !== undefined;
  }

  reject(peer: PodId, id: number, err: Error): boolean {
    const e = this.take(peer, id);
    e?.reject(err);
    return e !== undefined;
  }

  /** Fails every request to `peer` (it disconnected). */
  failPeer(peer: PodId, err: Error): void {
    for (const [id, e] of this.entries) if (e.peer === peer) this.take(peer, id)?.reject(err);
  }

  private take(peer: PodId, id: number): Entry<T> | undefined {
    const e = this.entries.get(id);
    if (!e || e.peer !== peer) return undefined;
    this.entries.delete(id);
    clearTimeout(e.timer);
    return e;
  }
}
