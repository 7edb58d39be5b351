// Executes replication plans: pulls what this pod is a target for, lets go of surplus
// copies, and re-plans whenever something that changes the answer happens (namespace
// change, peer up/down, holdings announcement, grace expiry). One pass runs at a time;
// triggers during a pass coalesce into one more pass, so a burst of 10,000 namespace
// updates costs a couple of passes, not 10,000.
import type { Logger } from "./log.js";
import { runLimited } from "./limiter.js";
import { planReplication, type PlanInput, type ReplicationPlan } from "./replication-plan.js";

export interface ReplicatorPorts {
  /** A fresh planning input (a consistent look at namespace, placement and holdings). */
  snapshot(): PlanInput;
  /** Fetches and stores one complete version; resolves once it is durable here. */
  fetch(version: string): Promise<void>;
  /** Releases this pod's replica of a version (the chunks go at the next GC). */
  release(version: string): Promise<void>;
  /** Local writes whose targets all hold them now. */
  replicated(versions: string[]): Promise<void>;
}

export interface ReplicatorOptions {
  /** Versions fetched at once (each fetch pulls its chunks in parallel too). */
  parallelFetches: number;
  /** Delay before retrying a failed fetch; doubled per failure up to 30 s. */
  retryBaseMs: number;
}

export class Replicator {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  /** The last plan, for status and for drain progress. */
  lastPlan: ReplicationPlan = { pull: [], drop: [], fullyReplicated: [] };

  constructor(
    private readonly ports: ReplicatorPorts,
    private readonly log: Logger,
    private readonly options: ReplicatorOptions = { parallelFetches: 4, retryBaseMs: 500 },
  ) {}

  /** Asks for a pass soon; cheap to call often. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Re-plans at a fixed interval too, so time-based changes (grace expiry) are noticed. */
  startPeriodic(intervalMs: number): void {
    this.timer = setInterval(() => this.trigger(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Resolves when no pass is running or queued (tests and drain use it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
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

  private async pass(): Promise<void> {
    const plan = planReplication(this.ports.snapshot());
    this.lastPlan = plan;
    const now = Date.now();
    const due = plan.pull.filter((v) => (this.failures.get(v)?.retryAt ?? 0) <= now);
    await runLimited(due, this.options.parallelFetches, async (version) => {
      if (this.stopped) return;
      try {
        await this.ports.fetch(version);
        this.failures.delete(version);
      } catch (error) {
        const count = (this.failures.get(version)?.count ?? 0) + 1;
        const delay = Math.min(30_000, this.options.retryBaseMs * 2 ** (count - 1));
        this.failures.set(version, { count, retryAt: Date.now() + delay });
        this.log.warn(`could not fetch version ${version.slice(0, 12)} (attempt ${count}, retry in ${delay} ms): ${(error as Error).message}`);
        setTimeout(() => this.trigger(), delay).unref();
      }
    });
    for (const version of plan.drop) {
      if (this.stopped) return;
      await this.ports.release(version);
    }
    if (plan.fullyReplicated.length > 0) await this.ports.replicated(plan.fullyReplicated);
    // Fetches and drops change holdings, which can change the plan: go round once more.
    if (due.length > 0 || plan.drop.length > 0) this.again = true;
  }
}
