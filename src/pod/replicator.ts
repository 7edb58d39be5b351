// Executes replication plans: pulls what this pod is a target for, lets go of surplus
// copies, and re-plans whenever something that changes the answer happens.
//
// Planning is incremental (see PlanState): `trigger()` asks for a full sweep (namespace,
// membership, liveness or rules changed), `touch(versions)` re-plans only versions whose
// holders changed. One pass runs at a time; requests during a pass coalesce into one more.
// Fetches go in batches (many small versions share one durable commit and one holdings
// announcement), a few batches at once, and each finished batch updates the plan at once,
// so the pending count shrinks as the work gets done.
import type { Logger } from "./log.js";
import { PlanState, type PlanInput, type ReplicationPlan } from "./replication-plan.js";

export interface ReplicatorPorts {
  /** A fresh planning input; `versions` is read only by a full sweep (`full` true). */
  snapshot(full: boolean): PlanInput;
  /**
   * Fetches a batch of versions. Resolves with the ones that failed and why; every other one
   * is durable here and announced as held.
   */
  fetch(versions: string[]): Promise<Map<string, Error>>;
  /** Releases this pod's replicas of these versions (the chunks go at the next GC). */
  release(versions: string[]): Promise<void>;
  /** These versions' targets all hold them now: local writes of them may leave the outbox. */
  replicated(versions: string[]): Promise<void>;
}

export interface ReplicatorOptions {
  /** Fetch batches in flight at once (each pulls its chunks in parallel too). */
  parallelBatches: number;
  /** Most versions in one batch. */
  batchVersions: number;
  /** Most content bytes in one batch (a larger version goes alone). */
  batchBytes: number;
  /** Delay before retrying a failed fetch; doubled per failure up to 30 s. */
  retryBaseMs: number;
}

export const DEFAULT_REPLICATOR_OPTIONS: ReplicatorOptions = {
  parallelBatches: 2,
  batchVersions: 256,
  batchBytes: 64 * 1024 * 1024,
  retryBaseMs: 500,
};

export class Replicator {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private sweepWanted = true;
  private dirty = new Set<string>();
  private readonly fetching = new Set<string>();
  /** Fetch workers' promises; a pass ends when none is left. */
  private readonly workers = new Set<Promise<void>>();
  /** Workers still taking batches (one that found nothing left stops counting at once). */
  private activeWorkers = 0;
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly state = new PlanState();

  constructor(
    private readonly ports: ReplicatorPorts,
    private readonly log: Logger,
    private readonly options: ReplicatorOptions = DEFAULT_REPLICATOR_OPTIONS,
  ) {}

  /** The current plan, for status and tests. */
  get lastPlan(): ReplicationPlan {
    return this.state.plan();
  }

  /** Versions this pod still has to fetch. */
  get pendingFetches(): number {
    return this.state.pendingPulls;
  }

  /** Asks for a full sweep soon; cheap to call often. */
  trigger(): void {
    this.sweepWanted = true;
    this.kick();
  }

  /** Asks for these versions to be re-planned soon (their holders changed). */
  touch(versions: Iterable<string>): void {
    const before = this.dirty.size;
    for (const version of versions) this.dirty.add(version);
    // Nothing new to re-plan (the create of an empty file has no version to place).
    if (this.dirty.size > before) this.kick();
  }

