// What this pod should fetch and what it may let go, from one consistent look at the
// namespace, the placement and the holdings. Pure: the replicator executes the plan, the
// tests check it without a cluster.
//
// The plan is kept incrementally (PlanState): a full sweep walks every live version, and a
// holdings announcement about a few versions re-plans only those. A join makes every pod
// receive one announcement per fetched version; re-planning the whole namespace for each
// (10,000 files × every announcement) was what kept a join from finishing.
export interface LiveVersionRef {
  inode: string;
  version: string;
  redundancy: number;
  /** This pod wants a local copy whatever the placement (pinned, or a keep rule). */
  keepHere?: boolean;
  /** Content bytes, so fetches can be batched by size (0 when unknown). */
  size?: number;
  /** Last modification, which decides the file's placement class (new or cold). */
  modifiedMs?: number;
}

export interface PlanInput {
  selfId: string;
  /** Every live version; read by a full sweep only. */
  versions: Iterable<LiveVersionRef>;
  /** One live version (merged over the files using it, see mergeRefs); read by updates. */
  refOf: (version: string) => LiveVersionRef | undefined;
  /** Target pods for a file (already restricted to placeable full pods). */
  targetsOf: (ref: LiveVersionRef) => readonly string[];
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

/**
 * The same content under several inodes is one replica set, placed by its smallest inode
 * id: every pod must pick the same targets, whatever order its namespace lists them in
 * (otherwise a writer waits forever for targets the others never chose). It is kept here
 * if any of the inodes asks for that.
 */
export function mergeRefs(a: LiveVersionRef, b: LiveVersionRef): LiveVersionRef {
  const placedBy = b.inode < a.inode ? b : a;
  const keepHere = a.keepHere === true || b.keepHere === true;
  return placedBy.keepHere === keepHere ? placedBy : { ...placedBy, keepHere };
}

export function planReplication(input: PlanInput): ReplicationPlan {
  const state = new PlanState();
  state.sweep(input);
  return state.plan();
}

/** The plan, kept up to date by full sweeps and by re-planning single versions. */
export class PlanState {
  /** One reference per live version (the same content under two names is one replica set). */
  private refs = new Map<string, LiveVersionRef>();
  private readonly pull = new Set<string>();
  private readonly drop = new Set<string>();
  private readonly fullyReplicated = new Set<string>();
  /** Fully replicated since the last takeNewlyReplicated (so the outbox is not rescanned). */
  private newlyReplicated = new Set<string>();

  /** Re-plans every live version (namespace, membership, liveness or rules changed). */
  sweep(input: PlanInput): void {
    const refs = new Map<string, LiveVersionRef>();
    for (const ref of input.versions) {
      const known = refs.get(ref.version);
      refs.set(ref.version, known ? mergeRefs(known, ref) : ref);
    }
    this.refs = refs;
    this.pull.clear();
    this.drop.clear();
    this.fullyReplicated.clear();
    for (const ref of refs.values()) this.decide(input, ref);
  }

  /**
   * Re-plans only `versions` (their holders or the files using them changed), with the
   * placement of this look; a version no live file uses any more leaves the plan.
   */
  update(input: PlanInput, versions: Iterable<string>): void {
    for (const version of versions) {
      this.pull.delete(version);
      this.drop.delete(version);
      this.fullyReplicated.delete(version);
      const ref = input.refOf(version);
      if (ref) {
        this.refs.set(version, ref);
        this.decide(input, ref);
      } else this.refs.delete(version);
    }
  }

  /** Content bytes of a live version (0 when unknown or not live). */
  sizeOf(version: string): number {
    return this.refs.get(version)?.size ?? 0;
  }

  plan(): ReplicationPlan {
    return { pull: [...this.pull], drop: [...this.drop], fullyReplicated: [...this.fullyReplicated] };
  }

  get pendingPulls(): number {
    return this.pull.size;
  }

  pulls(): string[] {
    return [...this.pull];
  }

  drops(): string[] {
    return [...this.drop];
  }

  /** Versions found fully replicated since the last call (every one again after a sweep). */
  takeNewlyReplicated(): string[] {
    const taken = [...this.newlyReplicated];
    this.newlyReplicated = new Set();
    return taken;
  }

  private decide(input: PlanInput, ref: LiveVersionRef): void {
    const { version } = ref;
    const keepHere = ref.keepHere === true;
    const targets = input.targetsOf(ref);
    const holders = input.holdersOf(version);
    const isTarget = targets.includes(input.selfId);
    const heldHere = input.heldLocally.has(version);
    const targetsConfirmed = targets.length > 0 && targets.every((t) => holders.includes(t) && input.isReachable(t));
    if ((isTarget || keepHere) && !heldHere) this.pull.add(version);
    if (targetsConfirmed) {
      this.fullyReplicated.add(version);
      this.newlyReplicated.add(version);
    }
    if (heldHere && !isTarget && !keepHere && targetsConfirmed && !input.isProtected(version)) this.drop.add(version);
  }
}
