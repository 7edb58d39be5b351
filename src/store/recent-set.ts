// A set that remembers only its newest `capacity` members (insertion order, refreshed on add).

export class RecentSet {
  private readonly members = new Set<string>();

  constructor(private readonly capacity: number) {}

  add(key: string): void {
    this.members.delete(key); // re-inserted as the newest
    this.members.add(key);
    if (this.members.size > this.capacity) this.members.delete(this.members.values().next().value!);
  }

  has(key: string): boolean {
    return this.members.has(key);
  }

  delete(key: string): void {
    this.members.delete(key);
  }
}
