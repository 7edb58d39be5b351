import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Channel } from "../../src/net/frame.js";
import { generateIdentity } from "../../src/net/identity.js";
import { Rpc } from "../../src/net/rpc.js";
import { Members, makeMesh, rawClient, stopAllMeshes, waitFor } from "./helpers.js";

afterEach(stopAllMeshes);

test("rpc: results, handler errors, unknown methods, timeouts, malformed messages", async () => {
  const members = new Members();
  const a = makeMesh({ members });
  const b = makeMesh({ members });
  const rpcA = new Rpc(a);
  const rpcB = new Rpc(b);
  rpcB.handle("add", (p) => {
    const { x, y } = p as { x: number; y: number };
    return x + y;
  });
  rpcB.handle("whoami", (_p, from) => from.podId);
  rpcB.handle("fail", async () => {
    throw new Error("disk on fire");
  });
  rpcB.handle("never", () => new Promise(() => {}));
  await Promise.all([a.start(), b.start()]);
  a.dial(b.address()!);
  await waitFor(() => a.isConnected(b.podId), "link");

  assert.equal(await rpcA.request(b.podId, "add", { x: 2, y: 3 }), 5);
  assert.equal(await rpcA.request(b.podId, "whoami", null), a.podId);
  await assert.rejects(rpcA.request(b.podId, "fail", null), /disk on fire/);
  await assert.rejects(rpcA.request(b.podId, "nope", null), /unknown rpc method "nope"/);
  await assert.rejects(rpcA.request(b.podId, "never", null, { timeoutMs: 100 }), /timed out after 100 ms/);
  await assert.rejects(rpcA.request(generateIdentity().podId, "add", {}), /not connected/);
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => rpcA.request(b.podId, "add", { x: i, y: 1 })));
  assert.deepEqual(many, Array.from({ length: 200 }, (_, i) => i + 1));

  // A peer sending a non-rpc-shaped message is cut off; the healthy link stays.
  const identity = generateIdentity();
  members.add(identity);
  const raw = rawClient(b.address()!, { identity });
  assert.deepEqual(await raw.outcome, { established: true });
  raw.socket.send(Buffer.concat([Buffer.from([Channel.Rpc]), Buffer.from('{"t":"q","id":-1}')]));
  assert.equal(await raw.closed, 4000);
  assert.equal(await rpcA.request(b.podId, "add", { x: 1, y: 1 }), 2);
});

test("pending rpc requests fail at once when the peer goes away", async () => {
  const members = new Members();
  const a = makeMesh({ members });
  const b = makeMesh({ members });
  const rpcA = new Rpc(a);
  new Rpc(b).handle("never", () => new Promise(() => {}));
  await Promise.all([a.start(), b.start()]);
  a.dial(b.address()!);
  await waitFor(() => a.isConnected(b.podId), "link");
  const pending = rpcA.request(b.podId, "never", null, { timeoutMs: 10_000 });
  const rejected = assert.rejects(pending, /disconnected/);
  const started = Date.now();
  await b.stop();
  await rejected;
  assert.ok(Date.now() - started < 2000);
});
