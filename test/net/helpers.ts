/** Test fixtures for the net layer: real meshes on 127.0.0.1 port 0, real key pairs. */
import WebSocket from "ws";
import { wsUrl } from "../../src/net/address.js";
import { Channel, decodeFrame, encodeFrame } from "../../src/net/frame.js";
import { Handshake, type Authorize } from "../../src/net/handshake.js";
import { generateIdentity, type Identity } from "../../src/net/identity.js";
import { InviteError, verifyInvite } from "../../src/net/invite.js";
import { Mesh, type MeshOptions } from "../../src/net/mesh.js";
import type { Log, PodId } from "../../src/net/types.js";

export const CLUSTER = "test-cluster";

/** A cluster's membership as the pod layer would keep it: pod id → public key. */
export class Members {
  readonly keys = new Map<PodId, Buffer>();

  add(...identities: Identity[]): this {
    for (const i of identities) this.keys.set(i.podId, i.publicKey);
    return this;
  }

  /** The pod layer's rule: members pass; a valid invite makes a new member. */
  readonly authorize: Authorize = (req) => {
    if (this.keys.has(req.podId)) return { ok: true };
    if (!req.invite) return { ok: false, reason: `pod ${req.podId} is not a member and presented no invite` };
    try {
      verifyInvite(req.invite, { cluster: CLUSTER, now: Date.now(), publicKeyOf: (id) => this.keys.get(id) });
    } catch (err) {
      return { ok: false, reason: (err as InviteError).message };
    }
    this.keys.set(req.podId, req.publicKey);
    return { ok: true };
  };
}

/** Collects log lines so tests can assert a refusal was logged. */
export function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const log = ((level, message) => {
    lines.push(`${level}: ${message}`);
    if (process.env.NET_TEST_LOG) console.log(`${level}: ${message}`);
  }) as Log & { lines: string[] };
  log.lines = lines;
  return log;
}

const liveMeshes = new Set<Mesh>();

/** afterEach hook: a failed test must not leave sockets that keep the runner alive. */
export async function stopAllMeshes(): Promise<void> {
  await Promise.all([...liveMeshes].map((m) => m.stop()));
  liveMeshes.clear();
}

export function makeMesh(o: Omit<Partial<MeshOptions>, "listen"> & { identity?: Identity; members: Members; listen?: string | null }): Mesh {
  const identity = o.identity ?? generateIdentity();
  o.members.add(identity);
  const mesh = new Mesh({
    identity,
    cluster: CLUSTER,
    role: o.role ?? "full",
    authorize: o.authorize ?? o.members.authorize,
    log: o.log ?? recordingLog(),
    listen: o.listen === null ? undefined : (o.listen ?? "127.0.0.1:0"),
    keepaliveMs: o.keepaliveMs ?? 1000,
    backoff: o.backoff ?? { initialMs: 50, maxMs: 500 },
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 2000,
  });
  liveMeshes.add(mesh);
  return mesh;
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RawClient {
  socket: WebSocket;
  /** Every frame the server sent, from the first byte. */
  received: Buffer[];
  /** Resolves when the handshake settles. */
  outcome: Promise<{ established: boolean; reason?: string }>;
  closed: Promise<number>;
}

/**
 * A hand-driven client: our Handshake over a bare ws socket, recording every frame the
 * server sends. Used to prove what a refused or misbehaving peer gets to see.
 */
export function rawClient(address: string, o: { identity?: Identity; cluster?: string; invite?: string; handshake?: boolean } = {}): RawClient {
  const socket = new WebSocket(wsUrl(address), { perMessageDeflate: false });
  const received: Buffer[] = [];
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  let settle!: (v: { established: boolean; reason?: string }) => void;
  const outcome = new Promise<{ established: boolean; reason?: string }>((r) => (settle = r));
  const handshake = new Handshake({
    side: "dialer",
    identity: o.identity ?? generateIdentity(),
    cluster: o.cluster ?? CLUSTER,
    role: "full",
    invite: o.invite,
    authorize: () => ({ ok: true }),
    send: (p) => socket.send(encodeFrame(Channel.Handshake, p)),
    onEstablished: () => settle({ established: true }),
    onFailed: (reason) => settle({ established: false, reason }),
  });
  socket.on("message", (data: Buffer) => {
    received.push(Buffer.from(data));
    try {
      const frame = decodeFrame(data);
      if (frame.channel === Channel.Handshake) handshake.receive(frame.payload);
    } catch (err) {
      settle({ established: false, reason: String(err) });
    }
  });
  socket.once("close", () => {
    handshake.dispose();
    settle({ established: false, reason: "closed" });
  });
  if (o.handshake !== false) socket.once("open", () => handshake.start());
  return { socket, received, outcome, closed };
}

/** Channels of the frames a raw client received (handshake frames included). */
export function channelsOf(frames: Buffer[]): Channel[] {
  return frames.map((f) => f[0] as Channel);
}
