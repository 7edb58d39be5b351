// Writes configs back as TOML with short comments, for `wormhole init` and `wormhole join`.
// The output parses back to the same config (tested), so what init writes is what runs.

import type { ClusterConfig, Rule } from "./cluster.js";
import type { PodConfig } from "./pod.js";
import { formatHostPort, type HostPort } from "./types.js";
import { formatDuration, formatSizeExact } from "./units.js";

type TomlScalar = string | number | boolean;

function toml(value: TomlScalar | TomlScalar[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => toml(v)).join(", ")}]`;
  // JSON string escapes are a subset of TOML basic-string escapes.
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

const COMMENT_COLUMN = 28;

/** `key = value   # comment`, comments aligned; `commented` writes it as an inactive example. */
function entry(key: string, value: TomlScalar | TomlScalar[], comment?: string, commented = false): string {
  const assignment = `${commented ? "# " : ""}${key} = ${toml(value)}`;
  if (comment === undefined) return assignment;
  return `${assignment.padEnd(COMMENT_COLUMN - 1)} # ${comment}`;
}

export function renderClusterConfig(cfg: ClusterConfig): string {
  const c = cfg.cluster;
  const out = [
    `# wormhole.toml: configuration of cluster "${c.name}", replicated to every pod`,
    "# when an admin applies it. Every key is described in docs/config.md.",
    "",
    "[cluster]",
    entry("name", c.name),
    entry("redundancy", c.redundancy, "copies of each file, on distinct full pods"),
    entry("conflict", c.conflict, "keep-both | overwrite"),
    entry("join", c.join, "invite | closed"),
    c.maxSizeBytes === null ? entry("max_size", "100GiB", "largest single file (default: no limit)", true) : entry("max_size", formatSizeExact(c.maxSizeBytes), "largest single file"),
    entry("admins", c.admins, "pod ids that may apply this file (empty: any full pod)"),
    entry("grace", formatDuration(c.graceMs), "absence tolerated before re-replicating"),
    entry("write_ack", c.writeAck, "local | redundancy"),
    "",
    "# Reaction to each health state: continue | throttle | read-only | lower-redundancy | stop",
    "[failure]",
    entry("degraded", cfg.failure.degraded, "missing copies, being repaired"),
    entry("at_risk", cfg.failure.atRisk, "missing copies, no room to repair"),
    entry("unavailable", cfg.failure.unavailable, "some file has no reachable copy"),
  ];
  for (const rule of cfg.rules) out.push("", ...renderRule(rule));
  return `${out.join("\n")}\n`;
}

function renderRule(rule: Rule): string[] {
  const lines = ["[[rules]]", entry("path", rule.path)];
  if (rule.redundancy !== undefined) lines.push(entry("redundancy", rule.redundancy));
  if (rule.conflict !== undefined) lines.push(entry("conflict", rule.conflict));
  if (rule.readonly !== undefined) lines.push(entry("readonly", rule.readonly));
  if (rule.nocache !== undefined) lines.push(entry("nocache", rule.nocache));
  if (rule.keep !== undefined) lines.push(entry("keep", rule.keep));
  return lines;
}

function addr(a: HostPort): string {
  return formatHostPort(a);
}

export function renderPodConfig(cfg: PodConfig): string {
  const p = cfg.pod;
  const client = p.role === "client";
  const out = [
    `# pod.toml: local configuration of pod "${p.name}" (not replicated).`,
    "# Every key is described in docs/config.md.",
    "",
    "[pod]",
    entry("name", p.name),
    entry("role", p.role, "full | client"),
  ];
  if (p.listen) out.push(entry("listen", addr(p.listen), "where peers connect"));
  out.push(entry("data_dir", p.dataDir), entry("peers", p.peers.map(addr), "pods to dial"));
  if (!client) {
    out.push(p.storageLimitBytes === null ? entry("storage_limit", "1TiB", "default: until the disk is full", true) : entry("storage_limit", formatSizeExact(p.storageLimitBytes)));
  }
  out.push(p.metrics ? entry("metrics", addr(p.metrics), "Prometheus /metrics") : entry("metrics", "127.0.0.1:9420", "Prometheus /metrics (default: off)", true));
  out.push(
    "",
    "[mount]",
    cfg.mount.path === null ? entry("path", "/mnt/wormhole", "default: no mount", true) : entry("path", cfg.mount.path),
    entry("allow_other", cfg.mount.allowOther, "let other users see the mount"),
    entry("default_permissions", cfg.mount.defaultPermissions, "kernel checks file modes"),
    entry("kernel_cache", formatDuration(cfg.mount.kernelCacheMs), "kernel keeps names and attributes; changes are invalidated at once"),
    "",
    "[cache]",
    entry("max_size", formatSizeExact(cfg.cache.maxSizeBytes), "content cached beyond this pod's replicas"),
  );
  if (client) {
    out.push(
      "",
      "[client]",
      entry("keep", cfg.client.keep, "downloaded ahead, never evicted"),
      entry("offline_read_timeout", formatDuration(cfg.client.offlineReadTimeoutMs), "wait before EIO when offline"),
    );
  } else {
    const a = cfg.affinity;
    out.push(
      "",
      "# Placement weights (0 = never, 1 = normal, higher = more)",
      "[affinity]",
      entry("replicas", a.replicas),
      entry("new", a.new, "recently written files"),
      entry("hot", a.hot, "often read files"),
      entry("cold", a.cold, "rarely read files"),
    );
  }
  return `${out.join("\n")}\n`;
}
