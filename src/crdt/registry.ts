// A small replicated key/value map (cluster membership, replicated config) in its own Yjs
// doc. Same rule as inodes: a pod only sets its own `<key>@<pod>` slot, so concurrent sets
// never silently drop one by Yjs client id; the newest slot by HLC is the value.
import * as Y from "yjs";
import { compareStamps, Hlc, type Stamp } from "./hlc.js";
import type { PodId } from "./types.js";

export type RegistryValue = string | number | boolean | null | RegistryValue[] | { [k: string]: RegistryValue };

interface RegistrySlot extends Stamp {
  /** Absent when the key was deleted. */
  v?: RegistryValue;
}

export const REGISTRY_DOC = "registry";
const POD_SUFFIX = 1 + 32;

export class Registry {
  private readonly map: Y.Map<unknown>;
  private readonly listeners = new Set<(keys: ReadonlySet<string>) => void>();

  constructor(
    readonly doc: Y.Doc,
    private readonly podId: PodId,
    private readonly hlc: Hlc,
  ) {
    this.map = doc.getMap("kv");
    this.map.observe((event) => {
      const keys = new Set<string>();
      for (const k of event.keysChanged) {
        if (k.length <= POD_SUFFIX || k[k.length - POD_SUFFIX] !== "@") continue;
        const slot = this.map.get(k);
        if (isRegistrySlot(slot)) this.hlc.receive(slot.t);
        keys.add(k.slice(0, -POD_SUFFIX));
      }
      if (keys.size > 0) for (const l of this.listeners) l(keys);
    });
  }

  get(key: string): RegistryValue | undefined {
    return this.newest(key)?.v;
  }

  set(key: string, value: RegistryValue): void {
    this.write(key, { v: value, ...this.hlc.now() });
  }

  delete(key: string): void {
    if (this.newest(key)?.v !== undefined) this.write(key, { ...this.hlc.now() });
  }

  /** Live keys starting with `prefix`, sorted, with their values. */
  entries(prefix = ""): [string, RegistryValue][] {
    const keys = new Set<string>();
    for (const k of this.map.keys()) if (k.startsWith(prefix) && k.length > POD_SUFFIX) keys.add(k.slice(0, -POD_SUFFIX));
    const out: [string, RegistryValue][] = [];
    for (const k of [...keys].sort()) {
      const v = this.get(k);
      if (v !== undefined) out.push([k, v]);
    }
    return out;
  }

  /** Called with the keys whose slots changed (local or remote), once per Yjs transaction. */
  onChange(listener: (keys: ReadonlySet<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private slotsOf(key: string): [string, RegistrySlot][] {
    const out: [string, RegistrySlot][] = [];
    for (const [k, v] of this.map.entries()) {
      if (k.length === key.length + POD_SUFFIX && k.startsWith(key) && k[key.length] === "@" && isRegistrySlot(v)) out.push([k, v]);
    }
    return out;
  }

  private newest(key: string): RegistrySlot | undefined {
    let best: RegistrySlot | undefined;
    for (const [, s] of this.slotsOf(key)) if (best === undefined || compareStamps(s, best) > 0) best = s;
    return best;
  }

  /** Own slot takes the value; every slot seen is superseded by it and removed. */
  private write(key: string, slot: RegistrySlot): void {
    const own = `${key}@${this.podId}`;
    this.doc.transact(() => {
      for (const [k] of this.slotsOf(key)) if (k !== own) this.map.delete(k);
      this.map.set(own, slot);
    });
  }
}

function isRegistrySlot(v: unknown): v is RegistrySlot {
  return typeof v === "object" && v !== null && Number.isSafeInteger((v as RegistrySlot).t) && typeof (v as RegistrySlot).p === "string";
}
