// pod.toml: the local configuration of one pod (never replicated).

import { dirname, isAbsolute, relative, resolve } from "node:path";
import { NAME_PATTERN } from "./cluster.js";
import { beginValidation, ifWritten, optional, required, type FileSchema, type Validator } from "./schema.js";
import { address, boolean, duration, glob, isTable, list, oneOf, size, text, ValueProblem, weight, type HostPort, type ValueType } from "./types.js";

export const POD_ROLES = ["full", "client"] as const;
export type PodRole = (typeof POD_ROLES)[number];
export const DEFAULT_PORT = 7420;
export const MAX_AFFINITY = 100;

export interface PodConfig {
  pod: {
    name: string;
    role: PodRole;
    /** Where a full pod accepts peers; null for client pods, which only dial out. */
    listen: HostPort | null;
    /** Absolute path (relative paths in the file are resolved against the file's directory). */
    dataDir: string;
    peers: HostPort[];
    /** Most bytes of replicas this pod stores; null = until the disk is full. */
    storageLimitBytes: number | null;
    /** Prometheus /metrics listen address; null = no metrics endpoint. */
    metrics: HostPort | null;
  };
  mount: {
    /** Absolute mount point; null = run without a FUSE mount (storage-only pod). */
    path: string | null;
    allowOther: boolean;
    defaultPermissions: boolean;
    /** How long the kernel may keep names and attributes; the pod invalidates changes at once. */
    kernelCacheMs: number;
  };
  cache: { maxSizeBytes: number };
  /** Relative weights (0 = never) for what placement sends to this pod. */
  affinity: { replicas: number; new: number; hot: number; cold: number };
  client: {
    /** Cluster path globs downloaded ahead and never evicted (client pods). */
    keep: string[];
    /** How long a read waits for an unreachable holder before failing with EIO, in ms. */
    offlineReadTimeoutMs: number;
  };
}

export const POD_DEFAULTS = {
  role: "full" as PodRole,
  listen: { host: "0.0.0.0", port: DEFAULT_PORT },
  cacheMaxSizeBytes: 10 * 2 ** 30,
  offlineReadTimeoutMs: 2_000,
  kernelCacheMs: 1_000,
  affinity: { replicas: 1, new: 1, hot: 1, cold: 1 },
};

/** A filesystem path; "~" is refused because nothing here runs a shell to expand it. */
function fsPath(): ValueType<string> {
  const base = text({ expected: 'a directory path such as "/var/lib/wormhole/acme"' });
  return {
    expected: base.expected,
    read(raw) {
      const p = base.read(raw);
      if (p.trim() === "") throw new ValueProblem("bad-value", "empty path", base.expected);
      if (p.startsWith("~")) throw new ValueProblem("bad-value", `"~" is not expanded in ${JSON.stringify(p)}`, base.expected, { help: "write the full path, such as /home/alice/..." });
      return p;
    },
  };
}

const POD_TABLE = {
  name: required(text({ pattern: NAME_PATTERN, expected: "1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit" })),
  role: optional(oneOf(POD_ROLES), POD_DEFAULTS.role),
  listen: ifWritten(address(true)),
  data_dir: required(fsPath()),
  peers: optional(list(address(false), true), []),
  storage_limit: optional(size(1), null as number | null),
  metrics: optional(address(true), null as HostPort | null),
};
const MOUNT_TABLE = {
  path: optional(fsPath(), null as string | null),
  allow_other: optional(boolean(), false),
  default_permissions: optional(boolean(), true),
  kernel_cache: optional(duration(), POD_DEFAULTS.kernelCacheMs),
};
const CACHE_TABLE = { max_size: optional(size(0), POD_DEFAULTS.cacheMaxSizeBytes) };
const affinityWeight = optional(weight(MAX_AFFINITY), 1);
const AFFINITY_TABLE = { replicas: affinityWeight, new: affinityWeight, hot: affinityWeight, cold: affinityWeight };
const CLIENT_TABLE = {
  keep: optional(list(glob(), true), [] as string[]),
  offline_read_timeout: optional(duration(), POD_DEFAULTS.offlineReadTimeoutMs),
};

const CLUSTER_FILE_HINT = "this is a cluster setting: it belongs in wormhole.toml";

export const POD_SCHEMA: FileSchema = {
  tables: { pod: POD_TABLE, mount: MOUNT_TABLE, cache: CACHE_TABLE, affinity: AFFINITY_TABLE, client: CLIENT_TABLE },
  arrays: {},
  requiredTables: ["pod"],
  elsewhere: Object.fromEntries(
    ["cluster", "failure", "rules", "redundancy", "conflict", "join", "admins", "grace", "write_ack"].map((k) => [k, CLUSTER_FILE_HINT]),
  ),
};

