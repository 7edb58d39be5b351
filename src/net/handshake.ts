/**
 * The connection handshake: mutual Ed25519 challenge-response, then mutual authorisation.
 *
 *   both sides → HELLO   { version, role, cluster, public key, fresh 32-byte nonce, invite? }
 *   both sides → PROOF   signature over ("wormhole-proof-v1", own side, SHA-256(dialer HELLO ‖ acceptor HELLO))
 *   both sides → VERDICT ok | refused(reason)   (after asking the pod's `authorize`)
 *
 * A proof binds the cluster, both public keys (hence both pod ids), both nonces, the roles and
 * the invite, plus which side signed it: it cannot be replayed on another connection (the
 * peer's nonce is fresh) nor reflected back (the side byte differs). The connection is
 * established only when this side has sent an ok verdict and received one; only then does the
 * mesh create a PeerConnection, the only object that can send or accept other channels.
 */
import { createHash, randomBytes } from "node:crypto";
import { ProtocolError, expectProtocol } from "./errors.js";
import { podIdFromPublicKey, sign, verify, type Identity } from "./identity.js";
import { MAX_INVITE_LENGTH } from "./invite.js";
import type { PodId, Role } from "./types.js";
import { WireReader, WireWriter, clipUtf8 } from "./wire.js";

export const HANDSHAKE_VERSION = 1;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
const MAX_CLUSTER_NAME = 255;
const MAX_REASON = 200;

enum Message {
  Hello = 1,
  Proof = 2,
  Verdict = 3,
}

export type Side = "dialer" | "acceptor";

export interface PeerIdentity {
  podId: PodId;
  publicKey: Buffer;
  role: Role;
}

export interface AuthorizeRequest extends PeerIdentity {
  /** The invite the peer presented (only a dialer presents one). */
  invite?: string;
  /** inbound: the peer dialled us; outbound: we dialled it (the pod should check it is a member, or the invite's issuer). */
  direction: "inbound" | "outbound";
}

export type AuthorizeResult = { ok: true } | { ok: false; reason: string };
export type Authorize = (request: AuthorizeRequest) => AuthorizeResult | Promise<AuthorizeResult>;

export interface HandshakeOptions {
  side: Side;
  identity: Identity;
  cluster: string;
  role: Role;
  invite?: string;
  authorize: Authorize;
  timeoutMs?: number;
  /** Sends one handshake-channel payload. */
  send: (payload: Buffer) => void;
  onEstablished: (peer: PeerIdentity & { invite?: string }) => void;
  /** `self`: we reached our own pod (the dialer should stop dialling that address). */
  onFailed: (reason: string, detail: { self?: boolean; byPeer?: boolean }) => void;
}

interface Hello {
  raw: Buffer;
  role: Role;
  cluster: string;
  publicKey: Buffer;
  nonce: Buffer;
  invite?: string;
}

function encodeHello(o: { role: Role; cluster: string; publicKey: Buffer; nonce: Buffer; invite?: string }): Buffer {
  return new WireWriter()
    .u8(Message.Hello)
    .u8(HANDSHAKE_VERSION)
    .u8(o.role === "full" ? 0 : 1)
    .string(o.cluster, MAX_CLUSTER_NAME)
    .bytes(o.publicKey)
    .bytes(o.nonce)
    .string(o.invite ?? "", MAX_INVITE_LENGTH, 2)
    .finish();
}

function decodeHello(r: WireReader, raw: Buffer): Hello {
  const version = r.u8("version");
  expectProtocol(version === HANDSHAKE_VERSION, `handshake version ${version} is not supported (this pod speaks ${HANDSHAKE_VERSION}); upgrade the older pod`);
  const roleByte = r.u8("role");
  expectProtocol(roleByte <= 1, `unknown role ${roleByte}`);
  const cluster = r.string("cluster", MAX_CLUSTER_NAME);
  const publicKey = Buffer.from(r.bytes(32, "public key"));
  const nonce = Buffer.from(r.bytes(32, "nonce"));
  const invite = r.string("invite", MAX_INVITE_LENGTH, 2);
  r.end();
  return { raw: Buffer.from(raw), role: roleByte === 0 ? "full" : "client", cluster, publicKey, nonce, invite: invite || undefined };
}

function proofMessage(signer: Side, dialerHello: Buffer, acceptorHello: Buffer): Buffer {
  const transcript = createHash("sha256")
    .update("wormhole-handshake-v1\0")
    .update(new WireWriter().u32(dialerHello.length).finish())
    .update(dialerHello)
    .update(new WireWriter().u32(acceptorHello.length).finish())
    .update(acceptorHello)
    .digest();
  return Buffer.concat([Buffer.from("wormhole-proof-v1\0"), Buffer.from([signer === "dialer" ? 0 : 1]), transcript]);
}

type State = "idle" | "await-hello" | "await-proof" | "authorizing" | "await-verdict" | "done";

