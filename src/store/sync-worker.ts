// Worker thread of the SyncPool: fdatasync on a file descriptor of this process, blocking
// this thread instead of one of libuv's four (see sync-pool.ts).
import { fdatasyncSync } from "node:fs";
import { parentPort } from "node:worker_threads";

const port = parentPort;
if (!port) throw new Error("sync-worker.js must be started as a worker thread by SyncPool");

port.on("message", ({ seq, fd }: { seq: number; fd: number }) => {
  try {
    fdatasyncSync(fd);
    port.postMessage({ seq });
  } catch (err) {
    port.postMessage({ seq, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
  }
});
