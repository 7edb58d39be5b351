/**
 * Fuzzing: random and truncated input against the frame decoder, the handshake state machine
 * and a live listener. The only acceptable outcomes are "accepted" or ProtocolError / a closed
 * connection; never another exception, never a dead process, never a disturbed neighbour.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterEach, test } from "node:test";
import fc from "fast-check";
import WebSocket from "ws";
import * as Y from "yjs";
import { wsUrl } from "../../src/net/address.js";
import { ChunkPull } from "../../src/net/chunk-pull.js";
import { DocSync } from "../../src/net/doc-sync.js";
import { ProtocolError } from "../../src/net/errors.js";
import { Channel, MAX_PAYLOAD, decodeFrame, encodeFrame } from "../../src/net/frame.js";
import { Handshake, type Side } from "../../src/net/handshake.js";
import { generateIdentity } from "../../src/net/identity.js";
import { Rpc } from "../../src/net/rpc.js";
import { CLUSTER, Members, makeMesh, rawClient, stopAllMeshes, waitFor } from "./helpers.js";

afterEach(stopAllMeshes);

const RUNS = Number(process.env.NET_FUZZ_RUNS ?? 2000);

function onlyProtocolErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

test("frame decoder: random bytes decode or throw ProtocolError, and limits hold", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      onlyProtocolErrors(() => {
        const frame = decodeFrame(Buffer.from(bytes));
        assert.ok(frame.channel <= Channel.Rpc);
        assert.ok(frame.payload.length <= MAX_PAYLOAD[frame.channel]);
      });
    }),
    { numRuns: RUNS },
  );
  assert.throws(() => decodeFrame(Buffer.alloc(0)), ProtocolError);
  assert.throws(() => decodeFrame("text"), ProtocolError);
  assert.throws(() => decodeFrame(Buffer.from([9, 1, 2])), /unknown channel 9/);
  assert.throws(() => decodeFrame(Buffer.alloc(MAX_PAYLOAD[Channel.Awareness] + 2, Channel.Awareness)), /exceeds its limit/);
});

/** A handshake side whose outgoing messages are captured, for driving it by hand. */
function side(which: Side, o: { invite?: string } = {}) {
  const sent: Buffer[] = [];
  const result: { established?: boolean; failed?: string; authorized: number } = { authorized: 0 };
  const hs = new Handshake({
    side: which,
    identity: generateIdentity(),
    cluster: CLUSTER,
    role: "full",
    invite: o.invite,
    timeoutMs: 60_000,
    authorize: () => {
      result.authorized++;
      return { ok: true };
    },
    send: (p) => sent.push(p),
    onEstablished: () => (result.established = true),
    onFailed: (reason) => (result.failed = reason),
  });
  hs.start();
  return { hs, sent, result };
}

test("handshake: random and truncated messages never establish and only throw ProtocolError", async () => {
  // A genuine HELLO, then every truncation of it, must be rejected by the peer's state machine.
  const genuine = side("dialer");
  const hello = genuine.sent[0]!;
  genuine.hs.dispose();
  for (let len = 0; len < hello.length; len++) {
    const s = side("acceptor");
    assert.throws(() => s.hs.receive(hello.subarray(0, len)), ProtocolError, `truncated at ${len}`);
    s.hs.dispose();
  }
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 4 }), fc.boolean(), (messages, startWithHello) => {
      const s = side("acceptor");
      onlyProtocolErrors(() => {
        if (startWithHello) s.hs.receive(hello); // a valid hello, then garbage proof/verdicts
        for (const m of messages) s.hs.receive(Buffer.from(m));
      });
      assert.notEqual(s.result.established, true, "garbage never completes a handshake");
      assert.equal(s.result.authorized, 0, "the pod is never asked to authorise an unproven key");
      s.hs.dispose();
    }),
    { numRuns: RUNS },
  );
  await new Promise((r) => setImmediate(r));
});

test("handshake: a proof replayed from another connection or reflected back is refused", () => {
  // Record a full honest exchange between d1 and a1.
  const d1 = side("dialer");
  const a1 = side("acceptor");
  a1.hs.receive(d1.sent[0]!);
  d1.hs.receive(a1.sent[0]!);
  const d1Proof = d1.sent[1]!;
  const a1Proof = a1.sent[1]!;
  // Replay d1's proof to a fresh acceptor (different nonce): refused.
  const a2 = side("acceptor");
  a2.hs.receive(d1.sent[0]!);
  a2.hs.receive(d1Proof);
  assert.match(a2.result.failed ?? "", /proof does not verify/);
  // Reflect the acceptor's own proof back at it as if the dialer had signed it: refused.
  a1.hs.receive(a1Proof);
  assert.match(a1.result.failed ?? "", /proof does not verify/);
  for (const s of [d1, a1, a2]) s.hs.dispose();
});

