import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as Y from "yjs";
import { DocSync } from "../../src/net/doc-sync.js";
import { Channel } from "../../src/net/frame.js";
import { generateIdentity } from "../../src/net/identity.js";
import { createInvite } from "../../src/net/invite.js";
import type { Mesh } from "../../src/net/mesh.js";
import { CLUSTER, Members, channelsOf, stopAllMeshes, makeMesh, rawClient, recordingLog, waitFor } from "./helpers.js";

after(stopAllMeshes); // the shared listener lives for the whole first suite

describe("handshake against a live listener holding namespace data", () => {
  const members = new Members();
  const log = recordingLog();
  const serverIdentity = generateIdentity();
  let server: Mesh;
  let address: string;

  before(async () => {
    server = makeMesh({ members, log, identity: serverIdentity });
    const doc = new Y.Doc();
    doc.getMap("ns").set("secret", "namespace data");
    new DocSync(server, new Map([["shard-0", doc]]));
    server.setPresence({ role: "full", freeBytes: 1 });
    await server.start();
    address = server.address()!;
  });
  after(() => server.stop());

  test("a member is accepted and then receives namespace data", async () => {
    const identity = generateIdentity();
    members.add(identity);
    const client = rawClient(address, { identity });
    assert.deepEqual(await client.outcome, { established: true });
    await waitFor(() => channelsOf(client.received).includes(Channel.Sync), "sync frames after the handshake");
    assert.ok(channelsOf(client.received).includes(Channel.Awareness));
    client.socket.close();
  });

  const refusals: Array<[string, () => { identity?: ReturnType<typeof generateIdentity>; invite?: string; cluster?: string }, RegExp]> = [
    ["an unknown key without invite", () => ({}), /not a member/],
    ["an expired invite", () => ({ invite: createInvite({ cluster: CLUSTER, issuer: serverIdentity, expiresAt: Date.now() - 1000, addresses: [address] }) }), /expired/],
    [
      "a forged invite (claims altered after signing)",
      () => {
        const real = createInvite({ cluster: CLUSTER, issuer: serverIdentity, expiresAt: Date.now() - 1000, addresses: [address] });
        const [v, body, sig] = real.split(".");
        const claims = JSON.parse(Buffer.from(body!, "base64url").toString());
        claims.expiresAt = Date.now() + 3_600_000;
        return { invite: `${v}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${sig}` };
      },
      /signature/,
    ],
    [
      "an invite signed by a non-member",
      () => ({ invite: createInvite({ cluster: CLUSTER, issuer: generateIdentity(), expiresAt: Date.now() + 60_000, addresses: [address] }) }),
      /not a known member/,
    ],
    ["an invite for another cluster", () => ({ invite: createInvite({ cluster: "other", issuer: serverIdentity, expiresAt: Date.now() + 60_000, addresses: [address] }) }), /cluster "other"/],
    ["a hello for another cluster", () => ({ cluster: "other" }), /wrong cluster/],
  ];

  for (const [name, setup, reason] of refusals) {
    test(`refused: ${name}; the refused side receives only handshake frames`, async () => {
      const client = rawClient(address, setup());
      const outcome = await client.outcome;
      assert.equal(outcome.established, false);
      assert.match(outcome.reason ?? "", reason);
      assert.equal(await client.closed, 4001);
      const leaked = channelsOf(client.received).filter((c) => c !== Channel.Handshake);
      assert.deepEqual(leaked, [], "no sync/awareness/chunk/rpc frame before or after a refusal");
      assert.ok(client.received.length >= 1, "the refused side did get the handshake (it saw the refusal)");
    });
  }

  test("a valid invite admits a new pod, which is then recorded as a member", async () => {
    const joiner = generateIdentity();
    const invite = createInvite({ cluster: CLUSTER, issuer: serverIdentity, expiresAt: Date.now() + 60_000, addresses: [address] });
    const client = rawClient(address, { identity: joiner, invite });
    assert.deepEqual(await client.outcome, { established: true });
    assert.ok(members.keys.has(joiner.podId));
    client.socket.close();
    // Later connections need no invite.
    const again = rawClient(address, { identity: joiner });
    assert.deepEqual(await again.outcome, { established: true });
    again.socket.close();
  });

  test("a sync frame sent before the handshake closes the socket and reveals nothing", async () => {
    const client = rawClient(address, { handshake: false });
    await new Promise((r) => client.socket.once("open", r));
    client.socket.send(Buffer.from([Channel.Sync, 7, ...Buffer.from("shard-0"), 0, 0]));
    assert.equal(await client.closed, 4000);
    assert.deepEqual(channelsOf(client.received).filter((c) => c !== Channel.Handshake), []);
    assert.ok(log.lines.some((l) => /Sync frame before the handshake completed/.test(l)));
  });

  test("a handshake that never completes times out", async () => {
    const client = rawClient(address, { handshake: false });
    const started = Date.now();
    await client.closed;
    assert.ok(Date.now() - started >= 1500, "closed by the 2 s handshake timeout, not earlier");
  });
});

describe("mesh to mesh", () => {
  test("a full pod dials a full pod and a client pod dials it; both sides see peer up with identity and role", async () => {
    const members = new Members();
    const a = makeMesh({ members });
    const b = makeMesh({ members });
    const c = makeMesh({ members, role: "client", listen: null });
    await Promise.all([a.start(), b.start(), c.start()]);
    const ups: string[] = [];
    a.onPeerUp((p) => ups.push(`${p.podId}:${p.role}`));
    b.dial(a.address()!);
    c.dial(a.address()!);
    await waitFor(() => a.peers().length === 2 && b.isConnected(a.podId) && c.isConnected(a.podId), "links up");
    assert.deepEqual(new Set(ups), new Set([`${b.podId}:full`, `${c.podId}:client`]));
    assert.equal(c.peers()[0]!.role, "full");
    assert.equal(c.address(), undefined, "a client pod does not listen");
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });

  test("the dialling side refuses an acceptor its pod does not know (no data goes to an impostor)", async () => {
    const members = new Members();
    const impostorMembers = new Members();
    const impostor = makeMesh({ members: impostorMembers, authorize: () => ({ ok: true }) });
    const log = recordingLog();
    const dialer = makeMesh({ members, log });
    await Promise.all([impostor.start(), dialer.start()]);
    dialer.dial(impostor.address()!);
    await waitFor(() => log.lines.some((l) => /not a member/.test(l)), "outbound refusal logged");
    assert.equal(dialer.peers().length, 0);
    assert.equal(impostor.peers().length, 0);
    await Promise.all([impostor.stop(), dialer.stop()]);
  });
});
