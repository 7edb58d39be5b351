// fdatasync in dedicated worker threads. An fdatasync blocks its thread until the disk
// answers; on libuv's pool (4 threads by default) the syncs of a large write would hold the
// threads that the input reads, the next chunk writes and every other file operation of the
// pod (FUSE reads) need. File descriptors are process-wide, so a worker can sync a file the
// main thread opened; several syncs in flight also share ext4 journal commits.
import { Worker } from "node:worker_threads";

const THREADS = 4;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

class SyncPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, Waiter>();
  private seq = 0;

  /** fdatasync(fd) off the event loop and off libuv's pool. Keep `fd` open until this settles. */
  datasync(fd: number): Promise<void> {
    const slot = this.pick();
    const seq = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ seq, fd });
    });
  }

  private pick(): { worker: Worker; busy: number } {
    const idle = this.workers.find((w) => w.busy === 0);
    if (idle) return idle;
    if (this.workers.length < THREADS) return this.spawn();
    return this.workers.reduce((a, w) => (w.busy < a.busy ? w : a));
  }

  private spawn(): { worker: Worker; busy: number } {
    const worker = new Worker(new URL("./sync-worker.js", import.meta.url));
    const slot = { worker, busy: 0 };
    worker.unref();
    worker.on("message", (reply: { seq: number; error?: string; code?: string }) => {
      if (--slot.busy === 0) worker.unref();
      const waiter = this.waiting.get(reply.seq);
      this.waiting.delete(reply.seq);
      if (reply.error === undefined) waiter?.resolve();
      else waiter?.reject(Object.assign(new Error(`fdatasync failed: ${reply.error}`), { code: reply.code }));
    });
    worker.on("error", (err) => this.fail(slot, err));
    worker.on("exit", (code) => this.fail(slot, new Error(`sync worker exited with code ${code}`)));
    this.workers.push(slot);
    return slot;
  }

  /** A dead worker's pending syncs fail (the writes are not acknowledged); a new one replaces it. */
  private fail(slot: { worker: Worker; busy: number }, err: Error): void {
    const index = this.workers.indexOf(slot);
    if (index < 0) return;
    this.workers.splice(index, 1);
    // We cannot tell which pending syncs were this worker's: fail them all, callers retry.
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }
}

/** One per process: the disk is shared by every store in it. */
export const syncPool = new SyncPool();
