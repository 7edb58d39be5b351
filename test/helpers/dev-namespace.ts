// TEMPORARY in-memory namespace used only until src/crdt lands in main.
import { randomBytes } from "node:crypto";
import type { Attr, Entry, NamespacePort } from "../../src/pod/file-service.js";

const EMPTY = "";
function err(code: string, m: string) {
  return Object.assign(new Error(m), { code });
}
interface Node { entry: Entry; children?: Map<string, Node> }

export class DevNamespace implements NamespacePort {
  private root: Node = { entry: mk("/", "", "dir", { mode: 0o755, uid: 0, gid: 0, mtimeMs: Date.now(), ctimeMs: Date.now() }), children: new Map() };
  private find(path: string): Node | undefined {
    let n: Node | undefined = this.root;
    for (const p of path.split("/").filter(Boolean)) {
      if (!n?.children) return undefined;
      n = n.children.get(p);
    }
    return n;
  }
  private parent(path: string): [Node, string] {
    const parts = path.split("/").filter(Boolean);
    const name = parts.pop()!;
    const p = this.find("/" + parts.join("/"));
    if (!p) throw err("ENOENT", path);
    if (!p.children) throw err("ENOTDIR", path);
    return [p, name];
  }
  lookup(path: string) { return this.find(path)?.entry; }
  readdir(path: string) {
    const n = this.find(path);
    if (!n) throw err("ENOENT", path);
    if (!n.children) throw err("ENOTDIR", path);
    return [...n.children.values()].map((c) => c.entry);
  }
  private add(path: string, kind: Entry["kind"], attr: Partial<Attr>, extra: Partial<Entry> = {}) {
    const [p, name] = this.parent(path);
    if (p.children!.has(name)) throw err("EEXIST", path);
    const e = { ...mk(path, name, kind, full(attr)), ...extra };
    p.children!.set(name, { entry: e, children: kind === "dir" ? new Map() : undefined });
  }
  mkdir(path: string, attr: Partial<Attr>) { this.add(path, "dir", attr); }
  createFile(path: string, attr: Partial<Attr>) { this.add(path, "file", attr); }
  symlink(path: string, target: string, attr: Partial<Attr>) { this.add(path, "symlink", attr, { symlinkTarget: target }); }
  write(path: string, version: string, size: number, attr?: Partial<Attr>) {
    const n = this.find(path);
    if (!n) throw err("ENOENT", path);
    n.entry = { ...n.entry, version, size, attr: { ...n.entry.attr, ...attr } };
  }
  rename(from: string, to: string) {
    const [fp, fname] = this.parent(from);
    const node = fp.children!.get(fname);
    if (!node) throw err("ENOENT", from);
    const [tp, tname] = this.parent(to);
    const target = tp.children!.get(tname);
    if (target?.children && target.children.size > 0) throw err("ENOTEMPTY", to);
    if (target && !!target.children !== !!node.children) throw err(target.children ? "EISDIR" : "ENOTDIR", to);
    fp.children!.delete(fname);
    tp.children!.set(tname, node);
    const fix = (n: Node, path: string, name: string) => {
      n.entry = { ...n.entry, path, name };
      for (const [k, c] of n.children ?? []) fix(c, path + "/" + k, k);
    };
    fix(node, to, tname);
  }
  unlink(path: string) {
    const [p, name] = this.parent(path);
    const n = p.children!.get(name);
    if (!n) throw err("ENOENT", path);
    if (n.children) throw err("EISDIR", path);
    p.children!.delete(name);
  }
  rmdir(path: string) {
    const [p, name] = this.parent(path);
    const n = p.children!.get(name);
    if (!n) throw err("ENOENT", path);
    if (!n.children) throw err("ENOTDIR", path);
    if (n.children.size) throw err("ENOTEMPTY", path);
    p.children!.delete(name);
  }
  setattr(path: string, attr: Partial<Attr>) {
    const n = this.find(path);
    if (!n) throw err("ENOENT", path);
    n.entry = { ...n.entry, attr: { ...n.entry.attr, ...attr } };
  }
}
function full(a: Partial<Attr>): Attr {
  return { mode: 0o644, uid: 0, gid: 0, mtimeMs: Date.now(), ctimeMs: Date.now(), ...a };
}
function mk(path: string, name: string, kind: Entry["kind"], attr: Attr): Entry {
  return { inode: randomBytes(16).toString("hex"), name, path, kind, size: 0, version: EMPTY, attr };
}
