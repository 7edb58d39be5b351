// Which pods count as alive for placement. A pod that dropped off is still counted for
// `grace` milliseconds, so a reboot or a short network blip does not trigger a storm of
// re-replication; past the grace period its share is placed elsewhere.
export class Liveness {
  private readonly connected = new Set<string>();
  private readonly downSince = new Map<string, number>();

  constructor(
    private readonly selfId: string,
    private graceMs: number,
    private readonly now: () => number = Date.now,
    startedAtMs: number = now(),
  ) {
    this.startedAtMs = startedAtMs;
  }

  private readonly startedAtMs: number;

  setGrace(graceMs: number): void {
    this.graceMs = graceMs;
  }

  up(podId: string): void {
    this.connected.add(podId);
    this.downSince.delete(podId);
  }

  down(podId: string): void {
    this.connected.delete(podId);
    this.downSince.set(podId, this.now());
  }

  /** Reachable right now: this pod itself or a peer with an open connection. */
  isReachable(podId: string): boolean {
    return podId === this.selfId || this.connected.has(podId);
  }

  /**
   * Counted for placement: reachable, or gone for less than the grace period. A pod never
   * seen since this process started is measured from the start, so a restarted pod gives
   * its peers the same grace as a running one would.
   */
  isPlaceable(podId: string): boolean {
    if (this.isReachable(podId)) return true;
    const since = this.downSince.get(podId) ?? this.startedAtMs;
    return this.now() - since < this.graceMs;
  }

  /** Milliseconds until `podId` leaves placement, or 0 if it already has / is reachable. */
  graceLeftMs(podId: string): number {
    if (this.isReachable(podId)) return 0;
    const since = this.downSince.get(podId) ?? this.startedAtMs;
    return Math.max(0, since + this.graceMs - this.now());
  }

  reachablePeers(): string[] {
    return [...this.connected];
  }
}
