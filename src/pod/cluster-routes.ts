// The admin API's cluster routes: status, pods, drain, remove, invite, config apply and
// conflict review, over a running Pod. Each answer is built from this pod's own view; every
// pod computes the same one from the same namespace and holdings.
import { readFileSync } from "node:fs";
import { type Conflict, copyOriginal } from "../crdt/index.js";
import { createInvite, formatInviteUrl } from "../net/index.js";
import type { ClientQueue } from "./client-queue.js";
import type { AdminHandlers, ClientStatus, ConflictDetail, ConflictSummary, PodInfo, PodState } from "./admin-api.js";
import type { MemberRecord } from "./membership.js";
import type { Pod } from "./pod.js";
import { asText, unifiedDiff } from "./text-diff.js";
import { UserError } from "./user-error.js";

export type ClusterRoutes = Pick<
  AdminHandlers,
  | "GET /status"
  | "GET /pods"
  | "POST /drain"
  | "POST /remove"
  | "POST /invite"
  | "POST /config/apply"
  | "POST /network"
  | "POST /pin"
  | "POST /unpin"
  | "GET /conflicts"
  | "GET /conflicts/show"
  | "POST /conflicts/resolve"
>;

export function clusterRoutes(pod: Pod): ClusterRoutes {
  const pods = () => pod.membership.all().map((m) => describePod(pod, m));
  const member = (idOrName: string) => {
    const found = pod.membership.resolve(idOrName);
    if ("error" in found) throw new UserError(found.error, "list the pods with `wormhole pods`", 404);
    return found;
  };
  return {
    "GET /status": async () => {
      pod.refreshHealthIfChanged(); // fresh counts right after a put, not last second's
      const health = pod.currentHealth();
      return {
        cluster: pod.clusterName,
        health: health.state,
        files: health.counts,
        pods: pods(),
        reaction: health.reaction,
        pendingFetches: pod.replicator.lastPlan.pull.length,
        ...(pod.clientQueue ? { client: clientStatus(pod, pod.clientQueue) } : {}),
      };
    },
    "GET /pods": async () => ({ pods: pods() }),
    "POST /drain": async ({ pod: which }) => {
      const target = member(which);
      if (target.role !== "full") throw new UserError(`${target.name} is a client pod: it holds no replicas to hand over`, "remove it with `wormhole remove`");
      if (target.state !== "active") throw new UserError(`${target.name} is already ${target.state}`, "see `wormhole pods`");
      const others = pod.placeableMembers().filter((m) => m.podId !== target.podId);
      if (others.length === 0) throw new UserError(`${target.name} is the only full pod: its files would have nowhere to go`, "join another full pod first");
      const updated = pod.membership.update(target.podId, { state: "draining" });
      const held = pod.meta.holdings.versionsOf(target.podId).size;
      return { pod: describePod(pod, updated), message: `draining ${updated.name}: ${held} version(s) to hand over; it leaves once each has its copies elsewhere` };
    },
    "POST /remove": async ({ pod: which }) => {
      const target = member(which);
      if (target.podId === pod.podId) throw new UserError("a pod cannot remove itself", "drain it (`wormhole drain`) to leave without losing copies, or run `remove` on another pod");
      if (target.state === "left") throw new UserError(`${target.name} has already left`, "see `wormhole pods`");
      const updated = pod.membership.update(target.podId, { state: "left" });
      await pod.meta.holdings.forget(target.podId);
      return { pod: describePod(pod, updated), message: `removed ${updated.name}; its files are re-replicated from the other pods` };
    },
    "POST /invite": async ({ expiresInSeconds }) => {
      const addresses = pod.membership.get(pod.podId)?.addresses ?? [];
      if (addresses.length === 0) throw new UserError("this pod accepts no connections, so nobody could join through it", "run `wormhole invite` on a full pod that has `listen` set");
      if (pod.config.cluster.join === "closed") throw new UserError(`cluster "${pod.clusterName}" is closed to new pods`, 'set join = "invite" in wormhole.toml and `wormhole config apply` it');
      const expiresAt = Date.now() + expiresInSeconds * 1000;
      const url = formatInviteUrl(createInvite({ cluster: pod.clusterName, issuer: pod.identity, expiresAt, addresses }));
      return { token: url, expiresAt: new Date(expiresAt).toISOString(), joinCommand: `wormhole join '${url}' --data <dir>` };
    },
    "POST /config/apply": async ({ file }) => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new UserError(`cannot read ${file}: ${(error as Error).message}`, "check the path; it is read by the pod, on this machine");
      }
      const changes = pod.applyClusterConfig(text, file);
      return { applied: changes.length > 0, changes };
    },
    "POST /pin": async ({ path }) => {
      if (!pod.namespace.lookup(path)) throw new UserError(`${path} does not exist in the cluster`, "check the path with `wormhole ls`", 404);
      await pod.setPinned(path, true);
      return { path, pinned: true };
    },
    "POST /unpin": async ({ path }) => {
      if (!pod.isPinned(path)) throw new UserError(`${path} is not pinned`, "`wormhole ls` marks pinned entries");
      await pod.setPinned(path, false);
      return { path, pinned: false };
    },
    "POST /network": async ({ online }) => {
      pod.setOnline(online);
      return { online: pod.isOnline, connected: pod.mesh.connections().length };
    },
    "GET /conflicts": async () => ({ conflicts: pod.namespace.conflicts().map((c) => summarize(pod, c)) }),
    "GET /conflicts/show": async ({ path }) => {
      const shown = detail(pod, findConflict(pod, path));
      const diffs = await textDiffs(pod, shown);
      return diffs.length > 0 ? { ...shown, diffs } : shown;
    },
    "POST /conflicts/resolve": async ({ path, keep, pod: which }) => {
      findConflict(pod, path);
      const choice = keep === "pod" ? { pod: member(which ?? "").podId } : keep;
      try {
        pod.namespace.resolveConflict(path, choice);
      } catch (error) {
        throw new UserError((error as Error).message, "see the sides with `wormhole conflicts show <path>`");
      }
      await pod.meta.flush();
      const parent = path.slice(0, path.lastIndexOf("/")) || "/";
      const base = path.slice(path.lastIndexOf("/") + 1);
      // With "both" every side becomes a file of its own: the original name and its copies.
      const kept = keep === "both" ? pod.namespace.readdir(parent).filter((e) => e.name === base || copyOriginal(e.name) === base).map((e) => e.path) : [path];
      return { path, kept };
    },
  };
}

