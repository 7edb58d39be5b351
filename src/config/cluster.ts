// wormhole.toml: the cluster configuration, replicated to every pod when an admin applies it.

import { beginValidation, ifWritten, optional, required, type FileSchema, type Validator } from "./schema.js";
import { boolean, duration, glob, integer, list, oneOf, size, text } from "./types.js";

export const CONFLICT_POLICIES = ["keep-both", "overwrite"] as const;
export const JOIN_POLICIES = ["invite", "closed"] as const;
export const WRITE_ACKS = ["local", "redundancy"] as const;
export const FAILURE_REACTIONS = ["continue", "throttle", "read-only", "lower-redundancy", "stop"] as const;
/** `lower-redundancy` is only a cure for `at_risk`: see docs/config.md, [failure]. */
export const LOWER_REDUNDANCY_STATES = ["at_risk"] as const;

export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
export type JoinPolicy = (typeof JOIN_POLICIES)[number];
export type WriteAck = (typeof WRITE_ACKS)[number];
export type FailureReaction = (typeof FAILURE_REACTIONS)[number];

export const MAX_REDUNDANCY = 16;
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const NAME_EXPECTED = "1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit";
/** Pod ids are printed by `wormhole id`; here we only insist on one printable token. */
const POD_ID = text({ pattern: /^[A-Za-z0-9._:+/=-]{4,128}$/, expected: "a pod id as printed by `wormhole id` (4 to 128 characters, no spaces)" });

export interface ClusterConfig {
  cluster: {
    name: string;
    /** Copies of each file kept on distinct full pods. */
    redundancy: number;
    conflict: ConflictPolicy;
    join: JoinPolicy;
    /** Largest single file accepted, in bytes; null = no limit. */
    maxSizeBytes: number | null;
    /** Pod ids allowed to apply a new wormhole.toml; empty = every full member. */
    admins: string[];
    /** How long a pod may be missing before its files are re-replicated, in ms. */
    graceMs: number;
    writeAck: WriteAck;
  };
  failure: {
    degraded: FailureReaction;
    atRisk: FailureReaction;
    unavailable: FailureReaction;
  };
  rules: Rule[];
}

/** One [[rules]] entry; a key left out is `undefined` (the rule does not change it). */
export interface Rule {
  path: string;
  /** 1-based line of the rule's [[rules]] header, for messages ("rule at line 12"). */
  line: number;
  redundancy?: number;
  conflict?: ConflictPolicy;
  readonly?: boolean;
  nocache?: boolean;
  keep?: boolean;
}

export const CLUSTER_DEFAULTS = {
  redundancy: 2,
  conflict: "keep-both" as ConflictPolicy,
  join: "invite" as JoinPolicy,
  graceMs: 600_000,
  writeAck: "local" as WriteAck,
  failure: { degraded: "continue", atRisk: "throttle", unavailable: "read-only" } satisfies ClusterConfig["failure"],
};

const reaction = oneOf(FAILURE_REACTIONS);
const conflict = oneOf(CONFLICT_POLICIES);
const redundancy = integer(1, MAX_REDUNDANCY);

const CLUSTER_TABLE = {
  name: required(text({ pattern: NAME_PATTERN, expected: NAME_EXPECTED })),
  redundancy: optional(redundancy, CLUSTER_DEFAULTS.redundancy),
  conflict: optional(conflict, CLUSTER_DEFAULTS.conflict),
  join: optional(oneOf(JOIN_POLICIES), CLUSTER_DEFAULTS.join),
  max_size: optional(size(1), null as number | null),
  admins: optional(list(POD_ID, true), []),
  grace: optional(duration(), CLUSTER_DEFAULTS.graceMs),
  write_ack: optional(oneOf(WRITE_ACKS), CLUSTER_DEFAULTS.writeAck),
};

const FAILURE_TABLE = {
  degraded: optional(reaction, CLUSTER_DEFAULTS.failure.degraded),
  at_risk: optional(reaction, CLUSTER_DEFAULTS.failure.atRisk),
  unavailable: optional(reaction, CLUSTER_DEFAULTS.failure.unavailable),
};

