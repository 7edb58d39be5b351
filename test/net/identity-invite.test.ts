import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { formatAddress, parseAddress } from "../../src/net/address.js";
import { backoffDelay } from "../../src/net/backoff.js";
import { generateIdentity, parseIdentity, podIdFromPublicKey, serializeIdentity, sign, verify } from "../../src/net/identity.js";
import { InviteError, createInvite, formatInviteUrl, parseInviteUrl, verifyInvite } from "../../src/net/invite.js";

test("pod id is the first 16 bytes of SHA-256 of the raw public key, in hex", () => {
  const id = generateIdentity();
  assert.equal(id.publicKey.length, 32);
  assert.equal(id.podId, createHash("sha256").update(id.publicKey).digest().subarray(0, 16).toString("hex"));
  assert.match(id.podId, /^[0-9a-f]{32}$/);
  assert.equal(podIdFromPublicKey(id.publicKey), id.podId);
  assert.notEqual(generateIdentity().podId, id.podId);
});

test("identity survives serialisation; signatures verify only with the right key and message", () => {
  const id = generateIdentity();
  const text = serializeIdentity(id);
  assert.match(text, /^wormhole-identity-v1:[A-Za-z0-9_-]+$/);
  const back = parseIdentity(text + "\n");
  assert.equal(back.podId, id.podId);
  const msg = Buffer.from("hello");
  const sig = sign(back, msg);
  assert.ok(verify(id.publicKey, msg, sig));
  assert.ok(!verify(id.publicKey, Buffer.from("hellp"), sig));
  assert.ok(!verify(generateIdentity().publicKey, msg, sig));
  assert.ok(!verify(id.publicKey, msg, sig.subarray(1)));
  assert.ok(!verify(Buffer.alloc(31), msg, sig));
  assert.throws(() => parseIdentity("garbage"), /not a Wormhole identity/);
  assert.throws(() => parseIdentity("wormhole-identity-v1:AAAA"), /corrupt/);
});

const failure = (fn: () => unknown, reason: string) =>
  assert.throws(fn, (err: unknown) => err instanceof InviteError && err.reason === reason, `expected ${reason}`);

test("invites: valid, expired, forged, unknown issuer, wrong cluster, malformed", () => {
  const issuer = generateIdentity();
  const keys = new Map([[issuer.podId, issuer.publicKey]]);
  const publicKeyOf = (id: string) => keys.get(id);
  const now = Date.now();
  const token = createInvite({ cluster: "c1", issuer, expiresAt: now + 60_000, addresses: ["10.0.0.1:7000", "[::1]:7000"] });
  assert.match(token, /^wh1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "compact and URL-safe");
  const claims = verifyInvite(token, { cluster: "c1", now, publicKeyOf });
  assert.equal(claims.issuer, issuer.podId);
  assert.deepEqual(claims.addresses, ["10.0.0.1:7000", "[::1]:7000"]);

  failure(() => verifyInvite(token, { cluster: "c1", now: now + 60_000, publicKeyOf }), "expired");
  failure(() => verifyInvite(token, { cluster: "c2", now, publicKeyOf }), "wrong-cluster");
  failure(() => verifyInvite(token, { cluster: "c1", now, publicKeyOf: () => undefined }), "unknown-issuer");
  // A key that does not hash to the claimed issuer id is not that issuer.
  failure(() => verifyInvite(token, { cluster: "c1", now, publicKeyOf: () => generateIdentity().publicKey }), "unknown-issuer");
  const [v, body, sig] = token.split(".");
  const forgedClaims = { ...JSON.parse(Buffer.from(body!, "base64url").toString()), cluster: "c2" };
  failure(() => verifyInvite(`${v}.${Buffer.from(JSON.stringify(forgedClaims)).toString("base64url")}.${sig}`, { cluster: "c2", now, publicKeyOf }), "bad-signature");
  const otherSig = sign(generateIdentity(), Buffer.from("x")).toString("base64url");
  failure(() => verifyInvite(`${v}.${body}.${otherSig}`, { cluster: "c1", now, publicKeyOf }), "bad-signature");
  for (const bad of ["", "wh1", "wh2.a.b", "wh1.!!.b", `wh1.${Buffer.from("{").toString("base64url")}.AA`, "wh1." + "A".repeat(5000) + ".AA"]) {
    failure(() => verifyInvite(bad, { cluster: "c1", now, publicKeyOf }), "malformed");
  }
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      assert.throws(() => verifyInvite(s, { cluster: "c1", now, publicKeyOf }), InviteError);
    }),
    { numRuns: 500 },
  );
});

test("invite URL: one line carrying the token and the issuer's addresses", () => {
  const issuer = generateIdentity();
  const token = createInvite({ cluster: "c1", issuer, expiresAt: Date.now() + 60_000, addresses: ["192.168.1.5:7000", "10.0.0.5:7000"] });
  const url = formatInviteUrl(token);
  assert.ok(url.startsWith("wormhole://192.168.1.5:7000/wh1."));
  assert.doesNotMatch(url, /\s/);
  const parsed = parseInviteUrl(url);
  assert.equal(parsed.token, token);
  assert.deepEqual(parsed.addresses, ["192.168.1.5:7000", "10.0.0.5:7000"]);
  assert.equal(parsed.claims.issuer, issuer.podId);
  assert.throws(() => parseInviteUrl("http://x:1/wh1.a.b"), /wormhole:\/\//);
  assert.throws(() => parseInviteUrl("not a url"), InviteError);
});

test("addresses and backoff", () => {
  assert.deepEqual(parseAddress("127.0.0.1:7000"), { host: "127.0.0.1", port: 7000 });
  assert.deepEqual(parseAddress("[::1]:0"), { host: "::1", port: 0 });
  assert.equal(formatAddress({ host: "::1", port: 5 }), "[::1]:5");
  for (const bad of ["", "host", "host:", "host:99999", "a b:1", "::1:80"]) assert.throws(() => parseAddress(bad), /not a host:port/);
  const o = { initialMs: 100, maxMs: 10_000 };
  assert.equal(backoffDelay(0, o, () => 0), 50);
  assert.equal(backoffDelay(0, o, () => 1), 100);
  assert.equal(backoffDelay(3, o, () => 1), 800);
  assert.equal(backoffDelay(50, o, () => 1), 10_000, "capped");
  assert.ok(backoffDelay(50, o, () => 0) >= 5000, "jitter never collapses the delay");
});
