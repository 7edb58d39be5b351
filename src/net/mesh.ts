/**
 * The mesh: one authenticated WebSocket per pair of pods, kept alive and redialled.
 *
 * - Full pods listen; every pod dials the addresses the pod layer gives it and keeps those
 *   links up with exponential backoff and jitter.
 * - Every socket starts in the handshake. Until it completes, only handshake frames are
 *   accepted; the PeerConnection (the only sender of other channels) is created at completion.
 * - Two pods dialling each other at once end up with exactly one connection: both sides keep
 *   the one dialled by the lower pod id (or the newer one if the same pod dialled both).
 * - Any malformed frame or throwing handler closes that connection with a log line; nothing a
 *   peer sends escapes as an exception.
 * - Modules (doc sync, chunk pull, rpc) plug in per channel with `useChannel`; presence
 *   (awareness) is built in because `peers()` reports it.
 */
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { WS_PATH, formatAddress, parseAddress, wsUrl } from "./address.js";
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from "./backoff.js";
import { PeerConnection, type PeerInfo } from "./connection.js";
import { ProtocolError, expectProtocol } from "./errors.js";
import { Channel, MAX_FRAME_BYTES, MAX_PAYLOAD, decodeFrame, encodeFrame } from "./frame.js";
import { Handshake, type Authorize, type Side } from "./handshake.js";
import type { Identity } from "./identity.js";
import type { Log, PodId, Role } from "./types.js";
import { clipUtf8 } from "./wire.js";

export interface MeshOptions {
  identity: Identity;
  cluster: string;
  /** "host:port" to listen on (port 0 picks a free port). Client pods never listen. */
  listen?: string;
  authorize: Authorize;
  role: Role;
  log: Log;
  handshakeTimeoutMs?: number;
  /** Ping interval; a link with no pong for one interval is closed (dead link found in ≤ 2 intervals). */
  keepaliveMs?: number;
  backoff?: BackoffOptions;
  /** How often our presence state is re-sent even when unchanged. */
  presenceIntervalMs?: number;
  /** Sockets still in their handshake beyond this are refused (bounds unauthenticated work). */
  maxPendingHandshakes?: number;
}

/** A module's hooks for one channel. Handlers may be async; a throw or rejection closes that peer's connection. */
export interface ChannelHandler {
  onFrame(peer: PeerConnection, payload: Buffer): void | Promise<void>;
  onPeerUp?(peer: PeerConnection): void;
  onPeerDown?(peer: PeerConnection): void;
}

export interface LivePeer extends PeerInfo {
  presence: unknown;
}

type ModuleChannel = Channel.Sync | Channel.Chunk | Channel.Rpc;

const CLOSE_PROTOCOL_ERROR = 4000;
const CLOSE_REFUSED = 4001;
const CLOSE_DUPLICATE = 4002;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_TRY_AGAIN = 1013;

/** One address we keep a link to. */
class Dialer {
  attempt = 0;
  timer?: NodeJS.Timeout;
  socket?: WebSocket;
  /** Learnt at the first handshake: lets us wait instead of redialling a pod we are already linked to. */
  podId?: PodId;
  stopped = false;

  constructor(readonly address: string, public invite: string | undefined) {}
}

export class Mesh {
  private readonly o: Required<Omit<MeshOptions, "listen">> & { listen?: string };
  private server?: WebSocketServer;
  private readonly peersById = new Map<PodId, PeerConnection>();
  private readonly sockets = new Set<WebSocket>();
  private readonly dialers = new Map<string, Dialer>();
  private readonly handlers = new Map<Channel, ChannelHandler>();
  private readonly upListeners = new Set<(peer: PeerInfo) => void>();
  private readonly downListeners = new Set<(peer: PeerInfo) => void>();
  private readonly presenceListeners = new Set<(peer: LivePeer) => void>();
  private pendingHandshakes = 0;
  private presenceState: unknown = undefined;
  private presenceTimer?: NodeJS.Timeout;
  private running = false;

  constructor(options: MeshOptions) {
    if (options.role === "client" && options.listen) throw new Error("a client pod never listens: remove `listen` or use role \"full\"");
    this.o = {
      handshakeTimeoutMs: 5000,
      keepaliveMs: 2000,
      backoff: DEFAULT_BACKOFF,
      presenceIntervalMs: 5000,
      maxPendingHandshakes: 128,
      ...options,
    };
  }

  get podId(): PodId {
    return this.o.identity.podId;
  }

  get cluster(): string {
    return this.o.cluster;
  }

