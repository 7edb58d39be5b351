// Announces this pod's holdings to its peers and records theirs. On every new connection
// each side sends its whole set (a reset, then batches that fit the RPC frame limit); after
// that, changes travel as deltas. Deltas are sent at once, not batched, so a peer always
// learns that this pod holds a version before the namespace update that makes the version
// visible (both travel in order on the same connection): a reader never finds a file whose
// holders it does not know.
import type { PeerInfo, Rpc } from "../net/index.js";
import type { PeerHoldings } from "../store/index.js";
import type { Logger } from "./log.js";

/** 10,000 version ids of 64 hex characters stay well under the 1 MiB RPC frame limit. */
const BATCH = 10_000;
const VERSION = /^[0-9a-f]{64}$/;

export interface HoldingsExchangeDeps {
  rpc: Rpc;
  /** The persisted index of who holds what; this pod's own set is kept under its id. */
  index: PeerHoldings;
  selfId: string;
  log: Logger;
  connectedPeers: () => string[];
  /**
   * Called after a peer's holdings changed: with the versions concerned for a delta (only
   * those are re-planned), without for a whole new set.
   */
  changed: (versions?: readonly string[]) => void;
}

export class HoldingsExchange {
  constructor(private readonly deps: HoldingsExchangeDeps) {
    const { rpc } = deps;
    rpc.handle("holdings.reset", async (params, from) => {
      await deps.index.replace(from.podId, versionsOf(params, "versions"));
      deps.changed();
      return true;
    });
    rpc.handle("holdings.delta", (params, from) => this.applyDelta(params, from));
  }

  /** Sends this pod's whole set to a peer that just connected. */
  async sendSnapshot(podId: string): Promise<void> {
    const mine = [...this.deps.index.versionsOf(this.deps.selfId)];
    try {
      await this.deps.rpc.request(podId, "holdings.reset", { versions: mine.slice(0, BATCH) });
      for (let i = BATCH; i < mine.length; i += BATCH) {
        await this.deps.rpc.request(podId, "holdings.delta", { add: mine.slice(i, i + BATCH), remove: [] });
      }
    } catch (error) {
      this.deps.log.debug(`holdings snapshot to ${podId.slice(0, 8)} not delivered: ${(error as Error).message}`);
    }
  }

  /**
   * Records local holdings changes and tells every connected peer, now. Resolves once the
   * change is durable in the local index (the peers' copies are best effort: they get a
   * snapshot at the next connection anyway).
   */
  async announce(add: readonly string[], remove: readonly string[]): Promise<void> {
    const persisted = this.deps.index.patch(this.deps.selfId, { add, remove });
    for (let i = 0; i < Math.max(add.length, remove.length); i += BATCH) {
      const delta = { add: add.slice(i, i + BATCH), remove: remove.slice(i, i + BATCH) };
      for (const peer of this.deps.connectedPeers()) {
        this.deps.rpc.request(peer, "holdings.delta", delta).catch((error: Error) => {
          // The peer gets a full snapshot when it reconnects; nothing to retry here.
          this.deps.log.debug(`holdings delta to ${peer.slice(0, 8)} not delivered: ${error.message}`);
        });
      }
    }
    await persisted;
  }

  private async applyDelta(params: unknown, from: PeerInfo): Promise<boolean> {
    const add = versionsOf(params, "add");
    const remove = versionsOf(params, "remove");
    await this.deps.index.patch(from.podId, { add, remove });
    this.deps.changed([...add, ...remove]);
    return true;
  }
}

/** Peer input: a list of version ids, or the request fails (the peer gets an error reply). */
function versionsOf(params: unknown, field: string): string[] {
  const list = (params as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(list) || list.length > BATCH || !list.every((v) => typeof v === "string" && VERSION.test(v))) {
    throw new Error(`holdings: "${field}" must be a list of at most ${BATCH} version ids`);
  }
  return list as string[];
}
