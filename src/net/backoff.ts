/**
 * Reconnect delays: exponential from `initialMs` to `maxMs`, with "equal jitter" (a uniform
 * draw in [d/2, d]) so that pods restarted together do not redial in lock-step, while a
 * delay never collapses to zero.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000 };

export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
