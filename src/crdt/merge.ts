// How a pod writes an inode: its own slot becomes the merge of every slot it sees, and the
// slots that write supersedes are removed. Pure: the caller applies the plan to Yjs.
import type { Stamp } from "./hlc.js";
import { headKey, type AttrGroup, type HeadGroup, type LocGroup, type Slot, type SlotKind, type StoredSlot } from "./slots.js";
import type { Attr, PodId } from "./types.js";

export const DEFAULT_MODE = { f: 0o644, d: 0o755, l: 0o777 } as const;

/** What an operation changes; the groups it leaves out are carried over, newest first. */
export interface Change {
  loc?: Pick<LocGroup, "par" | "nm" | "pp" | "pn">;
  head?: Pick<HeadGroup, "v" | "sz">;
  attr?: Partial<Attr>;
  /** Drop this head (a conflict side) and keep every other live head. */
  discard?: string;
}

/** The resolved state of the inode being written (undefined for a new inode). */
export interface WriteBase {
  kind: SlotKind;
  target?: string;
  loc?: LocGroup;
  attr?: AttrGroup;
  heads: HeadGroup[];
  slots: readonly StoredSlot[];
}

/**
 * Every group is merged (newest wins) and the changed ones restamped. A content write's
 * base is every live head, so it supersedes every other slot. Otherwise slots holding a
 * live head this write does not replace stay, so a concurrent head is never dropped.
 */
export function planWrite(st: WriteBase | undefined, change: Change, pod: PodId, stamp: Stamp, newKind?: SlotKind, target?: string): { slot: Slot; superseded: PodId[] } {
  const slots = st?.slots ?? [];
  const kind = newKind ?? st!.kind;
  const loc: LocGroup = change.loc ? { ...stripUndefined(change.loc), ...stamp } : (st?.loc ?? { par: "", nm: "", ...stamp });
  const oldAttr = st?.attr;
  const at: AttrGroup = change.attr
    ? {
        m: change.attr.mode ?? oldAttr?.m ?? DEFAULT_MODE[kind],
        u: change.attr.uid ?? oldAttr?.u ?? 0,
        g: change.attr.gid ?? oldAttr?.g ?? 0,
        mt: change.attr.mtimeMs ?? oldAttr?.mt ?? 0,
        ct: change.attr.ctimeMs ?? oldAttr?.ct ?? 0,
        ...stamp,
      }
    : (oldAttr ?? { m: DEFAULT_MODE[kind], u: 0, g: 0, mt: 0, ct: 0, ...stamp });
  const keepOthers = new Set<PodId>();
  let head: HeadGroup;
  const heads = st?.heads ?? [];
  if (change.head !== undefined || heads.length === 0) {
    // A new inode without content (the root's first setattr) gets a live "" head.
    const content = change.head ?? { v: "", sz: 0 };
    head = { v: content.v, sz: content.sz, b: heads.map(headKey), ...stamp };
  } else {
    const wanted = new Set(heads.map(headKey));
    if (change.discard !== undefined && wanted.size > 1) wanted.delete(change.discard);
    const own = slots.find((s) => s.w === pod)?.head;
    head = own !== undefined && wanted.has(headKey(own)) ? own : heads.find((h) => wanted.has(headKey(h)))!;
    const covered = new Set([headKey(head)]);
    for (const other of slots) {
      const k = headKey(other.head);
      if (other.w !== pod && wanted.has(k) && !covered.has(k)) {
        keepOthers.add(other.w);
        covered.add(k);
      }
    }
  }
  const symlinkTarget = target ?? st?.target;
  const slot: Slot = symlinkTarget !== undefined ? { k: kind, s: symlinkTarget, loc, head, at } : { k: kind, loc, head, at };
  const superseded = slots.filter((s) => s.w !== pod && !keepOthers.has(s.w)).map((s) => s.w);
  return { slot, superseded };
}

function stripUndefined<T extends object>(o: T): T {
  const out = { ...o };
  for (const k of Object.keys(out) as (keyof T)[]) if (out[k] === undefined) delete out[k];
  return out;
}