/** Text sides up to this size get a unified diff in `conflicts show`. */
const DIFF_MAX_BYTES = 256 * 1024;

/** `diff -u` from the shown side to each other side, when every side is text of reasonable size. */
async function textDiffs(pod: Pod, conflict: ConflictDetail): Promise<string[]> {
  const sides = conflict.versions.filter((v) => v.version !== undefined && !v.deleted);
  const shown = sides.find((v) => v.current);
  if (!shown || sides.length < 2 || sides.some((v) => (v.size ?? Infinity) > DIFF_MAX_BYTES)) return [];
  const label = (v: (typeof sides)[number]) => `${conflict.path} (${v.podName ?? v.pod.slice(0, 8)}, ${v.time})`;
  try {
    const texts = await Promise.all(sides.map(async (v) => asText(await pod.files.readRange(v.version!, 0, v.size ?? 0))));
    if (texts.some((t) => t === undefined)) return [];
    const shownText = texts[sides.indexOf(shown)]!;
    return sides.filter((v) => v !== shown).map((v) => unifiedDiff(shownText, texts[sides.indexOf(v)]!, label(shown), label(v)));
  } catch (error) {
    pod.log.warn(`no diff for ${conflict.path}: ${(error as Error).message}`);
    return []; // a side whose content is unreachable: the table alone still helps
  }
}

function describePod(pod: Pod, m: MemberRecord): PodInfo {
  const self = m.podId === pod.podId;
  const presence = (self ? pod.presence : pod.mesh.peers().find((p) => p.podId === m.podId)?.presence) as { usedBytes?: number; capacityBytes?: number } | undefined;
  return {
    id: m.podId,
    name: m.name,
    role: m.role,
    state: podState(pod, m),
    usedBytes: self ? pod.chunks.usedBytes : (presence?.usedBytes ?? 0),
    capacityBytes: m.role === "client" ? 0 : m.capacityBytes || (presence?.capacityBytes ?? 0),
    ...(m.addresses[0] ? { address: m.addresses[0] } : {}),
    ...(self ? { self: true } : {}),
  };
}

function clientStatus(pod: Pod, queue: ClientQueue): ClientStatus {
  const reachable = pod.reachableFullPods().map((m) => ({ id: m.podId, name: m.name, ...(m.addresses[0] ? { address: m.addresses[0] } : {}) }));
  return {
    state: reachable.length > 0 ? "online" : "offline",
    workingOffline: !pod.isOnline,
    reachable,
    queued: queue.snapshot(),
    cache: { usedBytes: pod.cache.usedBytes, maxBytes: pod.cache.maxBytes, storedBytes: pod.chunks.usedBytes },
  };
}

function podState(pod: Pod, m: MemberRecord): PodState {
  if (m.state === "left") return "left";
  if (m.state === "draining") return "draining";
  if (pod.liveness.isReachable(m.podId)) return "up";
  return m.role === "client" ? "offline" : "down";
}

function findConflict(pod: Pod, path: string): Conflict {
  const conflict = pod.namespace.conflicts().find((c) => c.path === path);
  if (!conflict) throw new UserError(`no open conflict at ${path}`, "list the open conflicts with `wormhole conflicts`", 404);
  return conflict;
}

function summarize(pod: Pod, c: Conflict): ConflictSummary {
  return { path: c.path, inode: c.sides[0]?.inode ?? "", kind: c.kind, policy: pod.ruleFor(c.path).conflict, versions: c.sides.length };
}

function detail(pod: Pod, c: Conflict): ConflictDetail {
  const current = pod.namespace.lookup(c.path);
  const { versions: _count, ...summary } = summarize(pod, c);
  return {
    ...summary,
    versions: c.sides.map((side) => ({
      ...(side.version ? { version: side.version } : {}),
      ...(side.deleted ? { deleted: true } : {}),
      pod: side.pod,
      podName: pod.membership.get(side.pod)?.name,
      time: new Date(side.timeMs).toISOString(),
      ...(side.size === undefined ? {} : { size: side.size }),
      current: current !== undefined && current.inode === side.inode && current.version === side.version,
    })),
  };
}