const RULE_TABLE = {
  path: required(glob()),
  redundancy: ifWritten(redundancy),
  conflict: ifWritten(conflict),
  readonly: ifWritten(boolean()),
  nocache: ifWritten(boolean()),
  keep: ifWritten(boolean()),
};

const POD_FILE_HINT = "this is a pod setting: it belongs in pod.toml";

export const CLUSTER_SCHEMA: FileSchema = {
  tables: { cluster: CLUSTER_TABLE, failure: FAILURE_TABLE },
  arrays: { rules: RULE_TABLE },
  requiredTables: ["cluster"],
  elsewhere: Object.fromEntries(
    ["pod", "mount", "cache", "client", "affinity", "role", "listen", "data_dir", "peers", "storage_limit", "metrics"].map((k) => [k, POD_FILE_HINT]),
  ),
};

/** Parses and validates wormhole.toml text; `file` is the name shown in errors. */
export function parseClusterConfig(sourceText: string, file: string): ClusterConfig {
  const { doc, v } = beginValidation(sourceText, file, CLUSTER_SCHEMA);
  const c = v.readTable(doc.cluster, CLUSTER_TABLE, ["cluster"]);
  const f = v.readTable(doc.failure, FAILURE_TABLE, ["failure"]);
  checkFailureReactions(v, f);
  const rawRules = Array.isArray(doc.rules) ? doc.rules : [];
  const rules = rawRules.map((raw, i) => {
    const r = v.readTable(raw, RULE_TABLE, ["rules", i]);
    return { ...dropUnset(r), line: v.map.find(["rules", i])?.key.line ?? 0 } as Rule;
  });
  checkRules(v, rules);
  v.finish();
  return {
    cluster: {
      name: c.name,
      redundancy: c.redundancy,
      conflict: c.conflict,
      join: c.join,
      maxSizeBytes: c.max_size,
      admins: c.admins,
      graceMs: c.grace,
      writeAck: c.write_ack,
    },
    failure: { degraded: f.degraded, atRisk: f.at_risk, unavailable: f.unavailable },
    rules,
  };
}

function dropUnset<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function checkFailureReactions(v: Validator, f: Record<string, FailureReaction>): void {
  for (const [state, chosen] of Object.entries(f)) {
    if (chosen !== "lower-redundancy" || (LOWER_REDUNDANCY_STATES as readonly string[]).includes(state)) continue;
    const why =
      state === "degraded"
        ? "a degraded cluster has room to heal itself: lowering redundancy would stop it from making the missing copies"
        : "when a file has no reachable copy, fewer copies cannot bring it back";
    v.report(["failure", state], "contradiction", `\`failure.${state}\`: "lower-redundancy" cannot help in this state`, `for ${state}: "continue", "throttle", "read-only" or "stop"`, {
      help: `${why}; it is allowed only for at_risk`,
      at: "value",
    });
  }
}

/** Rules that repeat a path or contradict themselves are errors, not silent overrides. */
function checkRules(v: Validator, rules: Rule[]): void {
  const firstLineOf = new Map<string, number>();
  rules.forEach((rule, i) => {
    if (rule.path === undefined) return; // already reported as missing
    const first = firstLineOf.get(rule.path);
    if (first !== undefined) {
      v.report(["rules", i, "path"], "duplicate-rule", `duplicate rule: path "${rule.path}" already has a rule at line ${first}`, "each path glob in one [[rules]] entry", {
        help: `merge the two rules into the one at line ${first}`,
        at: "value",
      });
    } else {
      firstLineOf.set(rule.path, rule.line);
    }
    if (rule.keep === true && rule.nocache === true) {
      v.report(["rules", i, "nocache"], "contradiction", `contradictory rule for "${rule.path}": \`keep = true\` and \`nocache = true\``, "at most one of keep and nocache set to true", {
        help: "keep downloads files ahead and never evicts them; nocache never caches them: choose one",
      });
    }
    const settings = Object.keys(rule).filter((k) => k !== "path" && k !== "line");
    if (settings.length === 0) {
      v.report(["rules", i], "missing-key", `rule for "${rule.path}" sets nothing`, "at least one of redundancy, conflict, readonly, nocache, keep", {
        help: "add a setting, or delete the rule",
      });
    }
  });
}
