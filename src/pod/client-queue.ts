// What a client pod has not handed to the cluster yet, for `wormhole status`:
// - namespace changes (creates, edits, renames, deletes) made since it last reached a full
//   pod. Yjs sends them in the sync exchange as soon as a full pod is connected, so the
//   count drops to zero on reconnect; while connected, changes go out as they happen.
//   It counts local Yjs transactions on the namespace shards (one to three per file operation) and
//   is saved with a short delay, so a restart while offline still shows it (after SIGKILL
//   it may miss the last DEBOUNCE_MS of changes: it is a progress figure, not a ledger;
//   the changes themselves are in the namespace log, durable before each was acknowledged).
// - content waiting in the outbox until its full redundancy is on full pods (exact: the
//   outbox is the durable record).
import type * as Y from "yjs";
import type { MetaStore } from "../store/index.js";
import type { Logger } from "./log.js";

/** Local state key of the change counter. */
const CHANGES_KEY = "client.queuedChanges";
const DEBOUNCE_MS = 200;

export interface QueuedWork {
  /** Namespace changes made since this pod last reached a full pod. */
  changes: number;
  /** File versions waiting until their targets on full pods hold them. */
  uploads: number;
  /** Their total size. */
  bytes: number;
}

export class ClientQueue {
  private changes = 0;
  private saveTimer: NodeJS.Timeout | undefined;
  private connectedToFull = false;

  private constructor(
    private readonly meta: MetaStore,
    private readonly log: Logger,
  ) {}

  /** Loads the saved count and starts counting local changes on `shards`. */
  static async open(meta: MetaStore, shards: Iterable<Y.Doc>, log: Logger): Promise<ClientQueue> {
    const queue = new ClientQueue(meta, log);
    const saved = await meta.local.get<unknown>(CHANGES_KEY);
    if (typeof saved === "number" && Number.isSafeInteger(saved) && saved >= 0) queue.changes = saved;
    for (const doc of shards) {
      doc.on("afterTransaction", (transaction: Y.Transaction) => {
        // `local` is false for updates applied from disk or from a peer: only our own edits count.
        if (transaction.local && transaction.changed.size > 0) queue.recordLocalChange();
      });
    }
    return queue;
  }

  /** Call whenever the set of connected full pods changes. */
  setConnectedToFull(connected: boolean): void {
    this.connectedToFull = connected;
    if (connected && this.changes > 0) {
      // Sync step 2 to the full pod carries every change made while away.
      this.changes = 0;
      this.saveSoon();
    }
  }

  snapshot(): QueuedWork {
    return { changes: this.changes, uploads: this.meta.outbox.size, bytes: this.meta.outbox.bytes };
  }

  /** Saves the count now (at stop). */
  async close(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.meta.local.put(CHANGES_KEY, this.changes);
  }

  private recordLocalChange(): void {
    if (this.connectedToFull) return;
    this.changes++;
    this.saveSoon();
  }

  private saveSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      // The next change or the stop saves it again: say so, but do not fail anything for it.
      this.meta.local.put(CHANGES_KEY, this.changes).catch((error: Error) => this.log.warn(`could not save the queued change count: ${error.message}`));
    }, DEBOUNCE_MS);
    this.saveTimer.unref();
  }
}
