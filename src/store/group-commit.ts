// Group commit on a level database: operations queued during one turn of the event loop are
// written in one synchronous (fsync'ed) batch, so a burst of many small updates costs one disk
// flush. Batches are written strictly in order. A failed write is sticky: every later
// `flush()` rejects with it, because the updates it carried are no longer durable anywhere.
import type { Level } from "level";

/** The metadata database: string keys (prefixed per index), binary values. */
export type MetaDb = Level<string, Buffer>;
export type BatchOp = { type: "put"; key: string; value: Buffer } | { type: "del"; key: string };

interface Batch {
  ops: BatchOp[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class GroupCommit {
  private next: Batch | undefined;
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  private batches = 0;

  constructor(private readonly db: MetaDb) {}

  /** Number of batches written so far (to observe that writes are grouped). */
  get batchCount(): number {
    return this.batches;
  }

  /** Queues operations for the next batch; returns when that batch is durable. */
  enqueue(ops: BatchOp[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      done.catch(() => {}); // observed through flush(); never an unhandled rejection
      this.next = { ops: [], done, resolve, reject };
      if (!this.inFlight) queueMicrotask(() => this.writeNext());
    }
    this.next.ops.push(...ops);
    return this.next.done;
  }

  /** Resolves once everything enqueued so far is durable; rejects if any write failed. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return this.next?.done ?? this.inFlight ?? Promise.resolve();
  }

  private writeNext(): void {
    const batch = this.next;
    if (!batch || this.inFlight) return;
    this.next = undefined;
    this.inFlight = batch.done;
    this.db.batch(batch.ops, { sync: true }).then(
      () => {
        this.batches++;
        batch.resolve();
      },
      (err: Error) => {
        this.failure ??= new Error(`metadata write failed (${err.message}): recent updates are not durable; restart the pod`, { cause: err });
        batch.reject(this.failure);
        this.next?.reject(this.failure);
        this.next = undefined;
      },
    ).finally(() => {
      this.inFlight = undefined;
      if (this.next) this.writeNext();
    });
  }
}
