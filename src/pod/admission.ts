// Who may connect. The handshake has already proven that the peer holds the private key of
// the pod id it claims; this decides whether that pod belongs here: a member, a pod
// presenting a valid invite (which makes it a member), or — on a pod that is itself still
// joining — the pod whose invite it holds.
import { type AuthorizeRequest, type AuthorizeResult, type InviteClaims, InviteError, verifyInvite } from "../net/index.js";
import type { Membership } from "./membership.js";

export interface AdmissionDeps {
  cluster: string;
  membership: Membership;
  /** "closed" refuses invites (cluster config `join`). */
  joinPolicy: () => "invite" | "closed";
  /** The invite this pod is joining with, until it has joined. */
  pendingInvite: () => InviteClaims | undefined;
  now?: () => number;
}

export function admit(request: AuthorizeRequest, deps: AdmissionDeps): AuthorizeResult {
  const { membership } = deps;
  const member = membership.get(request.podId);
  if (member && member.state !== "left") {
    if (member.publicKey !== request.publicKey.toString("base64")) {
      return { ok: false, reason: `pod ${request.podId} presented a key that does not match its membership record` };
    }
    return { ok: true };
  }
  if (member?.state === "left") {
    return { ok: false, reason: `pod ${request.podId} was removed from cluster "${deps.cluster}"; it needs a new invite and a new data directory to come back` };
  }
  const pending = deps.pendingInvite();
  if (pending && request.direction === "outbound" && request.podId === pending.issuer) return { ok: true };
  if (request.invite === undefined) {
    return { ok: false, reason: `pod ${request.podId} is not a member of cluster "${deps.cluster}"; join it with an invite from \`wormhole invite\`` };
  }
  if (deps.joinPolicy() === "closed") {
    return { ok: false, reason: `cluster "${deps.cluster}" is closed to new pods (join = "closed" in wormhole.toml)` };
  }
  try {
    verifyInvite(request.invite, {
      cluster: deps.cluster,
      now: (deps.now ?? Date.now)(),
      publicKeyOf: (podId) => {
        const issuer = membership.get(podId);
        return issuer && issuer.state !== "left" ? Buffer.from(issuer.publicKey, "base64") : undefined;
      },
    });
  } catch (error) {
    return { ok: false, reason: error instanceof InviteError ? error.message : `invalid invite: ${(error as Error).message}` };
  }
  // Recorded before the handshake completes, so the new pod is a member by the time the
  // namespace (which carries this record) reaches it. It fills in its name and addresses.
  membership.put({
    podId: request.podId,
    name: request.podId.slice(0, 8),
    role: request.role,
    publicKey: request.publicKey.toString("base64"),
    addresses: [],
    state: "active",
    joinedAtMs: (deps.now ?? Date.now)(),
    capacityBytes: 0,
  });
  return { ok: true };
}
