// Shared test fixtures for the namespace layer: pods with controllable clocks, syncing
// (full or one-way), and view dumps used to compare replicas.
import assert from "node:assert/strict";
import * as Y from "yjs";
import { Namespace, type ConflictPolicy, type Entry } from "../../src/crdt/index.js";

export function podId(n: number): string {
  return n.toString(16).padStart(2, "0").repeat(16);
}

export function version(tag: string | number): string {
  let h = 0x811c9dc5;
  for (const ch of String(tag)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return (h.toString(16).padStart(8, "0") + String(tag).padEnd(8, "_").slice(0, 8).replace(/[^0-9a-f]/g, "a")).repeat(4);
}

export class Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  readonly now = (): number => this.ms;
  tick(ms = 1000): void {
    this.ms += ms;
  }
}

export function makePod(n: number, clock: Clock, policy: ConflictPolicy | ((path: string) => ConflictPolicy) = "overwrite", shardCount = 4): Namespace {
  return new Namespace({ podId: podId(n), now: clock.now, shardCount, policyFor: typeof policy === "function" ? policy : () => policy });
}

/** One-way sync: `to` receives everything `from` has that it lacks. */
export function push(from: Namespace, to: Namespace): void {
  for (const [name, doc] of from.docs) {
    const target = to.docs.get(name)!;
    Y.applyUpdateV2(target, Y.encodeStateAsUpdateV2(doc, Y.encodeStateVector(target)));
  }
}

export function syncAll(pods: readonly Namespace[]): void {
  for (const a of pods) for (const b of pods) if (a !== b) push(a, b);
  for (const a of pods) for (const b of pods) if (a !== b) push(a, b);
}

/** The whole visible tree, depth first, as comparable plain data. */
export function dumpTree(ns: Namespace | { readdir(p: string): Entry[] }, dir = "/", out: Entry[] = []): Entry[] {
  for (const e of ns.readdir(dir)) {
    out.push(e);
    if (e.kind === "dir") dumpTree(ns, e.path, out);
  }
  return out;
}

export function assertSameView(pods: readonly Namespace[]): void {
  const first = { tree: dumpTree(pods[0]), conflicts: pods[0].conflicts() };
  for (const p of pods.slice(1)) assert.deepEqual({ tree: dumpTree(p), conflicts: p.conflicts() }, first, `pod ${p.podId} differs from pod ${pods[0].podId}`);
}
