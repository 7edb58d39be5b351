/**
 * Invite tokens: a member (the issuer) signs "this holder may join cluster C until time T".
 *
 * Token: `wh1.<base64url(JSON claims)>.<base64url(Ed25519 signature)>`. The signature covers a
 * domain-separation prefix plus the exact claim bytes, so a signature made for anything else
 * (a handshake proof, another token) never verifies as an invite. The issuer is named by pod
 * id; the verifier looks up the issuer's public key among the members it knows.
 */
import { randomBytes } from "node:crypto";
import { POD_ID_PATTERN, podIdFromPublicKey, sign, verify, type Identity } from "./identity.js";
import type { PodId } from "./types.js";

export interface InviteClaims {
  cluster: string;
  issuer: PodId;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** Where the issuer can be dialled ("host:port"). */
  addresses: string[];
  /** Random, so two invites with the same fields are distinct tokens. */
  nonce: string;
}

export type InviteFailure = "malformed" | "expired" | "bad-signature" | "unknown-issuer" | "wrong-cluster";

export class InviteError extends Error {
  override readonly name = "InviteError";
  constructor(readonly reason: InviteFailure, message: string) {
    super(message);
  }
}

const TOKEN_VERSION = "wh1";
const SIGNING_CONTEXT = Buffer.from("wormhole-invite-v1\0");
/** Bounds decoding work on hostile input; a real token is a few hundred characters. */
export const MAX_INVITE_LENGTH = 2048;
const MAX_ADDRESSES = 8;

export function createInvite(options: { cluster: string; issuer: Identity; expiresAt: number; addresses: string[] }): string {
  const claims: InviteClaims = {
    cluster: options.cluster,
    issuer: options.issuer.podId,
    expiresAt: options.expiresAt,
    addresses: options.addresses,
    nonce: randomBytes(8).toString("hex"),
  };
  const body = Buffer.from(JSON.stringify(claims));
  const signature = sign(options.issuer, Buffer.concat([SIGNING_CONTEXT, body]));
  const token = `${TOKEN_VERSION}.${body.toString("base64url")}.${signature.toString("base64url")}`;
  if (token.length > MAX_INVITE_LENGTH) throw new RangeError(`invite would be ${token.length} characters (limit ${MAX_INVITE_LENGTH}): too many or too long addresses`);
  return token;
}

function malformed(detail: string): InviteError {
  return new InviteError("malformed", `invite is malformed: ${detail}; ask a member for a new invite`);
}

function isStringArray(v: unknown, max: number): v is string[] {
  return Array.isArray(v) && v.length <= max && v.every((a) => typeof a === "string" && a.length > 0 && a.length <= 300);
}

/** Splits and shape-checks a token without verifying it (the joiner cannot: it knows no keys yet). */
export function decodeInvite(token: string): { claims: InviteClaims; body: Buffer; signature: Buffer } {
  if (typeof token !== "string" || token.length > MAX_INVITE_LENGTH) throw malformed("too long or not text");
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== TOKEN_VERSION) throw malformed(`expected "${TOKEN_VERSION}.<claims>.<signature>"`);
  if (!/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) throw malformed("not base64url");
  const body = Buffer.from(parts[1]!, "base64url");
  const signature = Buffer.from(parts[2]!, "base64url");
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString("utf8"));
  } catch {
    throw malformed("claims are not JSON");
  }
  const c = raw as Record<string, unknown>;
  if (
    typeof c !== "object" || c === null ||
    typeof c.cluster !== "string" ||
    typeof c.issuer !== "string" || !POD_ID_PATTERN.test(c.issuer) ||
    typeof c.expiresAt !== "number" || !Number.isFinite(c.expiresAt) ||
    !isStringArray(c.addresses, MAX_ADDRESSES) ||
    typeof c.nonce !== "string"
  ) {
    throw malformed("claims have the wrong shape");
  }
  const claims: InviteClaims = { cluster: c.cluster, issuer: c.issuer, expiresAt: c.expiresAt, addresses: c.addresses, nonce: c.nonce };
  return { claims, body, signature };
}

/**
 * Verifies a token for `cluster` at time `now`. Throws InviteError naming the first reason it
 * fails. The signature is checked before the claims are trusted, so a forged token reports
 * "bad-signature" whatever it claims.
 */
export function verifyInvite(
  token: string,
  options: { cluster: string; now: number; publicKeyOf: (podId: PodId) => Uint8Array | undefined },
): InviteClaims {
  const { claims, body, signature } = decodeInvite(token);
  const key = options.publicKeyOf(claims.issuer);
  if (!key || podIdFromPublicKey(key) !== claims.issuer) {
    throw new InviteError("unknown-issuer", `invite was issued by ${claims.issuer}, which is not a known member of this cluster`);
  }
  if (!verify(key, Buffer.concat([SIGNING_CONTEXT, body]), signature)) {
    throw new InviteError("bad-signature", "invite signature does not verify: the token was altered or forged");
  }
  if (claims.cluster !== options.cluster) {
    throw new InviteError("wrong-cluster", `invite is for cluster "${claims.cluster}", this is "${options.cluster}"`);
  }
  if (claims.expiresAt <= options.now) {
    throw new InviteError("expired", `invite expired at ${new Date(claims.expiresAt).toISOString()}; ask a member for a new one`);
  }
  return claims;
}

const URL_SCHEME = "wormhole:";

/** `wormhole://<first address>/<token>`: one line to paste into `wormhole join`. */
export function formatInviteUrl(token: string): string {
  const { claims } = decodeInvite(token);
  const first = claims.addresses[0];
  if (!first) throw new RangeError("the invite carries no address to dial");
  return `wormhole://${first}/${token}`;
}

/** Returns the token, its (unverified) claims, and every address to try, the URL's host first. */
export function parseInviteUrl(url: string): { token: string; claims: InviteClaims; addresses: string[] } {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw malformed(`"${url.slice(0, 80)}" is not a URL (expected wormhole://host:port/<token>)`);
  }
  if (parsed.protocol !== URL_SCHEME || !parsed.host) throw malformed("expected a wormhole://host:port/<token> URL");
  const token = parsed.pathname.replace(/^\/+/, "");
  const { claims } = decodeInvite(token);
  const addresses = [...new Set([parsed.host, ...claims.addresses])];
  return { token, claims, addresses };
}
