/**
 * Pod identity: an Ed25519 key pair. The pod id is derived from the public key, so a pod
 * cannot claim an id without holding the matching private key (the handshake proves that).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from "node:crypto";
import type { PodId } from "./types.js";

export interface Identity {
  readonly podId: PodId;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

const SERIAL_PREFIX = "wormhole-identity-v1:";
// DER prefixes that wrap a raw 32-byte Ed25519 seed / public key into PKCS#8 / SPKI.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export const POD_ID_PATTERN = /^[0-9a-f]{32}$/;

export function podIdFromPublicKey(raw: Uint8Array): PodId {
  if (raw.length !== 32) throw new RangeError(`an Ed25519 public key is 32 bytes, got ${raw.length}`);
  return createHash("sha256").update(raw).digest().subarray(0, 16).toString("hex");
}

function identityFromPrivateKey(privateKey: KeyObject): Identity {
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  const publicKey = Buffer.from(spki.subarray(SPKI_PREFIX.length));
  return { podId: podIdFromPublicKey(publicKey), publicKey, privateKey };
}

export function generateIdentity(): Identity {
  return identityFromPrivateKey(generateKeyPairSync("ed25519").privateKey);
}

export function sign(identity: Identity, message: Uint8Array): Buffer {
  return edSign(null, message, identity.privateKey);
}

/** False (never throws) for a wrong key length, a wrong signature length or a bad signature. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
    return edVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** One line holding the private seed; the pod writes it to a 0600 file. */
export function serializeIdentity(identity: Identity): string {
  const pkcs8 = identity.privateKey.export({ format: "der", type: "pkcs8" });
  return SERIAL_PREFIX + pkcs8.subarray(PKCS8_PREFIX.length).toString("base64url");
}

export function parseIdentity(text: string): Identity {
  const line = text.trim();
  if (!line.startsWith(SERIAL_PREFIX)) {
    throw new Error(`not a Wormhole identity (expected a line starting with "${SERIAL_PREFIX}"); was the identity file overwritten?`);
  }
  const seed = Buffer.from(line.slice(SERIAL_PREFIX.length), "base64url");
  if (seed.length !== 32) throw new Error(`corrupt Wormhole identity: the key seed is ${seed.length} bytes, expected 32`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  return identityFromPrivateKey(privateKey);
}
