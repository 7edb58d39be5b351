// Leases: which chunks a reader or writer is using right now, so gc and delete leave them alone.

/** A set of chunk ids protected from gc and delete until released. */
export class Lease {
  private readonly ids = new Set<string>();
  private released = false;

  constructor(private readonly holds: Map<string, number>) {}

  hold(id: string): void {
    if (this.released) throw new Error("lease already released: take a new lease with store.lease()");
    if (this.ids.has(id)) return;
    this.ids.add(id);
    this.holds.set(id, (this.holds.get(id) ?? 0) + 1);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const id of this.ids) {
      const n = this.holds.get(id)! - 1;
      if (n === 0) this.holds.delete(id);
      else this.holds.set(id, n);
    }
    this.ids.clear();
  }
}

