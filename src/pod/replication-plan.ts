// What this pod should fetch and what it may let go, from one consistent look at the
// namespace, the placement and the holdings. Pure: the replicator executes the plan, the
// tests check it without a cluster.
export interface LiveVersionRef {
  inode: string;
  version: string;
  redundancy: number;
  /** This pod wants a local copy whatever the placement (pinned, or a keep rule). */
  keepHere?: boolean;
}

export interface PlanInput {
  selfId: string;
  versions: Iterable<LiveVersionRef>;
  /** Target pods for an inode (already restricted to placeable full pods). */
  targetsOf: (inode: string, redundancy: number) => readonly string[];
  holdersOf: (version: string) => readonly string[];
  /** Versions this pod holds completely. */
  heldLocally: ReadonlySet<string>;
  /** Local copies that must stay whatever the placement says (outbox, pinned, keep-local). */
  isProtected: (version: string) => boolean;
  isReachable: (podId: string) => boolean;
}

export interface ReplicationPlan {
  /** Versions this pod is a target for, or keeps here, and lacks. */
  pull: string[];
  /** Versions this pod holds, is no target for, and every target confirmed holding. */
  drop: string[];
  /** Local writes whose targets all hold them now: they may leave the outbox. */
  fullyReplicated: string[];
}

export function planReplication(input: PlanInput): ReplicationPlan {
  const pull: string[] = [];
  const drop: string[] = [];
  const fullyReplicated: string[] = [];
  const keptHere = new Set<string>();
  // The same content under several inodes is one replica set, placed by its smallest inode
  // id: every pod must pick the same targets, whatever order its namespace lists them in
  // (otherwise a writer waits forever for targets the others never chose).
  const placedBy = new Map<string, LiveVersionRef>();
  for (const ref of input.versions) {
    if (ref.keepHere) keptHere.add(ref.version);
    const current = placedBy.get(ref.version);
    if (current === undefined || ref.inode < current.inode) placedBy.set(ref.version, ref);
  }
  for (const { inode, version, redundancy } of placedBy.values()) {
    const keepHere = keptHere.has(version);
    const targets = input.targetsOf(inode, redundancy);
    const holders = input.holdersOf(version);
    const isTarget = targets.includes(input.selfId);
    const heldHere = input.heldLocally.has(version);
    const targetsConfirmed = targets.length > 0 && targets.every((t) => holders.includes(t) && input.isReachable(t));
    if ((isTarget || keepHere) && !heldHere) pull.push(version);
    if (targetsConfirmed) fullyReplicated.push(version);
    if (heldHere && !isTarget && !keepHere && targetsConfirmed && !input.isProtected(version)) drop.push(version);
  }
  return { pull, drop, fullyReplicated };
}