  /** The pod's logger, shared with the channel modules. */
  get log(): Log {
    return this.o.log;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.presenceTimer = setInterval(() => this.broadcastPresence(), this.o.presenceIntervalMs);
    this.presenceTimer.unref();
    if (this.o.listen) {
      const { host, port } = parseAddress(this.o.listen);
      const server = new WebSocketServer({ host, port, path: WS_PATH, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
      this.server = server;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("listening", resolve);
          server.once("error", (err) => reject(new Error(`cannot listen on ${this.o.listen}: ${err.message} (is another pod using this port?)`)));
        });
      } catch (err) {
        this.running = false;
        this.server = undefined;
        clearInterval(this.presenceTimer);
        throw err;
      }
      server.on("error", (err) => this.o.log("error", `listener error: ${err.message}`));
      server.on("connection", (socket, req) => this.onInbound(socket, req));
    }
    for (const d of this.dialers.values()) this.connect(d);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.presenceTimer);
    // Dialers stay registered (a restarted mesh redials them); only their timers and sockets go.
    for (const d of this.dialers.values()) {
      clearTimeout(d.timer);
      d.timer = undefined;
    }
    const closing = [...this.sockets].map((s) => closeAndWait(s, CLOSE_GOING_AWAY, "pod stopping"));
    const server = this.server;
    this.server = undefined;
    await Promise.all(closing);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The real listening address (after `start`), e.g. with port 0 resolved. */
  address(): string | undefined {
    const a = this.server?.address() as AddressInfo | undefined;
    return a ? formatAddress({ host: a.address, port: a.port }) : undefined;
  }

  // ---- dialling ----------------------------------------------------------------------------

  /** Keeps a persistent outgoing link to `address` (redialled with backoff until `undial`/`setDialTargets` drops it). */
  dial(address: string, options: { invite?: string } = {}): void {
    parseAddress(address); // fail fast on a bad address, with a clear message
    const existing = this.dialers.get(address);
    if (existing) {
      existing.invite = options.invite ?? existing.invite;
      return;
    }
    const d = new Dialer(address, options.invite);
    this.dialers.set(address, d);
    if (this.running) this.connect(d);
  }

  /** Stops dialling `address` and closes the link made through it. */
  undial(address: string): void {
    const d = this.dialers.get(address);
    if (!d) return;
    this.dialers.delete(address);
    this.stopDialer(d);
  }

  /** Reconciles the full set of addresses to keep dialled (the pod learns them from membership). */
  setDialTargets(addresses: Iterable<string>): void {
    const wanted = new Set(addresses);
    for (const address of [...this.dialers.keys()]) if (!wanted.has(address)) this.undial(address);
    for (const address of wanted) this.dial(address);
  }

  private stopDialer(d: Dialer): void {
    d.stopped = true;
    clearTimeout(d.timer);
    d.socket?.close(CLOSE_GOING_AWAY, "no longer dialled");
  }

  private connect(d: Dialer): void {
    clearTimeout(d.timer);
    d.timer = undefined;
    if (!this.running || d.stopped) return;
    if (d.podId && this.peersById.has(d.podId)) return; // linked already (their dial won); retried on peer down
    const socket = new WebSocket(wsUrl(d.address), {
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: this.o.handshakeTimeoutMs,
      // An all-zero mask: ws then skips masking what we send and the peer skips unmasking
      // it, a pass over every byte on both sides. Masking protects HTTP intermediaries from
      // hostile browser scripts; a pod is not a browser, and it adds no confidentiality.
      generateMask: leaveMaskZero,
    });
    d.socket = socket;
    socket.once("open", () => this.runHandshake(socket, "dialer", d.address, d));
    socket.once("close", () => {
      if (d.socket === socket) d.socket = undefined;
      this.scheduleRedial(d);
    });
    this.track(socket);
  }

  private scheduleRedial(d: Dialer): void {
    if (!this.running || d.stopped || d.timer) return;
    const delay = backoffDelay(d.attempt++, this.o.backoff);
    d.timer = setTimeout(() => this.connect(d), delay);
  }

  // ---- sockets and handshakes --------------------------------------------------------------

  private track(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on("error", (err) => this.o.log("debug", `socket error: ${err.message}`));
    socket.once("close", () => this.sockets.delete(socket));
  }

  private onInbound(socket: WebSocket, req: IncomingMessage): void {
    const remote = formatAddress({ host: req.socket.remoteAddress ?? "unknown", port: req.socket.remotePort ?? 0 });
    this.track(socket);
    if (!this.running) return socket.close(CLOSE_GOING_AWAY, "pod stopping");
    if (this.pendingHandshakes >= this.o.maxPendingHandshakes) {
      this.o.log("warn", `refused ${remote}: ${this.pendingHandshakes} handshakes already pending`);
      return socket.close(CLOSE_TRY_AGAIN, "busy");
    }
    this.runHandshake(socket, "acceptor", remote);
  }

  private runHandshake(socket: WebSocket, side: Side, address: string, dialer?: Dialer): void {
    this.pendingHandshakes++;
    let pending = true;
    const settle = () => {
      if (pending) this.pendingHandshakes--;
      pending = false;
    };
    let connection: PeerConnection | undefined;
    let duplicate = false; // lost the tie-break: frames the peer sent before seeing our close are moot
    const handshake = new Handshake({
      side,
      identity: this.o.identity,
      cluster: this.o.cluster,
      role: this.o.role,
      invite: dialer?.invite,
      authorize: this.o.authorize,
      timeoutMs: this.o.handshakeTimeoutMs,
      send: (payload) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(encodeFrame(Channel.Handshake, payload));
      },
      onEstablished: (peer) => {
        settle();
        if (dialer) {
          dialer.podId = peer.podId;
          dialer.attempt = 0;
        }
        connection = this.establish(socket, { ...peer, address, dialler: side === "dialer" ? this.podId : peer.podId });
        duplicate = connection === undefined;
      },
      onFailed: (reason, detail) => {
        settle();
        this.o.log(detail.byPeer ? "warn" : "info", `handshake with ${address} failed: ${reason}`);
        if (detail.self && dialer) {
          this.o.log("info", `${address} is this pod itself: no longer dialling it`);
          dialer.stopped = true;
        }
        socket.close(CLOSE_REFUSED, "handshake failed");
      },
    });
    socket.on("message", (data, isBinary) => {
      if (duplicate) return;
      try {
        expectProtocol(isBinary, "text message");
        const frame = decodeFrame(data);
        if (!connection) {
          expectProtocol(frame.channel === Channel.Handshake, `${Channel[frame.channel]} frame before the handshake completed`);
          handshake.receive(frame.payload);
        } else {
          expectProtocol(frame.channel !== Channel.Handshake, "handshake frame after the handshake");
          connection.touch();
          this.dispatch(connection, frame.channel, frame.payload);
        }
      } catch (err) {
        this.closeForCause(socket, connection?.podId ?? address, err);
      }
    });
    socket.once("close", () => {
      settle();
      handshake.dispose();
      if (connection) this.onConnectionClosed(connection);
    });
    handshake.start();
  }

  private closeForCause(socket: WebSocket, who: string, err: unknown): void {
    const what = err instanceof ProtocolError ? `protocol error: ${err.message}` : `handler error: ${(err as Error)?.stack ?? String(err)}`;
    this.o.log("warn", `closing connection to ${who}: ${what}`);
    socket.close(CLOSE_PROTOCOL_ERROR, "protocol error");
  }

  private establish(socket: WebSocket, info: PeerInfo & { dialler: PodId }): PeerConnection | undefined {
    const existing = this.peersById.get(info.podId);
    if (existing) {
      // Deterministic on both sides: keep the link dialled by the lower pod id; if one pod
      // dialled both (two addresses, or a reconnect racing a dying link), keep the newer.
      const keepNew = existing.dialler === info.dialler || info.dialler < existing.dialler;
      if (!keepNew) {
        socket.close(CLOSE_DUPLICATE, "duplicate connection");
        return undefined;
      }
      existing.socket.close(CLOSE_DUPLICATE, "duplicate connection");
      this.onConnectionClosed(existing);
    }
    const connection = new PeerConnection(socket, info, this.o.keepaliveMs, (why) => {
      this.o.log("warn", `connection to ${info.podId} is dead: ${why}`);
      socket.terminate();
    });
    this.peersById.set(info.podId, connection);
    this.o.log("info", `connected to ${info.podId} (${info.role}) at ${info.address}`);
    if (this.presenceState !== undefined) this.sendPresence(connection);
    for (const h of this.handlers.values()) this.guard(connection, () => h.onPeerUp?.(connection));
    const summary = toInfo(connection);
    for (const fn of this.upListeners) this.guard(connection, () => fn(summary));
    return connection;
  }

  /** Runs a local callback for one peer; an exception there closes that peer, never the pod. */
  private guard(connection: PeerConnection, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.closeForCause(connection.socket, connection.podId, err);
    }
  }

  private onConnectionClosed(connection: PeerConnection): void {
    connection.dispose();
    if (this.peersById.get(connection.podId) !== connection) return; // a replaced duplicate
    this.peersById.delete(connection.podId);
    this.o.log("info", `disconnected from ${connection.podId}`);
    for (const h of this.handlers.values()) this.guardLocal(() => h.onPeerDown?.(connection));
    const summary = toInfo(connection);
    for (const fn of this.downListeners) this.guardLocal(() => fn(summary));
    // A dialler that stood back because this pod was linked through another socket redials now.
    if (this.running) for (const d of this.dialers.values()) if (d.podId === connection.podId && !d.socket) this.scheduleRedial(d);
  }

  private guardLocal(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log("error", `peer-down listener failed: ${(err as Error)?.stack ?? String(err)}`);
    }
  }

  private dispatch(connection: PeerConnection, channel: Channel, payload: Buffer): void {
    if (channel === Channel.Awareness) return this.receivePresence(connection, payload);
    const handler = this.handlers.get(channel);
    if (!handler) return this.o.log("debug", `dropped a ${Channel[channel]} frame from ${connection.podId}: no module handles it`);
    const result = handler.onFrame(connection, payload);
    if (result instanceof Promise) result.catch((err: unknown) => this.closeForCause(connection.socket, connection.podId, err));
  }

  // ---- modules, events, peers -------------------------------------------------------------

  /** Plugs a module into one channel (doc sync, chunk pull, rpc). */
  useChannel(channel: ModuleChannel, handler: ChannelHandler): void {
    if (this.handlers.has(channel)) throw new Error(`channel ${Channel[channel]} already has a handler`);
    this.handlers.set(channel, handler);
    for (const peer of this.peersById.values()) this.guard(peer, () => handler.onPeerUp?.(peer));
  }

  onPeerUp(fn: (peer: PeerInfo) => void): () => void {
    this.upListeners.add(fn);
    return () => this.upListeners.delete(fn);
  }

  onPeerDown(fn: (peer: PeerInfo) => void): () => void {
    this.downListeners.add(fn);
    return () => this.downListeners.delete(fn);
  }

  /** Called whenever a peer's presence state arrives. */
  onPresence(fn: (peer: LivePeer) => void): () => void {
    this.presenceListeners.add(fn);
    return () => this.presenceListeners.delete(fn);
  }

  private receivePresence(a: PeerConnection, payload: Buffer): void {
    let state: unknown;
    try {
      state = JSON.parse(payload.toString("utf8"));
    } catch {
      throw new ProtocolError("awareness state is not JSON");
    }
    expectProtocol(typeof state === "object" && state !== null && !Array.isArray(state), "awareness state is not a JSON object");
    a.presence = state;
    const live = { ...toInfo(a), presence: state };
    for (const fn of this.presenceListeners) this.guard(a, () => fn(live));
  }

  /** Live peers with their last presence state. */
  peers(): LivePeer[] {
    return [...this.peersById.values()].map((c) => ({ ...toInfo(c), presence: c.presence }));
  }

  /**
   * Closes the link to `podId` now (e.g. the pod removed it from the cluster). If its address is
   * still dialled, the redial goes through `authorize` again, which then refuses it.
   */
  disconnect(podId: PodId, reason = "disconnected by this pod"): void {
    this.peersById.get(podId)?.socket.close(CLOSE_GOING_AWAY, clipUtf8(reason, 120));
  }

  /** Live connections, for modules that send to every peer. */
  connections(): PeerConnection[] {
    return [...this.peersById.values()];
  }

  peer(podId: PodId): PeerConnection | undefined {
    return this.peersById.get(podId);
  }

  isConnected(podId: PodId): boolean {
    return this.peersById.has(podId);
  }

  /** Sets this pod's presence (a small JSON object, opaque to the net layer) and sends it to every peer now. */
  setPresence(state: Record<string, unknown>): void {
    const size = Buffer.byteLength(JSON.stringify(state));
    if (size > MAX_PAYLOAD[Channel.Awareness]) throw new RangeError(`presence state is ${size} bytes; the limit is ${MAX_PAYLOAD[Channel.Awareness]}`);
    this.presenceState = state;
    this.broadcastPresence();
  }

  private broadcastPresence(): void {
    if (this.presenceState === undefined) return;
    for (const c of this.peersById.values()) this.sendPresence(c);
  }

  private sendPresence(c: PeerConnection): void {
    c.send(Channel.Awareness, Buffer.from(JSON.stringify(this.presenceState)));
  }
}

function toInfo(c: PeerConnection): PeerInfo {
  return { podId: c.podId, role: c.role, publicKey: c.publicKey, address: c.address };
}

/** Closes politely, and forcibly if the peer does not answer quickly (no 30 s ws close timer left behind). */
function closeAndWait(socket: WebSocket, code: number, reason: string): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => socket.terminate(), 250);
    socket.once("close", () => {
      clearTimeout(force);
      resolve();
    });
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(code, reason);
  });
}

/** ws's mask buffer starts zeroed: leaving it so turns masking off (see connect). */
function leaveMaskZero(): void {}