async function fuzzTarget() {
  const members = new Members();
  const server = makeMesh({ members });
  const doc = new Y.Doc();
  doc.getMap("ns").set("k", 1);
  new DocSync(server, new Map([["shard-0", doc]]));
  new ChunkPull(server, { provider: async () => undefined });
  new Rpc(server).handle("ping", () => "pong");
  const healthy = makeMesh({ members });
  const healthyRpc = new Rpc(healthy);
  await Promise.all([server.start(), healthy.start()]);
  healthy.dial(server.address()!);
  await waitFor(() => server.isConnected(healthy.podId), "healthy peer linked");
  return { members, server, healthy, healthyRpc };
}

test("live listener: random bytes before the handshake (TCP garbage, text, random frames) close the connection", async () => {
  const { server, healthy, healthyRpc } = await fuzzTarget();
  const { host, port } = { host: "127.0.0.1", port: Number(server.address()!.split(":")[1]) };
  for (let i = 0; i < 10; i++) {
    const garbage = connect({ host, port });
    garbage.on("error", () => {});
    garbage.resume(); // read the server's 400 reply, or "close" never comes
    // A leading NUL is never a valid HTTP method byte, so the server cannot wait for "the rest of a request".
    garbage.write(Buffer.concat([Buffer.from([0]), randomBytes((i * 97) % 2000)]));
    await new Promise((r) => garbage.once("close", r));
  }
  for (let i = 0; i < 30; i++) {
    const ws = new WebSocket(wsUrl(server.address()!));
    ws.on("error", () => {});
    await new Promise((r) => ws.once("open", r));
    const received: Buffer[] = [];
    ws.on("message", (d: Buffer) => received.push(d));
    if (i % 3 === 0) ws.send("not binary");
    else ws.send(randomBytes(1 + (i * 37) % 400));
    const code = await new Promise<number>((r) => ws.once("close", r));
    assert.ok(code === 4000 || code === 4001, `closed for cause (code ${code})`);
    assert.ok(received.every((f) => f[0] === Channel.Handshake), "nothing but handshake frames");
  }
  assert.ok(server.isConnected(healthy.podId), "the healthy peer is unaffected");
  assert.equal(await healthyRpc.request(server.podId, "ping", null), "pong");
});

test("live listener: random frames on every channel after the handshake close only that connection", async () => {
  const { members, server, healthy, healthyRpc } = await fuzzTarget();
  const samples = fc.sample(fc.tuple(fc.constantFrom(Channel.Sync, Channel.Awareness, Channel.Chunk, Channel.Rpc, Channel.Handshake), fc.uint8Array({ maxLength: 120 })), 40);
  for (let i = 0; i < 8; i++) {
    const identity = generateIdentity();
    members.add(identity);
    const raw = rawClient(server.address()!, { identity });
    assert.deepEqual(await raw.outcome, { established: true });
    for (const [channel, payload] of samples.slice(i * 5, i * 5 + 5)) raw.socket.send(encodeFrame(channel, payload));
    // Truncated chunk request, then an unknown channel: definitely malformed.
    raw.socket.send(Buffer.from([Channel.Chunk, 0, 0, 0]));
    raw.socket.send(Buffer.from([77]));
    assert.equal(await raw.closed, 4000);
  }
  assert.ok(server.isConnected(healthy.podId), "the healthy peer is unaffected");
  assert.equal(await healthyRpc.request(server.podId, "ping", null), "pong");
});

test("live listener: oversized frames are refused (channel limit, then the ws maxPayload)", async () => {
  const { members, server, healthy, healthyRpc } = await fuzzTarget();
  const identity = generateIdentity();
  members.add(identity);
  const overChannel = rawClient(server.address()!, { identity });
  assert.deepEqual(await overChannel.outcome, { established: true });
  overChannel.socket.send(Buffer.alloc(MAX_PAYLOAD[Channel.Awareness] + 2, Channel.Awareness));
  assert.equal(await overChannel.closed, 4000);
  const overWs = rawClient(server.address()!, { identity });
  assert.deepEqual(await overWs.outcome, { established: true });
  overWs.socket.send(Buffer.alloc(MAX_PAYLOAD[Channel.Sync] + 64, Channel.Sync));
  assert.equal(await overWs.closed, 1009, "ws refuses a message above maxPayload before buffering it whole");
  assert.equal(await healthyRpc.request(server.podId, "ping", null), "pong");
  assert.ok(server.isConnected(healthy.podId));
});
