// Public API of the configuration layer. Every other layer imports from here only.

export { ConfigError, type ConfigErrorCode } from "./errors.js";
export {
  parseClusterConfig,
  CLUSTER_DEFAULTS,
  CONFLICT_POLICIES,
  JOIN_POLICIES,
  WRITE_ACKS,
  FAILURE_REACTIONS,
  MAX_REDUNDANCY,
  type ClusterConfig,
  type Rule,
  type ConflictPolicy,
  type JoinPolicy,
  type WriteAck,
  type FailureReaction,
} from "./cluster.js";
export { parsePodConfig, POD_DEFAULTS, POD_ROLES, DEFAULT_PORT, type PodConfig, type PodRole } from "./pod.js";
export { loadClusterConfig, loadPodConfig, checkConfigFile, type CheckedConfig } from "./load.js";
export { compileRules, type EffectiveRule } from "./rules.js";
export { compileGlob, matchesAny, GlobError, type GlobMatcher } from "./glob.js";
export { parseDuration, formatDuration, parseSize, formatSize, UnitError } from "./units.js";
export { parseHostPort, formatHostPort, type HostPort } from "./types.js";
export { renderClusterConfig, renderPodConfig } from "./render.js";
export { defaultClusterConfig, defaultPodConfig, type PodConfigBasics } from "./defaults.js";
