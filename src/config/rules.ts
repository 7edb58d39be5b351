// Per-path settings: cluster defaults overridden by the [[rules]] that match a path.
// Like .gitignore, every matching rule applies in file order and the LAST one to set a key
// wins for that key, so a general rule goes first and its exceptions follow it.

import type { ClusterConfig, ConflictPolicy, Rule } from "./cluster.js";
import { compileGlob } from "./glob.js";

export interface EffectiveRule {
  redundancy: number;
  conflict: ConflictPolicy;
  readonly: boolean;
  /** Never cache this content on pods that do not hold a replica. */
  nocache: boolean;
  /** Every pod downloads this content ahead and never evicts it. */
  keep: boolean;
}

/**
 * Compiles the rules once and returns a lookup for cluster paths ("/photos/2024/a.jpg").
 * `keep` and `nocache` are opposite caching modes: a rule setting one to true clears the
 * other, so the last matching rule decides how a path is cached.
 */
export function compileRules(cfg: ClusterConfig): (path: string) => EffectiveRule {
  const base: EffectiveRule = {
    redundancy: cfg.cluster.redundancy,
    conflict: cfg.cluster.conflict,
    readonly: false,
    nocache: false,
    keep: false,
  };
  const compiled = cfg.rules.map((rule) => ({ glob: compileGlob(rule.path), rule }));
  if (compiled.length === 0) return () => ({ ...base });
  return (path: string) => {
    const out = { ...base };
    for (const { glob, rule } of compiled) if (glob.test(path)) apply(out, rule);
    return out;
  };
}

function apply(out: EffectiveRule, rule: Rule): void {
  if (rule.redundancy !== undefined) out.redundancy = rule.redundancy;
  if (rule.conflict !== undefined) out.conflict = rule.conflict;
  if (rule.readonly !== undefined) out.readonly = rule.readonly;
  if (rule.nocache !== undefined) {
    out.nocache = rule.nocache;
    if (rule.nocache) out.keep = false;
  }
  if (rule.keep !== undefined) {
    out.keep = rule.keep;
    if (rule.keep) out.nocache = false;
  }
}
