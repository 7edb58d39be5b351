import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { afterEach, test } from "node:test";
import { ChunkPull, type ChunkProvider } from "../../src/net/chunk-pull.js";
import { Channel, MAX_CHUNK_BYTES } from "../../src/net/frame.js";
import { generateIdentity } from "../../src/net/identity.js";
import { WireWriter } from "../../src/net/wire.js";
import { Members, makeMesh, rawClient, recordingLog, sleep, stopAllMeshes, waitFor } from "./helpers.js";

afterEach(stopAllMeshes);

const chunkId = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function makeChunks(n: number, size = 64 * 1024): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const b = randomBytes(size);
    m.set(chunkId(b), b);
  }
  return m;
}

/** A holder mesh with a provider; counts requests and the peak concurrency it saw. */
async function holder(members: Members, provider: ChunkProvider) {
  const stats = { served: 0, concurrent: 0, peak: 0 };
  const mesh = makeMesh({ members });
  new ChunkPull(mesh, {
    provider: async (id) => {
      stats.served++;
      stats.peak = Math.max(stats.peak, ++stats.concurrent);
      try {
        return await provider(id);
      } finally {
        stats.concurrent--;
      }
    },
  });
  await mesh.start();
  return { mesh, stats };
}

async function reader(members: Members, holders: Array<{ mesh: ReturnType<typeof makeMesh> }>, opts: { maxInFlightPerPeer?: number; requestTimeoutMs?: number } = {}) {
  const log = recordingLog();
  const mesh = makeMesh({ members, log, role: "client", listen: null });
  const pull = new ChunkPull(mesh, opts);
  await mesh.start();
  for (const h of holders) mesh.dial(h.mesh.address()!);
  await waitFor(() => holders.every((h) => mesh.isConnected(h.mesh.podId)), "reader linked to holders");
  return { mesh, pull, log };
}

test("a lying holder is caught by verification and the next holder serves the chunk", async () => {
  const members = new Members();
  // Small chunks are verified inline, a large one by WebCrypto: both paths catch a liar.
  const chunks = new Map([...makeChunks(3), ...makeChunks(1, 2 * 1024 * 1024)]);
  const honest = await holder(members, async (id) => chunks.get(id));
  const liar = await holder(members, async (id) => (chunks.has(id) ? randomBytes(chunks.get(id)!.length) : undefined));
  const r = await reader(members, [honest, liar]);
  for (const [id, bytes] of chunks) {
    const got = await r.pull.pull(id, [liar.mesh.podId, honest.mesh.podId]);
    assert.ok(got.equals(bytes));
  }
  assert.equal(liar.stats.served, 4, "the liar was asked first each time");
  assert.ok(r.log.lines.some((l) => l.includes(liar.mesh.podId) && /do not match/.test(l)), "the misbehaving holder is logged");
  // Only the liar holds it: the pull fails with the reason, it does not return bad bytes.
  await assert.rejects(r.pull.pull([...chunks.keys()][0]!, [liar.mesh.podId]), /do not match the chunk id/);
});

test("pullMany spreads chunks over both holders and verifies all, even with a liar among them", async () => {
  const members = new Members();
  const chunks = makeChunks(40);
  const slow = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const h1 = await holder(members, async (id) => (await slow(5), chunks.get(id)));
  const h2 = await holder(members, async (id) => (await slow(5), chunks.get(id)));
  const r = await reader(members, [h1, h2], { maxInFlightPerPeer: 4 });
  const ids = [...chunks.keys()];
  const got = await r.pull.pullMany(ids, () => [h1.mesh.podId, h2.mesh.podId]);
  got.forEach((b, i) => assert.ok(b.equals(chunks.get(ids[i]!)!), `chunk ${i}`));
  assert.ok(h1.stats.served >= 10 && h2.stats.served >= 10, `both holders served (${h1.stats.served} / ${h2.stats.served})`);
  assert.equal(h1.stats.served + h2.stats.served, 40);
  assert.ok(h1.stats.peak >= 2 && h2.stats.peak >= 2, "both holders served concurrently");

  const liar = await holder(members, async () => randomBytes(1000));
  r.mesh.dial(liar.mesh.address()!);
  await waitFor(() => r.mesh.isConnected(liar.mesh.podId), "liar linked");
  const again = await r.pull.pullMany(ids, () => [liar.mesh.podId, h1.mesh.podId]);
  again.forEach((b, i) => assert.ok(b.equals(chunks.get(ids[i]!)!)));
});

