// The kernel's node ids and the paths they stand for, kept as libfuse 2's high-level layer
// kept them (fuse.c), now that the binding speaks the low-level protocol. A node is a name
// in a directory node; the kernel holds it from the entry reply that told it the id until
// it forgets it as often as it was told. Node ids are never reused, so the generation is 0.
// Another pod's renames do not move nodes: the kernel asks by node id, the node still has
// the old path, the path is gone, and the answer is ESTALE, after which the kernel looks
// the names up again (kernel-cache.ts). Renames and unlinks made through this mount move or
// drop names at once, as the kernel does with its dentries.
import { FsError } from "./errno.js";

export const ROOT_ID = 1;
/** The name a file unlinked while open lives on under, as libfuse named it (MountOperations.hide). */
const HIDDEN_PREFIX = ".fuse_hidden";

export interface Node {
  readonly id: number;
  parent: Node | undefined;
  name: string;
  /** How often the kernel was told this id and has not forgotten it. */
  lookups: number;
  /** Open handles (files and directories). */
  opens: number;
  /** Renamed to a hidden name by an unlink while open: unlinked at the last release. */
  hidden: boolean;
  /** The S_IFMT the kernel was last told (0 before any). */
  kind: number;
  /**
   * libfuse's auto_cache: the size and mtime the kernel last saw, and whether its page cache
   * still holds the content they describe (keep_cache at the next open).
   */
  cacheValid: boolean;
  size: number;
  mtimeMs: number;
}

export class NodeTable {
  private readonly byId = new Map<number, Node>();
  private readonly byName = new Map<string, Node>();
  private nextId = ROOT_ID + 1;
  private hiddenCount = 0;

  constructor() {
    this.byId.set(ROOT_ID, newNode(ROOT_ID, undefined, ""));
  }

  /** The node the kernel named (a node id it holds is always here). */
  get(id: number): Node {
    const node = this.byId.get(id);
    if (!node) throw new FsError("ESTALE", `node ${id} is not known (forgotten)`);
    return node;
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  path(node: Node): string {
    if (node.id === ROOT_ID) return "/";
    if (!node.parent) throw new FsError("ESTALE", `node ${node.id} (${node.name}) was removed`);
    const parent = this.path(node.parent);
    return parent === "/" ? `/${node.name}` : `${parent}/${node.name}`;
  }

  childPath(parent: Node, name: string): string {
    const dir = this.path(parent);
    return dir === "/" ? `/${name}` : `${dir}/${name}`;
  }

  child(parent: Node, name: string): Node | undefined {
    return this.byName.get(key(parent.id, name));
  }

  /** The node for `name` in `parent`, made if new; counts one more lookup (an entry reply). */
  remember(parent: Node, name: string): Node {
    let node = this.byName.get(key(parent.id, name));
    if (!node) {
      node = newNode(this.nextId++, parent, name);
      this.byId.set(node.id, node);
      this.byName.set(key(parent.id, name), node);
    }
    node.lookups++;
    return node;
  }

  /** The kernel forgot `count` of its lookups of node `id`. */
  forget(id: number, count: number): void {
    const node = this.byId.get(id);
    if (!node || id === ROOT_ID) return;
    node.lookups -= count;
    if (node.lookups > 0 || node.opens > 0) return;
    this.byId.delete(id);
    if (node.parent && this.byName.get(key(node.parent.id, node.name)) === node) this.byName.delete(key(node.parent.id, node.name));
  }

  /** `name` in `parent` is gone (unlink, rmdir, or replaced by a rename). */
  drop(parent: Node, name: string): void {
    const node = this.byName.get(key(parent.id, name));
    if (!node) return;
    this.byName.delete(key(parent.id, name));
    node.parent = undefined;
    this.release(node, 0);
  }

  move(from: Node, fromName: string, to: Node, toName: string): void {
    const node = this.byName.get(key(from.id, fromName));
    if (node && node === this.byName.get(key(to.id, toName))) return; // renamed onto itself
    this.drop(to, toName);
    if (!node) return;
    this.byName.delete(key(from.id, fromName));
    node.parent = to;
    node.name = toName;
    this.byName.set(key(to.id, toName), node);
  }

  /** A hidden name for `node` in its directory (libfuse's `.fuse_hidden<id><n>`). */
  hiddenName(node: Node): string {
    const parent = node.parent!;
    for (;;) {
      const name = `${HIDDEN_PREFIX}${node.id.toString(16).padStart(8, "0")}${(this.hiddenCount++ & 0xffffffff).toString(16).padStart(8, "0")}`;
      if (!this.byName.has(key(parent.id, name))) return name;
    }
  }

  /** One open handle of `node` fewer; drops the node if the kernel forgot it meanwhile. */
  release(node: Node, closing = 1): void {
    node.opens -= closing;
    if (node.lookups <= 0 && node.opens <= 0 && node.id !== ROOT_ID) this.byId.delete(node.id);
  }
}

function key(parent: number, name: string): string {
  return `${parent}/${name}`;
}

function newNode(id: number, parent: Node | undefined, name: string): Node {
  return { id, parent, name, lookups: 0, opens: 0, hidden: false, kind: 0, cacheValid: false, size: 0, mtimeMs: 0 };
}
