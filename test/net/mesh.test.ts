import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { generateIdentity } from "../../src/net/identity.js";
import { Members, stopAllMeshes, makeMesh, recordingLog, sleep, waitFor } from "./helpers.js";

afterEach(stopAllMeshes);

test("simultaneous dials produce exactly one connection, kept stable", async () => {
  for (let round = 0; round < 5; round++) {
    const members = new Members();
    const a = makeMesh({ members });
    const b = makeMesh({ members });
    await Promise.all([a.start(), b.start()]);
    let upsA = 0;
    let downsA = 0;
    a.onPeerUp(() => upsA++);
    a.onPeerDown(() => downsA++);
    a.dial(b.address()!);
    b.dial(a.address()!);
    await waitFor(() => a.isConnected(b.podId) && b.isConnected(a.podId), "link up");
    await sleep(300); // let any duplicate be resolved and any redial happen
    assert.equal(a.peers().length, 1);
    assert.equal(b.peers().length, 1);
    const kept = a.peer(b.podId)!;
    assert.equal(kept.dialler, [a.podId, b.podId].sort()[0], "the link dialled by the lower pod id is kept");
    assert.equal(b.peer(a.podId)!.dialler, kept.dialler, "both sides kept the same link");
    assert.equal(upsA - downsA, 1, "net one live peer");
    await Promise.all([a.stop(), b.stop()]);
  }
});

test("a dialler reconnects after the listener restarts on the same address", async () => {
  const members = new Members();
  const serverIdentity = generateIdentity();
  let server = makeMesh({ members, identity: serverIdentity });
  await server.start();
  const address = server.address()!;
  const client = makeMesh({ members, role: "client", listen: null });
  await client.start();
  client.dial(address);
  await waitFor(() => client.isConnected(serverIdentity.podId), "first link");
  const downs: string[] = [];
  client.onPeerDown((p) => downs.push(p.podId));
  await server.stop();
  await waitFor(() => downs.length === 1, "peer down seen by the client");
  await sleep(300); // a few failed redials against the closed port
  server = makeMesh({ members, identity: serverIdentity, listen: address });
  await server.start();
  await waitFor(() => client.isConnected(serverIdentity.podId), "link re-established after restart", 3000);
  await Promise.all([server.stop(), client.stop()]);
});

test("a silently dead link (no FIN, no pongs) is detected by keepalive within a few intervals", async () => {
  const members = new Members();
  const a = makeMesh({ members, keepaliveMs: 200 });
  const b = makeMesh({ members, keepaliveMs: 200 });
  await Promise.all([a.start(), b.start()]);
  a.dial(b.address()!);
  await waitFor(() => a.isConnected(b.podId) && b.isConnected(a.podId), "link up");
  a.undial(b.address()!);
  // Freeze b's side of the TCP stream: b stops reading, so it answers no ping, like a pulled cable.
  (b.peer(a.podId)!.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  const started = Date.now();
  await waitFor(() => !a.isConnected(b.podId), "a notices the dead link", 2000);
  assert.ok(Date.now() - started <= 1000, `detected in ${Date.now() - started} ms (interval 200 ms; 2 intervals + scheduling slack)`);
  await Promise.all([a.stop(), b.stop()]);
});

test("presence: set on change, delivered on connect, listed by peers()", async () => {
  const members = new Members();
  const a = makeMesh({ members });
  const b = makeMesh({ members });
  a.setPresence({ role: "full", freeBytes: 100, capacityBytes: 1000, load: 0.5, addresses: ["x:1"] });
  await Promise.all([a.start(), b.start()]);
  b.dial(a.address()!);
  await waitFor(() => (b.peers()[0]?.presence as { freeBytes?: number } | undefined)?.freeBytes === 100, "initial presence");
  a.setPresence({ role: "full", freeBytes: 42 });
  await waitFor(() => (b.peers()[0]?.presence as { freeBytes?: number }).freeBytes === 42, "updated presence");
  assert.throws(() => a.setPresence({ blob: "x".repeat(100_000) }), /limit/);
  await Promise.all([a.stop(), b.stop()]);
});

test("setDialTargets reconciles links, and a pod that dials itself stops", async () => {
  const members = new Members();
  const log = recordingLog();
  const a = makeMesh({ members, log });
  const b = makeMesh({ members });
  const c = makeMesh({ members });
  await Promise.all([a.start(), b.start(), c.start()]);
  a.setDialTargets([b.address()!, c.address()!, a.address()!]);
  await waitFor(() => a.peers().length === 2, "two links");
  await waitFor(() => log.lines.some((l) => /is this pod itself/.test(l)), "self dial noticed");
  a.setDialTargets([b.address()!]);
  await waitFor(() => !a.isConnected(c.podId), "c dropped");
  await sleep(200);
  assert.deepEqual(a.peers().map((p) => p.podId), [b.podId]);
  await Promise.all([a.stop(), b.stop(), c.stop()]);
});

type Handle = { constructor?: { name?: string } };
const activeHandles = () => (process as unknown as { _getActiveHandles(): Handle[] })._getActiveHandles();
const countOf = (kind: string) => activeHandles().filter((h) => h?.constructor?.name === kind).length;

test("disconnect() drops a removed member; its redial is then refused by authorize", async () => {
  const members = new Members();
  const a = makeMesh({ members });
  const b = makeMesh({ members });
  await Promise.all([a.start(), b.start()]);
  b.dial(a.address()!);
  await waitFor(() => a.isConnected(b.podId), "link");
  members.keys.delete(b.podId); // the pod removed b from the cluster
  a.disconnect(b.podId, "removed from the cluster");
  await waitFor(() => !a.isConnected(b.podId), "b dropped");
  await sleep(300); // b keeps redialling and is refused each time
  assert.equal(a.isConnected(b.podId), false);
});

test("listening on a busy port fails with a clear error and leaves the mesh stopped", async () => {
  const members = new Members();
  const a = makeMesh({ members });
  await a.start();
  const b = makeMesh({ members, listen: a.address()! });
  await assert.rejects(b.start(), /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  await b.stop(); // a no-op, not a hang
});

test("stop() closes sockets and leaves no timers behind", async () => {
  const before = { timers: countOf("Timeout"), sockets: countOf("Socket"), servers: countOf("Server") };
  const members = new Members();
  const a = makeMesh({ members });
  const b = makeMesh({ members });
  await Promise.all([a.start(), b.start()]);
  a.dial(b.address()!);
  a.dial("127.0.0.1:1"); // a target that never answers: its redial timer must be cleared too
  await waitFor(() => a.isConnected(b.podId), "link up");
  await a.stop();
  await waitFor(() => !b.isConnected(a.podId), "b sees a leave");
  await b.stop();
  await sleep(50); // let socket handles finish closing
  // Handles of earlier tests may still be closing, so "no more than before" is the check.
  assert.ok(countOf("Timeout") <= before.timers, "no timer left behind");
  assert.ok(countOf("Socket") <= before.sockets, "no socket left behind");
  assert.ok(countOf("Server") <= before.servers, "no listener left behind");
});