test("in-flight requests per peer stay bounded", async () => {
  const members = new Members();
  const chunks = makeChunks(30, 1024);
  const h = await holder(members, async (id) => (await sleep(20), chunks.get(id)));
  const r = await reader(members, [h], { maxInFlightPerPeer: 3 });
  const ids = [...chunks.keys()];
  const pulls = ids.map((id) => r.pull.pull(id, [h.mesh.podId]));
  assert.equal(r.pull.load(h.mesh.podId), 30, "all queued locally");
  await Promise.all(pulls);
  assert.equal(h.stats.peak, 3, "the holder never saw more than 3 at once, and did see 3");
  assert.equal(r.pull.load(h.mesh.podId), 0);
});

test("missing chunks, timeouts and disconnected holders fail over with clear reasons", async () => {
  const members = new Members();
  const chunks = makeChunks(1, 1024);
  const [id, bytes] = [...chunks][0]!;
  const empty = await holder(members, async () => undefined);
  const stuck = await holder(members, () => new Promise(() => {}));
  const good = await holder(members, async (x) => chunks.get(x));
  const r = await reader(members, [empty, stuck, good], { requestTimeoutMs: 200 });
  await assert.rejects(r.pull.pull(id, [empty.mesh.podId]), /does not hold it/);
  await assert.rejects(r.pull.pull(id, [stuck.mesh.podId]), /timed out after 200 ms/);
  assert.ok((await r.pull.pull(id, [stuck.mesh.podId, empty.mesh.podId, good.mesh.podId])).equals(bytes));
  await assert.rejects(r.pull.pull(id, [generateIdentity().podId]), /no connected holder/);
  await assert.rejects(r.pull.pull("not-a-chunk-id", [good.mesh.podId]), /not a chunk id/);
});

test("a peer flooding chunk requests beyond the server bound is disconnected; others keep pulling", async () => {
  const members = new Members();
  const chunks = makeChunks(1, 1024);
  const [id] = [...chunks.keys()];
  const h = await holder(members, async (x) => (await sleep(50), chunks.get(x)));
  const r = await reader(members, [h]);
  const identity = generateIdentity();
  members.add(identity);
  const flood = rawClient(h.mesh.address()!, { identity });
  assert.deepEqual(await flood.outcome, { established: true });
  for (let i = 1; i <= 100; i++) {
    flood.socket.send(Buffer.concat([Buffer.from([Channel.Chunk]), new WireWriter().u8(0).u32(i).bytes(Buffer.from(id!, "hex")).finish()]));
  }
  assert.equal(await flood.closed, 4000);
  assert.ok((await r.pull.pull(id!, [h.mesh.podId])).equals(chunks.get(id!)!));
});

test("the largest chunk (8 MiB) crosses; a bigger one is refused by the holder with a reason", async () => {
  const members = new Members();
  const max = randomBytes(MAX_CHUNK_BYTES);
  const tooBig = randomBytes(MAX_CHUNK_BYTES + 1);
  const h = await holder(members, async (id) => (id === chunkId(max) ? max : tooBig));
  const r = await reader(members, [h]);
  assert.ok((await r.pull.pull(chunkId(max), [h.mesh.podId])).equals(max));
  await assert.rejects(r.pull.pull(chunkId(tooBig), [h.mesh.podId]), /above the 8388608 limit/);
  assert.ok(r.mesh.isConnected(h.mesh.podId), "a refused read does not cost the link");
});
