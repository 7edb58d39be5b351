// Child process of the crash test: writes versions and namespace operations through the real
// store APIs and prints one line per acknowledged write. The parent SIGKILLs it at random.
// Does nothing unless started with "--crash-child" (the test runner also loads this file).
import * as Y from "yjs";
import path from "node:path";
import { ChunkStore, MetaStore, collectLiveChunks, writeVersion } from "../../src/store/index.js";
import { pseudoRandom, sha256 } from "./helpers.js";

export const SHARD = "ns-0";

/** Size of write `i` of run `run`: mostly small files, some multi-chunk ones. */
export function sizeOf(run: number, i: number): number {
  const x = Number.parseInt(sha256(Buffer.from(`${run}/${i}`)).slice(0, 8), 16);
  if (x % 10 < 6) return x % (64 * 1024);
  return 64 * 1024 + (x % (3 * 1024 * 1024));
}

async function main(dir: string, run: number): Promise<void> {
  const store = await ChunkStore.open(path.join(dir, "chunks"));
  const meta = await MetaStore.open(path.join(dir, "meta"));
  const doc = new Y.Doc();
  await meta.attachDoc(SHARD, doc);
  const files = doc.getMap<{ version: string; size: number; sha: string }>("files");
  for (let i = 0; i < 100_000; i++) {
    const key = `r${run}-${i}`;
    const data = pseudoRandom(sizeOf(run, i), key);
    const lease = store.lease();
    // Every third write takes the bulk path (syncfs rounds) that large versions use.
    const written = await writeVersion(store, data, { lease, bulk: i % 3 === 0 });
    files.set(key, { version: written.version, size: written.size, sha: sha256(data) });
    await meta.outbox.add(written.version, written.size);
    await meta.flush();
    lease.release();
    // Pipes are written synchronously on Linux: once this returns, the parent can see the ack.
    process.stdout.write(`ACK ${key}\n`);
    // Counted over all runs, so kills also land during compactions and collections.
    if (files.size % 10 === 9) await meta.compact(SHARD);
    if (files.size % 15 === 14) {
      const live = await collectLiveChunks(store, [...files.values()].map((f) => f.version));
      await store.gc((id) => live.has(id));
    }
  }
}

if (process.argv[2] === "--crash-child") {
  main(process.argv[3]!, Number(process.argv[4])).catch((err) => {
    process.stderr.write(`crash child failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
