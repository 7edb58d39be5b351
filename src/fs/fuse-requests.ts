// The kernel's requests, by node id, turned into MountOperations calls by path, and their
// answers into replies. What libfuse 2's high-level layer did is here:
// node ids (node-table.ts), hiding a file unlinked while open, directory listings served by
// offset, auto_cache; and the kernel cache's rules (kernel-cache.ts). Errors without a POSIX
// code are bugs or I/O failures: they become EIO with a log line naming the request.
import { constants } from "node:fs";
import { constants as osConstants } from "node:os";
import type { Logger } from "../pod/log.js";
import { EIO, FsError, knownErrno } from "./errno.js";
import { Arg, type FuseBinding, OPEN_DIRECT_IO, OPEN_KEEP_CACHE, Op, type Request, SetAttr, St, type StatLike } from "./fuse-binding.js";
import type { KernelCache } from "./kernel-cache.js";
import { type Node, NodeTable } from "./node-table.js";
import type { MountOperations } from "./operations.js";

const S_IFMT = constants.S_IFMT;
/**
 * A request not answered by then fails with ETIMEDOUT, so a stuck operation cannot hang the
 * application that made the call; its late answer is dropped. Commits (flush, fsync,
 * release, truncate) may take longer for a large file and are never cut off.
 */
export const REQUEST_TIMEOUT_MS = 60_000;
const WATCHDOG_EVERY_MS = 1000;
const NO_ID = 0xffffffff; // chown's "leave unchanged"
const ETIMEDOUT = osConstants.errno.ETIMEDOUT;
/** What a reply that is never sent leaves to undo, for most replies (one function, not one per reply). */
const NOTHING_TO_UNDO = (): void => {};

/** A request as this layer follows it until its answer. */
interface Ticket {
  readonly req: Request;
  readonly since: number;
  readonly expires: boolean;
}

interface DirHandle {
  node: Node;
  names?: string[];
  types?: number[];
}