export class Handshake {
  private state: State = "idle";
  private readonly myHello: Buffer;
  private peerHello?: Hello;
  private peerVerdictOk = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: HandshakeOptions) {
    if (o.side === "acceptor" && o.invite) throw new Error("only the dialling side presents an invite");
    this.myHello = encodeHello({ role: o.role, cluster: o.cluster, publicKey: o.identity.publicKey, nonce: randomBytes(32), invite: o.invite });
  }

  get finished(): boolean {
    return this.state === "done";
  }

  start(): void {
    this.state = "await-hello";
    this.timer = setTimeout(() => this.fail(`handshake did not complete within ${this.o.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS} ms`, {}), this.o.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
    this.o.send(this.myHello);
  }

  /** Stops the timer without reporting (the socket closed under us). */
  dispose(): void {
    clearTimeout(this.timer);
    this.state = "done";
  }

  /** Feeds one handshake payload. Throws ProtocolError on malformed or out-of-order input. */
  receive(payload: Buffer): void {
    if (this.state === "done") return;
    const r = new WireReader(payload, "handshake");
    const type = r.u8("message type");
    switch (type) {
      case Message.Hello:
        expectProtocol(this.state === "await-hello", "second HELLO");
        this.onHello(decodeHello(r, payload));
        return;
      case Message.Proof: {
        expectProtocol(this.state === "await-proof", `PROOF out of order (${this.state})`);
        const signature = r.bytes(64, "signature");
        r.end();
        this.onProof(signature);
        return;
      }
      case Message.Verdict: {
        const ok = r.u8("verdict");
        expectProtocol(ok <= 1, `bad verdict byte ${ok}`);
        const reason = r.string("reason", MAX_REASON);
        r.end();
        if (!ok) return this.fail(`refused by peer: ${reason}`, { byPeer: true });
        expectProtocol((this.state === "authorizing" || this.state === "await-verdict") && !this.peerVerdictOk, "ok VERDICT before the peer checked our proof");
        this.peerVerdictOk = true;
        if (this.state === "await-verdict") this.establish();
        return;
      }
      default:
        throw new ProtocolError(`unknown handshake message ${type}`);
    }
  }

  private onHello(hello: Hello): void {
    this.peerHello = hello;
    if (this.o.side === "dialer") expectProtocol(!hello.invite, "the accepting side sent an invite");
    if (hello.cluster !== this.o.cluster) return this.refuse(`wrong cluster: this pod is in "${this.o.cluster}", the peer in "${hello.cluster}"`, {});
    if (hello.publicKey.equals(this.o.identity.publicKey)) return this.refuse("connected to itself", { self: true });
    const [dialerHello, acceptorHello] = this.o.side === "dialer" ? [this.myHello, hello.raw] : [hello.raw, this.myHello];
    this.state = "await-proof";
    this.o.send(new WireWriter().u8(Message.Proof).bytes(sign(this.o.identity, proofMessage(this.o.side, dialerHello, acceptorHello))).finish());
  }

  private onProof(signature: Buffer): void {
    const hello = this.peerHello!;
    const peerSide: Side = this.o.side === "dialer" ? "acceptor" : "dialer";
    const [dialerHello, acceptorHello] = this.o.side === "dialer" ? [this.myHello, hello.raw] : [hello.raw, this.myHello];
    if (!verify(hello.publicKey, proofMessage(peerSide, dialerHello, acceptorHello), signature)) {
      return this.refuse("handshake proof does not verify: the peer does not hold the key it presented", {});
    }
    this.state = "authorizing";
    const request: AuthorizeRequest = {
      podId: podIdFromPublicKey(hello.publicKey),
      publicKey: hello.publicKey,
      role: hello.role,
      invite: hello.invite,
      direction: this.o.side === "acceptor" ? "inbound" : "outbound",
    };
    Promise.resolve()
      .then(() => this.o.authorize(request))
      .then(
        (verdict) => this.onAuthorized(verdict),
        (err: unknown) => this.onAuthorized({ ok: false, reason: `authorisation failed: ${(err as Error)?.message ?? String(err)}` }),
      );
  }

  private onAuthorized(verdict: AuthorizeResult): void {
    if (this.state !== "authorizing") return; // timed out or closed meanwhile
    if (!verdict.ok) return this.refuse(verdict.reason, {});
    this.o.send(new WireWriter().u8(Message.Verdict).u8(1).string("", MAX_REASON).finish());
    this.state = "await-verdict";
    if (this.peerVerdictOk) this.establish();
  }

  private establish(): void {
    clearTimeout(this.timer);
    this.state = "done";
    const hello = this.peerHello!;
    this.o.onEstablished({ podId: podIdFromPublicKey(hello.publicKey), publicKey: hello.publicKey, role: hello.role, invite: hello.invite });
  }

  /** Tells the peer why (so its operator sees a reason), then fails. */
  private refuse(reason: string, detail: { self?: boolean }): void {
    try {
      this.o.send(new WireWriter().u8(Message.Verdict).u8(0).string(clipUtf8(reason, MAX_REASON), MAX_REASON).finish());
    } catch {
      // the socket may already be closing; the refusal stands either way
    }
    this.fail(reason, detail);
  }

  private fail(reason: string, detail: { self?: boolean; byPeer?: boolean }): void {
    if (this.state === "done") return;
    clearTimeout(this.timer);
    this.state = "done";
    this.o.onFailed(reason, detail);
  }
}