  /** Sweeps at a fixed interval too, so time-based changes (grace expiry) are noticed. */
  startPeriodic(intervalMs: number): void {
    this.timer = setInterval(() => this.trigger(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.running;
  }

  /** Resolves when no pass is running or queued (tests and drain use it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      // New work must not wait for the batches in flight to finish: a free worker slot
      // takes it now (a client's uploads arrive as a trickle of holdings announcements).
      this.startWorkers();
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (error) {
        this.log.error(`replication pass failed: ${(error as Error).message}`);
      }
    } while (this.again && !this.stopped);
  }

  /** Brings the plan up to date: a full sweep if one was asked for, else the dirty versions. */
  private replan(): void {
    if (this.sweepWanted) {
      this.sweepWanted = false;
      this.dirty.clear();
      this.state.sweep(this.ports.snapshot(true));
    } else if (this.dirty.size > 0) {
      const dirty = this.dirty;
      this.dirty = new Set();
      this.state.update(this.ports.snapshot(false), dirty);
    }
  }

  private async pass(): Promise<void> {
    this.replan();
    const drop = this.state.drops();
    if (drop.length > 0 && !this.stopped) {
      await this.ports.release(drop);
      this.state.update(this.ports.snapshot(false), drop);
    }
    const replicated = this.state.takeNewlyReplicated();
    if (replicated.length > 0) await this.ports.replicated(replicated);
    this.startWorkers();
    while (this.workers.size > 0) await Promise.all(this.workers);
  }

  /** Fills the free worker slots; each worker takes batches until no due pull is left. */
  private startWorkers(): void {
    const free = this.options.parallelBatches - this.activeWorkers;
    for (let i = 0; i < free && !this.stopped; i++) {
      this.activeWorkers++;
      const worker: Promise<void> = this.fetchWorker().finally(() => this.workers.delete(worker));
      this.workers.add(worker);
    }
  }

  /**
   * Takes batches of due pulls until none is left, re-planning between batches. A worker that
   * finds nothing stops counting as active right away (synchronously, not a tick later), so a
   * touch in the same tick still finds its slot free.
   */
  private async fetchWorker(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        this.replan();
        const batch = this.nextBatch();
        if (batch.length === 0) return;
        await this.fetchBatch(batch);
      }
    } finally {
      this.activeWorkers--;
    }
  }

  private async fetchBatch(batch: string[]): Promise<void> {
    for (const version of batch) this.fetching.add(version);
    let failed: Map<string, Error>;
    try {
      failed = await this.ports.fetch(batch);
    } catch (error) {
      failed = new Map(batch.map((version) => [version, error as Error]));
    } finally {
      for (const version of batch) this.fetching.delete(version);
    }
    for (const version of batch) {
      const error = failed.get(version);
      if (error) this.recordFailure(version, error);
      else this.failures.delete(version);
    }
    // This pod's holdings changed: those versions may be done, or now fully replicated.
    this.state.update(this.ports.snapshot(false), batch);
  }

  /**
   * Due pulls not already in flight, up to the batch limits (in count and bytes). When only
   * versions waiting out a failure's backoff are left, a pass is scheduled for the first of them.
   */
  private nextBatch(): string[] {
    const now = Date.now();
    const batch: string[] = [];
    let bytes = 0;
    let firstRetry = Infinity;
    for (const version of this.state.pulls()) {
      if (this.fetching.has(version)) continue;
      const retryAt = this.failures.get(version)?.retryAt ?? 0;
      if (retryAt > now) {
        firstRetry = Math.min(firstRetry, retryAt);
        continue;
      }
      const size = this.state.sizeOf(version);
      if (batch.length > 0 && bytes + size > this.options.batchBytes) {
        if (size > this.options.batchBytes) continue; // a large version goes in a batch of its own
        break;
      }
      batch.push(version);
      bytes += size;
      if (batch.length >= this.options.batchVersions || bytes >= this.options.batchBytes) break;
    }
    if (batch.length === 0 && firstRetry < Infinity) this.retryAt(firstRetry - now);
    return batch;
  }

  private retryAt(delayMs: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delayMs + 1);
    this.retryTimer.unref();
  }

  private recordFailure(version: string, error: Error): void {
    const count = (this.failures.get(version)?.count ?? 0) + 1;
    const delay = Math.min(30_000, this.options.retryBaseMs * 2 ** (count - 1));
    this.failures.set(version, { count, retryAt: Date.now() + delay });
    this.log.warn(`could not fetch version ${version.slice(0, 12)} (attempt ${count}, retry in ${delay} ms): ${error.message}`);
  }
}
