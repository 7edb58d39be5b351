// Health: how far each file is from its redundancy target, the cluster's worst state, and
// the configured reaction to it. Pure: the daemon feeds it replica counts it derived from
// the holdings pods announce.

export type HealthState = "healthy" | "degraded" | "at-risk" | "unavailable";

export type Reaction = "continue" | "throttle" | "read-only" | "lower-redundancy" | "stop";

export const REACTIONS: readonly Reaction[] = ["continue", "throttle", "read-only", "lower-redundancy", "stop"];

/** One file: how many counted replicas it should have and how many live full pods hold it. */
export interface FileReplicas {
  target: number;
  liveReplicas: number;
}

/**
 * Whether under-replicated files can be brought back to target:
 * - a boolean decided by the caller, or
 * - the number of live full pods that have free space: a file can recover when at least
 *   `target` such pods exist (each replica needs its own pod).
 */
export type RecoveryRoom = boolean | number;

export interface HealthCounts {
  total: number;
  /** Files with fewer live replicas than their target (includes the unavailable ones). */
  underReplicated: number;
  /** Files with no reachable replica at all. */
  unavailable: number;
}

export interface HealthReport {
  state: HealthState;
  counts: HealthCounts;
}

/** `[failure]` from the cluster config: the reaction to each unhealthy state. */
export interface FailureConfig {
  degraded: string;
  at_risk: string;
  unavailable: string;
}

const SEVERITY: Record<HealthState, number> = { healthy: 0, degraded: 1, "at-risk": 2, unavailable: 3 };

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
}

function canRecover(target: number, room: RecoveryRoom): boolean {
  return typeof room === "boolean" ? room : room >= target;
}

/** The state of one file. A file with target 0 (nothing to store) is always healthy. */
export function classifyFile(file: FileReplicas, room: RecoveryRoom): HealthState {
  checkCount("target", file.target);
  checkCount("liveReplicas", file.liveReplicas);
  if (file.liveReplicas >= file.target) return "healthy";
  if (file.liveReplicas === 0) return "unavailable";
  return canRecover(file.target, room) ? "degraded" : "at-risk";
}

/** Classifies every file; the cluster state is the worst file state. */
export function assessHealth(files: Iterable<FileReplicas>, room: RecoveryRoom): HealthReport {
  if (typeof room === "number") checkCount("room (pods with free space)", room);
  const counts: HealthCounts = { total: 0, underReplicated: 0, unavailable: 0 };
  let state: HealthState = "healthy";
  for (const file of files) {
    const fileState = classifyFile(file, room);
    counts.total++;
    if (fileState !== "healthy") counts.underReplicated++;
    if (fileState === "unavailable") counts.unavailable++;
    if (SEVERITY[fileState] > SEVERITY[state]) state = fileState;
  }
  return { state, counts };
}

function asReaction(field: string, value: unknown): Reaction {
  if (typeof value === "string" && (REACTIONS as readonly string[]).includes(value)) return value as Reaction;
  throw new RangeError(`[failure] ${field} = ${JSON.stringify(value)} is not a reaction; expected one of ${REACTIONS.join(", ")}`);
}

/** The configured reaction to a cluster state; a healthy cluster always continues. */
export function reactionFor(state: HealthState, failure: FailureConfig): Reaction {
  switch (state) {
    case "healthy":
      return "continue";
    case "degraded":
      return asReaction("degraded", failure.degraded);
    case "at-risk":
      return asReaction("at_risk", failure.at_risk);
    case "unavailable":
      return asReaction("unavailable", failure.unavailable);
  }
}
