import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import * as encoding from "lib0/encoding";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import { DocSync } from "../../src/net/doc-sync.js";
import { Channel } from "../../src/net/frame.js";
import { generateIdentity } from "../../src/net/identity.js";
import type { Mesh } from "../../src/net/mesh.js";
import { WireWriter } from "../../src/net/wire.js";
import { Members, makeMesh, rawClient, recordingLog, sleep, stopAllMeshes, waitFor } from "./helpers.js";

afterEach(stopAllMeshes);

const SHARDS = ["shard-0", "shard-1", "shard-2"];

function pod(members: Members, opts: { client?: boolean } = {}) {
  const docs = new Map(SHARDS.map((n) => [n, new Y.Doc()]));
  const log = recordingLog();
  const mesh = makeMesh({ members, log, role: opts.client ? "client" : "full", listen: opts.client ? null : undefined });
  const sync = new DocSync(mesh, docs);
  return { mesh, docs, sync, log };
}

/** Two full pods, a dialling b, linked. */
async function linkedPair(members: Members) {
  const a = pod(members);
  const b = pod(members);
  await Promise.all([a.mesh.start(), b.mesh.start()]);
  a.mesh.dial(b.mesh.address()!);
  await waitFor(() => a.mesh.isConnected(b.mesh.podId), "link");
  return { a, b };
}

const snapshot = (docs: Map<string, Y.Doc>) => JSON.stringify(SHARDS.map((n) => docs.get(n)!.getMap("ns").toJSON()));

test("several docs converge between 3 meshes, including edits made while one was offline", async () => {
  const members = new Members();
  const a = pod(members);
  const b = pod(members);
  const c = pod(members);
  await Promise.all([a.mesh.start(), b.mesh.start(), c.mesh.start()]);
  // Edits before anyone is connected.
  a.docs.get("shard-0")!.getMap("ns").set("a0", 1);
  b.docs.get("shard-1")!.getMap("ns").set("b1", 2);
  a.mesh.setDialTargets([b.mesh.address()!, c.mesh.address()!]);
  b.mesh.dial(c.mesh.address()!);
  await waitFor(() => a.mesh.peers().length === 2 && b.mesh.peers().length === 2 && c.mesh.peers().length === 2, "full mesh");
  c.docs.get("shard-2")!.getMap("ns").set("c2", 3);
  await waitFor(() => snapshot(a.docs) === snapshot(b.docs) && snapshot(b.docs) === snapshot(c.docs) && snapshot(a.docs).includes("c2"), "online convergence");

  // c goes offline; everyone keeps writing; c comes back.
  await c.mesh.stop();
  await waitFor(() => a.mesh.peers().length === 1 && b.mesh.peers().length === 1, "c gone");
  c.docs.get("shard-0")!.getMap("ns").set("offline-c", "x");
  a.docs.get("shard-1")!.getMap("ns").set("while-c-away", "y");
  await c.mesh.start(); // listens on a new port: c dials back, like a laptop returning
  c.mesh.setDialTargets([a.mesh.address()!, b.mesh.address()!]);
  await waitFor(() => snapshot(a.docs) === snapshot(c.docs) && snapshot(b.docs) === snapshot(c.docs) && snapshot(a.docs).includes("offline-c") && snapshot(c.docs).includes("while-c-away"), "convergence after reconnect", 8000);
  await Promise.all([a.mesh.stop(), b.mesh.stop(), c.mesh.stop()]);
});

test("a remote update is never echoed back, and a client's edit reaches another client through a full pod", async () => {
  const members = new Members();
  const full = pod(members);
  const c1 = pod(members, { client: true });
  const c2 = pod(members, { client: true });
  await full.mesh.start();
  await Promise.all([c1.mesh.start(), c2.mesh.start()]);
  c1.mesh.dial(full.mesh.address()!);
  c2.mesh.dial(full.mesh.address()!);
  await waitFor(() => full.mesh.peers().length === 2, "clients linked");
  await sleep(100); // initial sync done
  const received: Uint8Array[] = [];
  c1.docs.get("shard-0")!.on("update", (u: Uint8Array, origin: unknown) => {
    if (origin !== null) received.push(u);
  });
  c1.docs.get("shard-0")!.getMap("ns").set("from-c1", 1);
  await waitFor(() => c2.docs.get("shard-0")!.getMap("ns").get("from-c1") === 1, "client to client via the full pod");
  await sleep(200);
  assert.equal(received.length, 0, "c1 never got its own update back");
  await Promise.all([full.mesh.stop(), c1.mesh.stop(), c2.mesh.stop()]);
});

