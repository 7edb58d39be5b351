// Cluster membership, kept in the namespace's registry (one record per pod, keyed
// `member/<podId>`), so every pod learns every other pod's role and addresses from the
// namespace itself: joining through any one pod connects the new pod to all of them.
import type { Role } from "../net/index.js";

export type MemberState = "active" | "draining" | "left";

export interface MemberRecord {
  podId: string;
  name: string;
  role: Role;
  /** Raw Ed25519 public key, base64. */
  publicKey: string;
  /** Where the pod accepts connections (empty for client pods, which never listen). */
  addresses: string[];
  state: MemberState;
  joinedAtMs: number;
  /** The pod's own storage limit, so placement can weigh it before it ever connects. */
  capacityBytes: number;
  /** Placement weights from the pod's pod.toml `[affinity]` (absent: all 1). */
  affinity?: { replicas: number; new: number; hot: number; cold: number };
}

/** The registry operations membership needs (the namespace's registry provides them). */
export interface KeyValueRegistry {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  entries(prefix: string): Iterable<[string, unknown]>;
}

const PREFIX = "member/";

export class Membership {
  constructor(private readonly registry: KeyValueRegistry) {}

  get(podId: string): MemberRecord | undefined {
    return parseMember(this.registry.get(PREFIX + podId));
  }

  all(): MemberRecord[] {
    const members: MemberRecord[] = [];
    for (const [, value] of this.registry.entries(PREFIX)) {
      const member = parseMember(value);
      if (member) members.push(member);
    }
    return members.sort((a, b) => a.name.localeCompare(b.name) || a.podId.localeCompare(b.podId));
  }

  /** A member that may connect: recorded and not gone. */
  isMember(podId: string): boolean {
    const member = this.get(podId);
    return member !== undefined && member.state !== "left";
  }

  put(record: MemberRecord): void {
    this.registry.set(PREFIX + record.podId, record);
  }

  update(podId: string, change: Partial<Omit<MemberRecord, "podId">>): MemberRecord {
    const current = this.get(podId);
    if (!current) throw new Error(`no member with id ${podId}`);
    const next = { ...current, ...change };
    this.put(next);
    return next;
  }

  /** Finds a member by full id, unique id prefix (at least 4 characters) or name. */
  resolve(idOrName: string): MemberRecord | { error: string } {
    const members = this.all();
    const exact = members.find((m) => m.podId === idOrName);
    if (exact) return exact;
    const byName = members.filter((m) => m.name === idOrName);
    const byPrefix = idOrName.length >= 4 ? members.filter((m) => m.podId.startsWith(idOrName)) : [];
    const matches = byName.length > 0 ? byName : byPrefix;
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) return { error: `no pod named or with id \`${idOrName}\`` };
    return { error: `\`${idOrName}\` matches ${matches.length} pods: ${matches.map((m) => `${m.name} (${m.podId.slice(0, 8)})`).join(", ")}` };
  }
}

/** Registry values arrive from peers: check the shape instead of trusting it. */
function parseMember(value: unknown): MemberRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ok =
    typeof v.podId === "string" &&
    typeof v.name === "string" &&
    (v.role === "full" || v.role === "client") &&
    typeof v.publicKey === "string" &&
    Array.isArray(v.addresses) &&
    v.addresses.every((a) => typeof a === "string") &&
    (v.state === "active" || v.state === "draining" || v.state === "left") &&
    typeof v.joinedAtMs === "number" &&
    typeof v.capacityBytes === "number" &&
    Number.isFinite(v.capacityBytes) &&
    v.capacityBytes >= 0 &&
    (v.affinity === undefined || isAffinity(v.affinity));
  return ok ? (v as unknown as MemberRecord) : undefined;
}

function isAffinity(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const a = value as Record<string, unknown>;
  return ["replicas", "new", "hot", "cold"].every((k) => typeof a[k] === "number" && Number.isFinite(a[k]) && (a[k] as number) >= 0);
}
