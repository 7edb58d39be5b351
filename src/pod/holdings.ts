// Who holds a complete replica of which version. Each pod announces its own set (a full
// snapshot when a connection opens, deltas afterwards); every receiver keeps the index so a
// read goes straight to a holder and health is computed without asking the cluster.
// Replica locations are deliberately not namespace data (DESIGN.md, "The namespace").
export class HoldingsIndex {
  private readonly byVersion = new Map<string, Set<string>>();
  private readonly byPod = new Map<string, Set<string>>();

  holdersOf(version: string): ReadonlySet<string> {
    return this.byVersion.get(version) ?? EMPTY;
  }

  heldBy(podId: string): ReadonlySet<string> {
    return this.byPod.get(podId) ?? EMPTY;
  }

  holds(podId: string, version: string): boolean {
    return this.byPod.get(podId)?.has(version) ?? false;
  }

  /** Replace everything known about `podId` (a snapshot announcement). */
  replace(podId: string, versions: Iterable<string>): void {
    for (const version of this.heldBy(podId)) this.unlink(podId, version);
    this.byPod.delete(podId);
    this.add(podId, versions);
  }

  add(podId: string, versions: Iterable<string>): void {
    let set = this.byPod.get(podId);
    if (!set) {
      set = new Set();
      this.byPod.set(podId, set);
    }
    for (const version of versions) {
      set.add(version);
      let holders = this.byVersion.get(version);
      if (!holders) {
        holders = new Set();
        this.byVersion.set(version, holders);
      }
      holders.add(podId);
    }
  }

  remove(podId: string, versions: Iterable<string>): void {
    const set = this.byPod.get(podId);
    if (!set) return;
    for (const version of versions) {
      if (set.delete(version)) this.unlink(podId, version);
    }
  }

  forget(podId: string): void {
    this.replace(podId, []);
    this.byPod.delete(podId);
  }

  private unlink(podId: string, version: string): void {
    const holders = this.byVersion.get(version);
    if (!holders) return;
    holders.delete(podId);
    if (holders.size === 0) this.byVersion.delete(version);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
