// Worker thread of the HashPool: finds FastCDC cut points in a block ("cut"), hashes the
// chunks of a block whose cut points are known ("hash"), or continues a chunk chain into a
// block until it meets the block's own cut points and hashes those chunks ("stitch").
// The block's memory is transferred in and back out, so no byte is copied across threads.
import { parentPort } from "node:worker_threads";
import { chunkId } from "./chunk-id.js";
import { chunkLengths, stitchLengths } from "./fastcdc.js";
import type { PoolRequest, PoolReply } from "./hash-pool.js";

const port = parentPort;
if (!port) throw new Error("hash-worker.js must be started as a worker thread by HashPool");

port.on("message", (req: PoolRequest) => {
  const data = new Uint8Array(req.buffer, req.offset, req.length);
  let reply: PoolReply;
  try {
    const { lengths, consumed, meetsAt } =
      req.kind === "cut"
        ? { ...chunkLengths(data, req.final), meetsAt: -1 }
        : req.kind === "stitch"
          ? stitchLengths(data, req.tailLength!, req.blockCuts!, req.final)
          : { lengths: req.lengths ?? [req.length], consumed: req.length, meetsAt: -1 };
    const ids: string[] = [];
    if (req.kind !== "cut") {
      let pos = 0;
      for (const len of lengths) {
        ids.push(chunkId(data.subarray(pos, pos + len)));
        pos += len;
      }
    }
    reply = { seq: req.seq, buffer: req.buffer, offset: req.offset, length: req.length, lengths, ids, consumed, meetsAt };
  } catch (err) {
    reply = { seq: req.seq, buffer: req.buffer, error: String((err as Error)?.stack ?? err) };
  }
  port.postMessage(reply, [req.buffer]);
});