export class FuseRequests {
  private readonly nodes = new NodeTable();
  /** Shared with the binding: the request's caller and setattr's values; a reply's attributes. */
  readonly args = new Float64Array(Arg.COUNT);
  readonly stat = new Float64Array(St.COUNT);
  private readonly dirs = new Map<number, DirHandle>();
  private nextDir = 1;
  /** File handles opened write-only: they write past the page cache (see `openFlags`). */
  private readonly directWrites = new Set<number>();
  private closed = false;
  /** Requests not answered yet, in the order they came, with when they came and whether they may time out. */
  private readonly pending = new Map<Request, Ticket>();
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    private readonly fuse: FuseBinding,
    private readonly ops: MountOperations,
    private readonly cache: KernelCache,
    private readonly log: Logger,
    private readonly autoCache: boolean,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    this.watchdog = setInterval(() => this.expire(), Math.min(WATCHDOG_EVERY_MS, timeoutMs / 4)).unref();
  }

  /** No reply is sent after this (the session is gone). */
  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
  }

  readonly handle = (op: number, req: Request, nodeId: number, a: unknown, b: unknown, c: unknown): void => {
    const epoch = this.cache.arrived(nodeId);
    const t: Ticket = { req, since: performance.now(), expires: mayExpire(op, a) };
    if (op !== Op.FORGET) this.pending.set(req, t);
    try {
      const done = this.dispatch(op, t, nodeId, epoch, a, b, c);
      if (done instanceof Promise) done.catch((err) => this.fail(op, t, nodeId, epoch, err, a));
    } catch (err) {
      this.fail(op, t, nodeId, epoch, err, a);
    }
  };

  private dispatch(op: number, t: Ticket, nodeId: number, epoch: number, a: unknown, b: unknown, c: unknown): void | Promise<void> {
    const nodes = this.nodes;
    switch (op) {
      case Op.LOOKUP:
        return this.lookup(t, nodes.get(nodeId), a as string, epoch);
      case Op.FORGET:
        nodes.forget(nodeId, a as number);
        if (!nodes.has(nodeId)) this.cache.forgot(nodeId);
        return;
      case Op.GETATTR:
        return this.getattr(t, nodes.get(nodeId), epoch);
      case Op.SETATTR:
        return this.setattr(t, nodes.get(nodeId), a as number, b as number, epoch);
      case Op.READLINK: {
        const target = this.ops.readlink(nodes.path(nodes.get(nodeId)));
        return this.reply(t, epoch, () => this.fuse.replyReadlink(t.req, target));
      }
      case Op.MKDIR: {
        const parent = nodes.get(nodeId);
        const path = nodes.childPath(parent, a as string);
        return this.ops.mkdir(path, b as number, this.caller()).then(() => this.newEntry(t, parent, a as string, epoch));
      }
      case Op.SYMLINK: {
        const parent = nodes.get(nodeId);
        const path = nodes.childPath(parent, a as string);
        return this.ops.symlink(b as string, path, this.caller()).then(() => this.newEntry(t, parent, a as string, epoch));
      }
      case Op.UNLINK:
        return this.unlink(t, nodes.get(nodeId), a as string, epoch);
      case Op.RMDIR: {
        const parent = nodes.get(nodeId);
        return this.ops.rmdir(nodes.childPath(parent, a as string)).then(() => {
          nodes.drop(parent, a as string);
          this.ok(t, epoch);
        });
      }
      case Op.RENAME:
        return this.rename(t, nodes.get(nodeId), a as string, nodes.get(b as number), c as string, epoch);
      case Op.LINK:
        throw new FsError("EPERM", "hard links are not supported");
      case Op.OPEN:
        return this.open(t, nodes.get(nodeId), a as number, epoch);
      case Op.READ: {
        const buffer = Buffer.allocUnsafe(b as number);
        return this.ops.read(a as number, buffer, b as number, c as number).then((n) => this.reply(t, epoch, () => this.fuse.replyData(t.req, buffer, n)));
      }
      case Op.WRITE: {
        // A view of the binding's receive buffer, valid during this call only (see MountOperations.write).
        const view = b as Uint8Array;
        const data = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
        const fh = a as number;
        return this.ops.write(fh, data, data.length, c as number).then((n) => {
          if (this.directWrites.has(fh)) this.wrotePastPageCache(nodes.get(nodeId), c as number);
          this.reply(t, epoch, () => this.fuse.replyWrite(t.req, n));
        });
      }
      case Op.FLUSH:
        return this.ops.flush(nodes.path(nodes.get(nodeId)), a as number).then(() => this.ok(t, epoch));
      case Op.RELEASE:
        return this.release(t, nodes.get(nodeId), a as number, epoch);
      case Op.FSYNC:
        return this.ops.fsync(nodes.path(nodes.get(nodeId)), a as number).then(() => this.ok(t, epoch));
      case Op.OPENDIR: {
        const node = nodes.get(nodeId);
        const fh = this.nextDir++;
        this.dirs.set(fh, { node });
        node.opens++;
        const dropped = () => {
          this.dirs.delete(fh);
          nodes.release(node);
        };
        return this.reply(t, epoch, () => this.fuse.replyOpen(t.req, fh, 0), dropped);
      }
      case Op.READDIR:
        return this.readdir(t, a as number, b as number, c as number, epoch);
      case Op.RELEASEDIR: {
        const dir = this.dirs.get(a as number);
        this.dirs.delete(a as number);
        if (dir) nodes.release(dir.node);
        return this.ok(t, epoch);
      }
      case Op.FSYNCDIR:
        return this.ops.fsyncdir().then(() => this.ok(t, epoch));
      case Op.STATFS:
        return this.ops.statfs().then((s) => {
          const values = Float64Array.of(s.bsize, s.frsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.favail, s.fsid, s.flag, s.namemax);
          this.reply(t, epoch, () => this.fuse.replyStatfs(t.req, values));
        });
      case Op.ACCESS:
        this.ops.access(nodes.path(nodes.get(nodeId)), a as number);
        return this.ok(t, epoch);
      case Op.CREATE:
        return this.create(t, nodes.get(nodeId), a as string, b as number, c as number, epoch);
      default:
        throw new FsError("ENOSYS", `request ${op} is not implemented`);
    }
  }

  // ---- names ------------------------------------------------------------------------------

  /** A miss is an ordinary answer (the kernel looks up every name before creating it). */
  private lookup(t: Ticket, parent: Node, name: string, epoch: number): void | Promise<void> {
    const path = this.nodes.childPath(parent, name);
    return then(this.ops.getattr(path), (stat) => {
      if (!stat) return this.reply(t, epoch, () => this.fuse.replyEntry(t.req, 0, 0, 0));
      this.sendEntry(t, this.nodes.remember(parent, name), stat, epoch);
    });
  }

  /** The entry a mkdir or symlink just made. */
  private newEntry(t: Ticket, parent: Node, name: string, epoch: number): void | Promise<void> {
    return then(this.ops.getattr(this.nodes.childPath(parent, name)), (stat) => {
      if (!stat) throw new FsError("ENOENT", `${name} vanished right after it was made`);
      this.sendEntry(t, this.nodes.remember(parent, name), stat, epoch);
    });
  }

  private async create(t: Ticket, parent: Node, name: string, mode: number, flags: number, epoch: number): Promise<void> {
    const path = this.nodes.childPath(parent, name);
    const { fd, stat } = await this.ops.create(path, mode, this.caller());
    const node = this.nodes.remember(parent, name);
    node.opens++;
    const openFlags = this.openFlags(fd, flags, false);
    this.replyWithStat(t, epoch, "create", node, stat, (entrySec, attrSec) => this.fuse.replyCreate(t.req, node.id, entrySec, attrSec, fd, openFlags), () => {
      this.nodes.forget(node.id, 1); // nor the entry
      this.abandon(node, path, fd);
    });
  }

  /** libfuse's way with a file unlinked while open: renamed to a hidden name, unlinked at its last close. */
  private async unlink(t: Ticket, parent: Node, name: string, epoch: number): Promise<void> {
    const node = this.nodes.child(parent, name);
    if (node && node.opens > 0 && !node.hidden) {
      await this.hide(node);
    } else {
      await this.ops.unlink(this.nodes.childPath(parent, name));
      this.nodes.drop(parent, name);
    }
    this.ok(t, epoch);
  }

  private async rename(t: Ticket, from: Node, name: string, to: Node, newName: string, epoch: number): Promise<void> {
    const target = this.nodes.child(to, newName);
    if (target && target.opens > 0 && !target.hidden) await this.hide(target);
    await this.ops.rename(this.nodes.childPath(from, name), this.nodes.childPath(to, newName));
    this.nodes.move(from, name, to, newName);
    this.ok(t, epoch);
  }

  private async hide(node: Node): Promise<void> {
    const parent = node.parent!;
    const hiddenName = this.nodes.hiddenName(node);
    await this.ops.hide(this.nodes.path(node), this.nodes.childPath(parent, hiddenName));
    this.nodes.move(parent, node.name, parent, hiddenName);
    node.hidden = true;
  }

  // ---- attributes ---------------------------------------------------------------------------

  private getattr(t: Ticket, node: Node, epoch: number): void | Promise<void> {
    return then(this.ops.getattr(this.nodes.path(node)), (stat) => {
      // The node's path is gone, or names something else now: ESTALE makes the kernel walk
      // the path again (kernel-cache.ts).
      if (!stat) throw new FsError("ESTALE", `${this.nodes.path(node)} is gone`);
      if (node.kind !== 0 && (stat.mode & S_IFMT) !== node.kind) throw new FsError("ESTALE", `${this.nodes.path(node)} changed type`);
      this.sendAttr(t, node, stat, epoch);
    });
  }

  /** chmod, chown, truncate and utimens in one request, in libfuse's order. */
  private async setattr(t: Ticket, node: Node, toSet: number, fh: number, epoch: number): Promise<void> {
    const path = this.nodes.path(node);
    const v = this.args;
    const [mode, uid, gid, size, atime, mtime] = [v[Arg.MODE]!, v[Arg.SET_UID]!, v[Arg.SET_GID]!, v[Arg.SIZE]!, v[Arg.ATIME]!, v[Arg.MTIME]!];
    if (toSet & SetAttr.MODE) await this.ops.chmod(path, mode);
    if (toSet & (SetAttr.UID | SetAttr.GID)) await this.ops.chown(path, toSet & SetAttr.UID ? uid : NO_ID, toSet & SetAttr.GID ? gid : NO_ID);
    if (toSet & SetAttr.SIZE) await (fh ? this.ops.ftruncate(fh, size) : this.ops.truncate(path, size));
    if (toSet & (SetAttr.ATIME | SetAttr.MTIME | SetAttr.ATIME_NOW | SetAttr.MTIME_NOW)) {
      const now = Date.now();
      const timeOf = (set: number, setNow: number, value: number) => (toSet & setNow ? now : toSet & set ? value : undefined);
      await this.ops.utimens(path, timeOf(SetAttr.ATIME, SetAttr.ATIME_NOW, atime), timeOf(SetAttr.MTIME, SetAttr.MTIME_NOW, mtime));
    }
    const stat = await this.ops.getattr(path);
    if (!stat) throw new FsError("ESTALE", `${path} is gone`);
    this.sendAttr(t, node, stat, epoch);
  }

  // ---- files and directories -------------------------------------------------------------------

  private async open(t: Ticket, node: Node, flags: number, epoch: number): Promise<void> {
    const path = this.nodes.path(node);
    // A name another pod removed: the kernel looks it up again (kernel-cache.ts).
    const stat = await this.ops.getattr(path);
    if (!stat) throw new FsError("ESTALE", `${path} is gone`);
    const fh = await this.ops.openFile(path, flags);
    node.opens++;
    // auto_cache: the page cache survives this open only if size and mtime are as the
    // kernel last saw them (CacheGuard makes every new version change one of them).
    this.saw(node, stat);
    const openFlags = this.openFlags(fh, flags, this.autoCache && node.cacheValid);
    node.cacheValid = true;
    this.reply(t, epoch, () => this.fuse.replyOpen(t.req, fh, openFlags), () => this.abandon(node, path, fh));
  }

  /** An open or create timed out (or the mount went away): the kernel never gets handle `fh`, so it never releases it. */
  private abandon(node: Node, path: string, fh: number): void {
    this.directWrites.delete(fh);
    const closed = () => this.nodes.release(node);
    this.ops.release(path, fh).then(closed, closed);
  }

  /**
   * A handle opened write-only bypasses the page cache (FOPEN_DIRECT_IO): the kernel then
   * hands the writer's pages to us without first copying them into cache pages that nobody
   * reads through this handle. That copy cost the writing process 2.2-2.5 s of CPU per GiB,
   * and 1 GiB written went from 219-240 to 493-500 MB/s without it (docs/performance.md,
   * session 12). Such a handle cannot read or be mapped, so nothing else changes for it;
   * pages other handles cached are dropped when it writes (`wrotePastPageCache`).
   */
  private openFlags(fh: number, flags: number, keepCache: boolean): number {
    const writeOnly = (flags & (constants.O_WRONLY | constants.O_RDWR)) === constants.O_WRONLY;
    if (writeOnly) this.directWrites.add(fh);
    return (writeOnly ? OPEN_DIRECT_IO : 0) | (keepCache ? OPEN_KEEP_CACHE : 0);
  }

  /**
   * Pages other handles cached of `node` no longer hold its content: the next open must not
   * keep them, and handles open now lose them before the write returns (its reply waits for
   * the sweep, kernel-cache.ts).
   */
  private wrotePastPageCache(node: Node, offset: number): void {
    node.cacheValid = false;
    // The pages from the write's offset on (rounded down to a page): for an append, just the last one.
    if (node.opens > 1) this.cache.contentChanged(node.id, offset);
  }

  private async release(t: Ticket, node: Node, fh: number, epoch: number): Promise<void> {
    this.directWrites.delete(fh);
    try {
      await this.ops.release(this.nodes.path(node), fh);
      if (node.hidden && node.opens === 1 && node.parent) {
        const name = node.name;
        await this.ops.unlink(this.nodes.path(node));
        this.nodes.drop(node.parent, name);
      }
    } finally {
      this.nodes.release(node);
    }
    this.ok(t, epoch);
  }

  /** The whole listing is read at offset 0 and served from the handle after (as libfuse did). */
  private async readdir(t: Ticket, fh: number, size: number, offset: number, epoch: number): Promise<void> {
    const dir = this.dirs.get(fh);
    if (!dir) throw new FsError("EBADF", `no open directory handle ${fh}`);
    if (offset === 0 || !dir.names) {
      const { names, stats } = await this.ops.readdir(this.nodes.path(dir.node));
      dir.names = names;
      dir.types = stats.map((s) => s.mode & S_IFMT);
    }
    const { names, types } = dir;
    this.reply(t, epoch, () => this.fuse.replyDirents(t.req, size, names, types!, offset));
  }

  // ---- replies ----------------------------------------------------------------------------

  private sendEntry(t: Ticket, node: Node, stat: StatLike, epoch: number): void {
    this.replyWithStat(t, epoch, "entry", node, stat, (entrySec, attrSec) => this.fuse.replyEntry(t.req, node.id, entrySec, attrSec));
  }

  private sendAttr(t: Ticket, node: Node, stat: StatLike, epoch: number): void {
    this.replyWithStat(t, epoch, "attr", node, stat, (_entrySec, attrSec) => this.fuse.replyAttr(t.req, node.id, attrSec));
  }

  /**
   * A reply that carries `stat` for `node`, with the timeouts the kernel cache allows; the
   * attributes go into the shared array just before the reply (a held reply is sent later).
   * `dropped` runs instead when the request may no longer be answered.
   */
  private replyWithStat(t: Ticket, epoch: number, kind: "attr" | "create" | "entry", node: Node, stat: StatLike, send: (entrySec: number, attrSec: number) => void, dropped = NOTHING_TO_UNDO): void {
    this.saw(node, stat);
    this.cache.reply(epoch, kind, node.id, (entrySec, attrSec) => {
      if (!this.answering(t)) return dropped();
      this.putStat(stat);
      send(entrySec, attrSec);
    });
  }

  private ok(t: Ticket, epoch: number): void {
    this.reply(t, epoch, () => this.fuse.replyErr(t.req, 0));
  }

  /** A reply without attributes; `dropped` runs instead when the request may no longer be answered. */
  private reply(t: Ticket, epoch: number, send: () => void, dropped = NOTHING_TO_UNDO): void {
    this.cache.reply(epoch, "none", 0, () => {
      if (this.answering(t)) send();
      else dropped();
    });
  }

  /**
   * Whether `t` may be answered now (once: it is then no longer pending). Checked by ticket,
   * not by request: after a timeout libfuse may give a new request the same address.
   */
  private answering(t: Ticket): boolean {
    if (this.pending.get(t.req) !== t) return false;
    this.pending.delete(t.req);
    return !this.closed;
  }

  /** Answers ETIMEDOUT to requests past their time (see REQUEST_TIMEOUT_MS). */
  private expire(): void {
    const now = performance.now();
    for (const [req, { since, expires }] of this.pending) {
      if (now - since < this.timeoutMs) break; // the rest came later
      if (!expires) continue;
      this.pending.delete(req);
      this.log.warn(`a file system request got no answer in ${this.timeoutMs / 1000} s: answered ETIMEDOUT`);
      this.fuse.replyErr(req, ETIMEDOUT);
    }
  }

  private fail(op: number, t: Ticket, nodeId: number, epoch: number, err: unknown, name: unknown): void {
    const errno = knownErrno(err);
    if (errno === EIO) this.log.error(`${opName(op)} ${this.describe(nodeId, name)}: ${(err as Error).message}`);
    else if (errno === undefined) this.log.error(`${opName(op)} ${this.describe(nodeId, name)} failed (reported as EIO): ${(err as Error)?.stack ?? String(err)}`);
    if (op === Op.FORGET) return; // the binding answers forgets itself
    this.reply(t, epoch, () => this.fuse.replyErr(t.req, -(errno ?? EIO)));
  }

  /** The path a request is about, for the log: its node's, and the name it names in it. */
  private describe(nodeId: number, name: unknown): string {
    if (!this.nodes.has(nodeId)) return `node ${nodeId}`;
    try {
      const node = this.nodes.get(nodeId);
      return typeof name === "string" ? this.nodes.childPath(node, name) : this.nodes.path(node);
    } catch {
      return `node ${nodeId}`; // removed meanwhile
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** What the kernel now knows of `node`: its type, and for auto_cache its size and mtime. */
  private saw(node: Node, stat: StatLike): void {
    node.kind = stat.mode & S_IFMT;
    if (node.size !== stat.size || node.mtimeMs !== stat.mtime) node.cacheValid = false;
    node.size = stat.size;
    node.mtimeMs = stat.mtime;
  }

  private putStat(s: StatLike): void {
    const v = this.stat;
    v[St.MODE] = s.mode;
    v[St.UID] = s.uid;
    v[St.GID] = s.gid;
    v[St.SIZE] = s.size;
    v[St.ATIME] = s.atime;
    v[St.MTIME] = s.mtime;
    v[St.CTIME] = s.ctime;
    v[St.NLINK] = s.nlink ?? 1;
    v[St.BLOCKS] = s.blocks ?? 0;
    v[St.BLKSIZE] = s.blksize ?? 4096;
  }

  private caller(): { uid: number; gid: number } {
    return { uid: this.args[Arg.UID]!, gid: this.args[Arg.GID]! };
  }

}

/** Runs `fn` on a value that may still be coming. */
function then<T>(value: T | Promise<T>, fn: (value: T) => void): void | Promise<void> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

/** Commits may run long: never cut off (a setattr that truncates commits too). */
function mayExpire(op: number, toSet: unknown): boolean {
  if (op === Op.FLUSH || op === Op.FSYNC || op === Op.RELEASE) return false;
  return !(op === Op.SETATTR && ((toSet as number) & SetAttr.SIZE));
}

function opName(op: number): string {
  return Object.entries(Op).find(([, n]) => n === op)?.[0].toLowerCase() ?? String(op);
}
