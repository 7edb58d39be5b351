// Crash safety with real processes: a child writes versions and namespace operations and
// prints each acknowledged one; we SIGKILL it at random moments, then check that every
// acknowledged write is present and intact and that both databases open cleanly.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as Y from "yjs";
import { ChunkStore, MetaStore, readRange } from "../../src/store/index.js";
import { SHARD } from "./crash-child.js";
import { sha256, tempDir } from "./helpers.js";

const KILLS = Number(process.env.WORMHOLE_CRASH_KILLS ?? 20);
const CHILD = fileURLToPath(new URL("./crash-child.js", import.meta.url));

/**
 * Runs the child until a random moment after its first acknowledged write (not after start-up:
 * on a loaded machine start-up alone can outlast the delay, and a run that acknowledged nothing
 * proves nothing), kills it, returns its acks.
 */
function runAndKill(dir: string, run: number, killAfterMs: number): Promise<{ acked: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, "--crash-child", dir, String(run)], { stdio: ["ignore", "pipe", "pipe"] });
    const acked: string[] = [];
    let stderr = "";
    let buffered = "";
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith("ACK ")) continue;
        acked.push(line.slice(4));
        timer ??= setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") reject(new Error(`crash child exited by itself (code ${code}): ${stderr}`));
      else resolve({ acked, stderr });
    });
  });
}

test(`every acknowledged write survives ${KILLS} SIGKILLs`, { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir("crash");
  try {
    const acknowledged: string[] = [];
    let seed = 12345;
    for (let run = 0; run < KILLS; run++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const killAfter = 20 + (seed % 600);
      const { acked } = await runAndKill(dir, run, killAfter);
      acknowledged.push(...acked);

      const store = await ChunkStore.open(path.join(dir, "chunks"));
      const meta = await MetaStore.open(path.join(dir, "meta"));
      const doc = new Y.Doc();
      await meta.attachDoc(SHARD, doc);
      const files = doc.getMap<{ version: string; size: number; sha: string }>("files");
      for (const key of acknowledged) {
        const file = files.get(key);
        assert.ok(file, `run ${run} (killed after ${killAfter} ms): acknowledged ${key} is missing from the namespace`);
        assert.ok(meta.outbox.has(file.version), `run ${run}: ${key} is missing from the outbox`);
        const content = await readRange(store, file.version, 0, file.size);
        assert.equal(content.length, file.size);
        assert.equal(sha256(content), file.sha, `run ${run}: ${key} content is damaged`);
      }
      await meta.close();
    }
    t.diagnostic(`${acknowledged.length} acknowledged writes checked after each of ${KILLS} kills`);
    assert.ok(acknowledged.length >= KILLS, `only ${acknowledged.length} writes were acknowledged in ${KILLS} runs: the test proved little`);
  } finally {
    cleanup();
  }
});
