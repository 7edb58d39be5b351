// Hybrid logical clock: stamps that follow the wall clock but never go backwards and are
// totally ordered across the cluster (ties broken by pod id).
import type { PodId } from "./types.js";

/**
 * `t` packs wall milliseconds and a logical counter as `wallMs * 1024 + counter`: one
 * double, exact until the year 2250, and compared with a single subtraction. When more
 * than 1024 stamps are taken in one millisecond the clock simply runs ahead of the wall.
 */
export interface Stamp {
  t: number;
  p: PodId;
}

const LOGICAL_BITS = 1024;

export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.t !== b.t) return a.t - b.t;
  return a.p < b.p ? -1 : a.p > b.p ? 1 : 0;
}

export function stampTimeMs(t: number): number {
  return Math.floor(t / LOGICAL_BITS);
}

/** Compact text form `<t base36>.<pod>`, e.g. for logs and wire debugging. */
export function encodeStamp(s: Stamp): string {
  return `${s.t.toString(36)}.${s.p}`;
}

export function decodeStamp(text: string): Stamp {
  const dot = text.indexOf(".");
  const t = parseInt(text.slice(0, dot), 36);
  if (dot <= 0 || !Number.isSafeInteger(t) || t < 0) throw new Error(`malformed HLC stamp "${text}"`);
  return { t, p: text.slice(dot + 1) };
}

export class Hlc {
  private last = 0;

  constructor(
    readonly pod: PodId,
    private readonly wallMs: () => number = Date.now,
  ) {}

  /** A new stamp, greater than every stamp this clock has issued or received. */
  now(): Stamp {
    const physical = Math.floor(this.wallMs()) * LOGICAL_BITS;
    this.last = Math.max(this.last + 1, physical);
    return { t: this.last, p: this.pod };
  }

  /** Record a stamp seen from elsewhere so the next local stamp is newer. */
  receive(t: number): void {
    if (t > this.last && Number.isSafeInteger(t)) this.last = t;
  }

  /** The newest stamp value issued or received (0 before any). */
  get latest(): number {
    return this.last;
  }
}
