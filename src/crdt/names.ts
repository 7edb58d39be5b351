// What the file system shows under one name in one directory: the pure policy rules of
// DESIGN.md "The resolved view" (content conflicts, name collisions, directory merges).
import { compareStamps, stampTimeMs, type Stamp } from "./hlc.js";
import { shownHead, type HeadGroup, type LocGroup, type SlotKind } from "./slots.js";
import type { ConflictPolicy, InodeId } from "./types.js";

/** The resolved state of one inode, as the view keeps it. */
export interface InodeState {
  readonly id: InodeId;
  kind: SlotKind;
  target?: string;
  /** Newest location by HLC (before cycle breaking). */
  loc?: LocGroup;
  /** Live heads, newest first. */
  heads: HeadGroup[];
  /** Has a head that is not a delete. */
  alive: boolean;
}

/** One file-like thing shown under a name: an inode and which of its heads. */
export interface Side {
  state: InodeState;
  head: HeadGroup;
}

export interface Copy {
  name: string;
  side: Side;
  reason: "content" | "name";
}

export interface NameResolution {
  /** Directories merge: every directory that has this name, representative (smallest id) first. */
  dirs?: InodeState[];
  /** Otherwise the file, symlink or conflict winner shown under the name. */
  side?: Side;
  /** Keep-both copies shown beside it. */
  copies: Copy[];
  /** Set when several inodes want the name and at least one is not a directory. */
  rivals?: Side[];
}

/** `report.conflict-0a1b2c3d-20260101-120000.pdf`: readable, sortable, marks the writer. */
export function copyName(name: string, pod: string, timeMs: number): string {
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : "";
  const d = new Date(timeMs);
  const p2 = (n: number) => String(n).padStart(2, "0");
  const ts = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}-${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`;
  return `${stem}.conflict-${pod.slice(0, 8)}-${ts}${ext}`;
}

const COPY_NAME = /^(.*)\.conflict-[0-9a-f]{8}-\d{8}-\d{6}(?:-\d+)?(\.[^.]*)?$/;
/** The name a conflict copy stands beside, or undefined if `name` is not a copy name. */
export function copyOriginal(name: string): string | undefined {
  const m = COPY_NAME.exec(name);
  return m ? m[1] + (m[2] ?? "") : undefined;
}

/** A file's claim to a name dates from its newest move or write. */
function claimStamp(s: InodeState): Stamp {
  const h = shownHead(s.heads);
  if (s.loc === undefined) return h!;
  return h !== undefined && compareStamps(h, s.loc) > 0 ? h : s.loc;
}

function newestFirst(a: InodeState, b: InodeState): number {
  return compareStamps(claimStamp(b), claimStamp(a)) || (a.id < b.id ? -1 : 1);
}

function sideOf(s: InodeState): Side {
  return { state: s, head: shownHead(s.heads) ?? s.heads[0] };
}

/**
 * @param candidates the present inodes that have `name` in the directory (in any order)
 * @param policy     called only when there is a conflict (policies are per path)
 */
export function resolveName(name: string, candidates: readonly InodeState[], policy: () => ConflictPolicy): NameResolution {
  if (candidates.length === 1) {
    const only = candidates[0];
    if (only.kind === "d") return { dirs: [only], copies: [] };
    if (only.heads.length === 1) return { side: sideOf(only), copies: [] };
  }
  const dirs = candidates.filter((c) => c.kind === "d").sort((a, b) => (a.id < b.id ? -1 : 1));
  const files = candidates.filter((c) => c.kind !== "d").sort(newestFirst);
  const out: NameResolution = { copies: [] };
  let losers: InodeState[];
  if (dirs.length > 0) {
    out.dirs = dirs;
    losers = files;
  } else {
    out.side = sideOf(files[0]);
    losers = files.slice(1);
  }
  if (losers.length > 0) out.rivals = [...(out.side ? [out.side] : dirs.map(dirSide)), ...losers.map(sideOf)];
  if (policy() === "keep-both") {
    for (const l of losers) {
      const side = sideOf(l);
      out.copies.push({ name: copyName(name, side.head.p, stampTimeMs(side.head.t)), side, reason: "name" });
    }
    if (out.side) {
      for (const h of out.side.state.heads) {
        if (h === out.side.head || h.v === null) continue;
        out.copies.push({ name: copyName(name, h.p, stampTimeMs(h.t)), side: { state: out.side.state, head: h }, reason: "content" });
      }
    }
    uniquifyCopyNames(out.copies);
  }
  return out;
}

/** A directory as a side of a name conflict: its location is its claim. */
function dirSide(d: InodeState): Side {
  return { state: d, head: d.heads[0] };
}

/** Two copies from one pod in one second get -2, -3… in a deterministic order. */
function uniquifyCopyNames(copies: Copy[]): void {
  const byName = new Map<string, Copy[]>();
  for (const c of copies) {
    const same = byName.get(c.name);
    if (same) same.push(c);
    else byName.set(c.name, [c]);
  }
  for (const same of byName.values()) {
    if (same.length < 2) continue;
    same.sort((a, b) => compareStamps(a.side.head, b.side.head) || (a.side.state.id < b.side.state.id ? -1 : 1));
    for (let i = 1; i < same.length; i++) {
      const end = COPY_TAG.exec(same[i].name)!;
      const at = end.index + end[0].length;
      same[i].name = `${same[i].name.slice(0, at)}-${i + 1}${same[i].name.slice(at)}`;
    }
  }
}
const COPY_TAG = /\.conflict-[0-9a-f]{8}-\d{8}-\d{6}/;