test("a burst of 5000 transactions is batched and converges", async () => {
  const { a, b } = await linkedPair(new Members());
  const map = a.docs.get("shard-1")!.getMap("ns");
  const started = Date.now();
  for (let i = 0; i < 5000; i++) map.set(`k${i}`, i);
  await waitFor(() => b.docs.get("shard-1")!.getMap("ns").size === 5000, "all 5000 keys on b");
  const ms = Date.now() - started;
  assert.ok(ms < 3000, `took ${ms} ms`);
  await Promise.all([a.mesh.stop(), b.mesh.stop()]);
});

test("docs added to the map later start syncing with connected peers", async () => {
  const { a, b } = await linkedPair(new Members());
  const late = new Y.Doc();
  late.getMap("ns").set("late", true);
  a.docs.set("shard-late", late);
  b.docs.set("shard-late", new Y.Doc());
  a.sync.docsChanged();
  await waitFor(() => b.docs.get("shard-late")!.getMap("ns").get("late") === true, "late doc synced");
  await Promise.all([a.mesh.stop(), b.mesh.stop()]);
});

async function authenticatedRaw(server: Mesh, members: Members) {
  const identity = generateIdentity();
  members.add(identity);
  const raw = rawClient(server.address()!, { identity });
  assert.deepEqual(await raw.outcome, { established: true });
  return raw;
}

const syncFrame = (name: string, message: Uint8Array) => Buffer.concat([Buffer.from([Channel.Sync]), new WireWriter().string(name, 255).bytes(message).finish()]);

test("a frame naming an unknown doc, or carrying a malformed update, closes only that connection", async () => {
  const members = new Members();
  const server = pod(members);
  const other = pod(members);
  await Promise.all([server.mesh.start(), other.mesh.start()]);
  other.mesh.dial(server.mesh.address()!);
  await waitFor(() => server.mesh.isConnected(other.mesh.podId), "healthy peer linked");

  const unknown = await authenticatedRaw(server.mesh, members);
  const enc = encoding.createEncoder();
  syncProtocol.writeSyncStep1(enc, new Y.Doc());
  unknown.socket.send(syncFrame("no-such-shard", encoding.toUint8Array(enc)));
  assert.equal(await unknown.closed, 4000);
  assert.ok(server.log.lines.some((l) => /unknown doc "no-such-shard"/.test(l)));

  const garbage = await authenticatedRaw(server.mesh, members);
  const bad = encoding.createEncoder();
  syncProtocol.writeUpdate(bad, Uint8Array.from([1, 200, 7, 3, 255, 255, 255, 9, 1, 2]));
  garbage.socket.send(syncFrame("shard-0", encoding.toUint8Array(bad)));
  assert.equal(await garbage.closed, 4000);
  assert.ok(server.log.lines.some((l) => /malformed sync message for doc "shard-0"/.test(l)));

  // The healthy peer is unaffected and still syncing.
  other.docs.get("shard-2")!.getMap("ns").set("still", "here");
  await waitFor(() => server.docs.get("shard-2")!.getMap("ns").get("still") === "here", "healthy peer still syncs");
  assert.ok(server.mesh.isConnected(other.mesh.podId));
  await Promise.all([server.mesh.stop(), other.mesh.stop()]);
});

test("a DocSync created after the link is up syncs over it", async () => {
  const members = new Members();
  const a = makeMesh({ members });
  const b = makeMesh({ members });
  await Promise.all([a.start(), b.start()]);
  a.dial(b.address()!);
  await waitFor(() => a.isConnected(b.podId), "link");
  const docA = new Y.Doc();
  docA.getMap("ns").set("early", 1);
  const docB = new Y.Doc();
  new DocSync(a, new Map([["s", docA]]));
  new DocSync(b, new Map([["s", docB]]));
  await waitFor(() => docB.getMap("ns").get("early") === 1, "synced after late wiring");
});