/**
 * Parses and validates pod.toml text. Relative `data_dir` and `mount.path` are resolved
 * against the directory of `file`, so a pod.toml can sit next to its data.
 */
export function parsePodConfig(sourceText: string, file: string): PodConfig {
  const { doc, v } = beginValidation(sourceText, file, POD_SCHEMA);
  const p = v.readTable(doc.pod, POD_TABLE, ["pod"]);
  const m = v.readTable(doc.mount, MOUNT_TABLE, ["mount"]);
  const c = v.readTable(doc.cache, CACHE_TABLE, ["cache"]);
  const a = v.readTable(doc.affinity, AFFINITY_TABLE, ["affinity"]);
  const cl = v.readTable(doc.client, CLIENT_TABLE, ["client"]);
  const base = dirname(resolve(file));
  const dataDir = p.data_dir === undefined ? "" : resolve(base, p.data_dir);
  const mountPath = m.path === null ? null : resolve(base, m.path);
  const config: PodConfig = {
    pod: {
      name: p.name,
      role: p.role,
      listen: p.role === "client" ? null : (p.listen ?? POD_DEFAULTS.listen),
      dataDir,
      peers: p.peers,
      storageLimitBytes: p.storage_limit,
      metrics: p.metrics,
    },
    mount: { path: mountPath, allowOther: m.allow_other, defaultPermissions: m.default_permissions, kernelCacheMs: m.kernel_cache },
    cache: { maxSizeBytes: c.max_size },
    affinity: { replicas: a.replicas, new: a.new, hot: a.hot, cold: a.cold },
    client: { keep: cl.keep, offlineReadTimeoutMs: cl.offline_read_timeout },
  };
  checkPodConsistency(v, doc, config, p.listen !== undefined);
  v.finish();
  return config;
}

/** Settings that are each valid but make no sense together. */
function checkPodConsistency(v: Validator, doc: Record<string, unknown>, cfg: PodConfig, listenWritten: boolean): void {
  const client = cfg.pod.role === "client";
  if (client) {
    if (listenWritten) {
      v.report(["pod", "listen"], "contradiction", "a client pod does not listen: `pod.listen` is set with `role = \"client\"`", "no listen address for a client pod", { help: "client pods only dial out to their peers: remove `listen`, or set role = \"full\"" });
    }
    if (cfg.pod.storageLimitBytes !== null) {
      v.report(["pod", "storage_limit"], "contradiction", "a client pod stores no replicas: `pod.storage_limit` is set with `role = \"client\"`", "no storage_limit for a client pod", { help: "bound a client pod's disk use with [cache] max_size instead" });
    }
    if (Object.hasOwn(doc, "affinity")) {
      v.report(["affinity"], "contradiction", "a client pod holds no replicas: [affinity] is set with `role = \"client\"`", "no [affinity] table for a client pod", { help: "remove the [affinity] table, or set role = \"full\"" });
    }
    const writtenPeers = isTable(doc.pod) ? doc.pod.peers : undefined;
    if (Object.hasOwn(doc, "pod") && (writtenPeers === undefined || (Array.isArray(writtenPeers) && writtenPeers.length === 0))) {
      v.report(["pod", "peers"], "missing-key", "a client pod needs at least one peer: `pod.peers` is empty", "a list of full pods to dial, such as [\"nas.lan:7420\"]", { help: "client pods only dial out, so without peers it could never sync" });
    }
  } else if (Object.hasOwn(doc, "client")) {
    v.report(["client"], "contradiction", "[client] settings are set on a full pod", "a [client] table only with `role = \"client\"` in [pod]", { help: "set role = \"client\" in [pod], or remove the [client] table (full pods hold replicas, not a keep list)" });
  }
  if (cfg.pod.metrics && cfg.pod.listen && cfg.pod.metrics.port !== 0 && cfg.pod.metrics.port === cfg.pod.listen.port) {
    v.report(["pod", "metrics"], "contradiction", `\`pod.metrics\` uses port ${cfg.pod.metrics.port}, which \`pod.listen\` already uses`, "a port different from the listen port", { help: "pick another port for metrics, such as 9420", at: "value" });
  }
  if (cfg.mount.path !== null && cfg.pod.dataDir !== "") {
    if (isInside(cfg.mount.path, cfg.pod.dataDir) || isInside(cfg.pod.dataDir, cfg.mount.path)) {
      v.report(["mount", "path"], "contradiction", "`mount.path` and `pod.data_dir` overlap", "a mount point outside the data directory, and the data directory outside the mount", {
        help: "mounting over the data directory would hide the pod's own storage; use separate paths such as /srv/wormhole/data and /mnt/wormhole",
        at: "value",
      });
    }
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
