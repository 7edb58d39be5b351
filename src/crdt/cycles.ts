// Breaking the directory cycles that concurrent moves can form (pod A: mv /a /b/a while
// pod B: mv /b /a/b). Pure: the same raw locations give the same answer whatever the
// order in which they arrived, so the incremental view and a from-scratch build agree.
import { compareStamps } from "./hlc.js";
import type { LocGroup } from "./slots.js";
import { LOST_FOUND_INODE, ROOT_INODE, type InodeId } from "./types.js";

export interface CycleGraph {
  /** The newest raw location of a directory; undefined for the root, unknown ids and non-directories. */
  dirLoc(id: InodeId): LocGroup | undefined;
}

/** Where a directory is shown instead of its raw location, and the cycle that forced it. */
export interface Override {
  par: InodeId;
  nm: string;
  cycle: InodeId[];
}

/**
 * Rule (DESIGN.md): in each cycle the member with the newest move falls back to where it
 * came from (`prev`); if that still closes a cycle, it goes to /lost+found (named by its
 * inode id, which is unique). `start` must contain every directory whose location changed
 * and every directory that had an override before: any cycle contains one of them.
 */
export function breakCycles(start: Iterable<InodeId>, g: CycleGraph): Map<InodeId, Override> {
  const overrides = new Map<InodeId, Override>();
  const settled = new Set<InodeId>();
  for (const s of start) {
    const cycle = findCycle(s, (id) => g.dirLoc(id)?.par, settled);
    if (cycle === undefined) continue;
    const newest = newestMember(cycle, g);
    const loc = g.dirLoc(newest)!;
    const back = loc.pp !== undefined && loc.pn !== undefined && (loc.pp === ROOT_INODE || g.dirLoc(loc.pp) !== undefined);
    overrides.set(newest, back ? { par: loc.pp!, nm: loc.pn!, cycle } : lostAndFound(newest, cycle));
  }
  // A fallback may lead into another cycle; each such cycle sends its newest overridden
  // member to /lost+found, which hangs off the root and so can close no further cycle.
  const effectiveParent = (id: InodeId) => overrides.get(id)?.par ?? g.dirLoc(id)?.par;
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of [...overrides.keys()].sort()) {
      const cycle = findCycle(id, effectiveParent, new Set());
      if (cycle === undefined) continue;
      const movable = cycle.filter((m) => overrides.has(m) && overrides.get(m)!.par !== LOST_FOUND_INODE);
      const victim = newestMember(movable.length ? movable : cycle, g);
      overrides.set(victim, lostAndFound(victim, overrides.get(victim)?.cycle ?? cycle));
      changed = true;
    }
  }
  return overrides;
}

function lostAndFound(id: InodeId, cycle: InodeId[]): Override {
  return { par: LOST_FOUND_INODE, nm: id, cycle };
}

function newestMember(members: InodeId[], g: CycleGraph): InodeId {
  let best = members[0];
  for (const m of members) if (compareStamps(g.dirLoc(m)!, g.dirLoc(best)!) > 0) best = m;
  return best;
}

/** Follows parents from `start`; returns the cycle it runs into (sorted), if any. */
function findCycle(start: InodeId, parent: (id: InodeId) => InodeId | undefined, settled: Set<InodeId>): InodeId[] | undefined {
  const path: InodeId[] = [];
  const onPath = new Map<InodeId, number>();
  let found: InodeId[] | undefined;
  for (let cur: InodeId | undefined = start; cur !== undefined && cur !== ROOT_INODE && !settled.has(cur); cur = parent(cur)) {
    const at = onPath.get(cur);
    if (at !== undefined) {
      found = path.slice(at).sort();
      break;
    }
    onPath.set(cur, path.length);
    path.push(cur);
  }
  for (const p of path) settled.add(p);
  return found;
}
