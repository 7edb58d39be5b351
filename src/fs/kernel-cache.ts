// The kernel may cache names and attributes, and never serves them stale.
//
// Letting the kernel keep names and attributes for `kernel_cache` seconds removes most of the
// requests of a create or a stat, but the namespace also changes without kernel requests
// (another pod's changes, commits, conflict copies). So:
//
// - Every change of the namespace or of the cluster registry bumps the epoch, in the same
//   synchronous step as the change (`changed()`), except one: creating a file at a free
//   name, the bulk of a create burst, which changes no other path's attributes (a
//   directory's stat is its own record, and the kernel drops the directory's own attributes
//   when it sends a create) and no path's resolution but the new one's, which the kernel
//   never cached (negative entries are not kept). Changes that come as requests on an open
//   file (a write, a flush) change what the kernel itself tracks for it. The binding's notifier thread
//   then sends FUSE_NOTIFY_INVAL_INODE for every node id whose attributes the kernel may
//   hold (`cached`): a sweep. The kernel drops a reply to a request it sent before the
//   invalidation (it compares attribute versions), so a sweep also covers replies in flight.
//   The notifier is a thread of its own: a notification must not be written from the path of
//   a request the kernel is waiting for.
// - Pages: a handle opened write-only writes past the page cache (direct I/O, see
//   fuse-requests.ts), so pages other handles of that file cached go stale. While another
//   handle is open, such a write asks for a sweep that drops the file's pages too
//   (`contentChanged`), and the write's own reply waits for it like any other.
// - Replies that may make a new inode (LOOKUP, MKDIR, SYMLINK) carry no attribute timeout:
//   an invalidation sent before the kernel made the inode finds nothing, and the kernel would
//   then install what the reply said. CREATE keeps its attributes (a create's own getattr is
//   a request saved per file); its node id stays in `created` until a request names it, and
//   the notifier retries an invalidation of it that found no inode.
// - A reply to a request that arrived before the latest bump carries no timeouts, and is sent
//   only after the sweep for that bump: a request that made a change returns to its caller
//   after the kernel forgot what the change made stale.
// - Names stay cached for entry_timeout, also after another pod deleted or moved them. The
//   kernel still asks by node id, and the node keeps its old path (node-table.ts), so a
//   GETATTR of a path that no longer exists or whose type is not the one the kernel was told
//   answers ESTALE, and an OPEN of a vanished path too. The kernel then walks the path again
//   with LOOKUP_REVAL, as for NFS: `open(O_CREAT)` of a name another pod deleted creates it.

/** What the cache drives in the binding. */
export interface SweepPort {
  /** `dropPages`: node id, offset, node id, offset, ...: that node's cached pages from that offset on go too. */
  sweep(nodeIds: number[], mayRetry: number[], dropPages: number[], epoch: number): void;
}

export class KernelCache {
  private epoch = 1;
  private swept = 1;
  /** Node ids whose attributes the kernel may hold with a timeout. */
  private readonly cached = new Set<number>();
  /** Node ids of CREATE replies that no request has named since. */
  private readonly created = new Set<number>();
  private held: Array<() => void> = [];
  private creatingFile = false;

  constructor(
    private readonly port: SweepPort,
    /** Seconds the kernel may keep names and attributes. */
    private readonly timeoutSec: number,
  ) {}

  /** The epoch a request arrives in (pass it to `reply`). */
  arrived(nodeId: number): number {
    if (this.created.size > 0) this.created.delete(nodeId);
    return this.epoch;
  }

  /** A namespace change (`touched` = its inodes), or a registry change (no `touched`). */
  changed(touched?: ReadonlySet<string>): void {
    if (this.creatingFile && touched?.size === 1) return;
    this.bump([]);
  }

  /** `nodeId`'s content changed from `offset` on where the page cache did not see it: those pages go too. */
  contentChanged(nodeId: number, offset: number): void {
    this.bump([nodeId, offset]);
  }

  private bump(dropPages: number[]): void {
    this.epoch++;
    if (this.cached.size === 0 && dropPages.length === 0 && this.swept === this.epoch - 1) {
      this.swept = this.epoch;
      return;
    }
    this.port.sweep([...this.cached], [...this.created], dropPages, this.epoch);
    this.cached.clear();
  }

  /** Runs `create`, whose synchronous part creates one file at a name that does not exist. */
  creatingFileAt<T>(create: () => T): T {
    this.creatingFile = true;
    try {
      return create();
    } finally {
      this.creatingFile = false;
    }
  }

  /** The notifier finished the sweep asked for at `epoch`. */
  sweptUpTo(epoch: number): void {
    if (epoch - this.swept > 0) this.swept = epoch;
    if (this.swept !== this.epoch) return;
    const held = this.held;
    this.held = [];
    for (const send of held) send();
  }

  /** The kernel dropped its inode for `nodeId`. */
  forgot(nodeId: number): void {
    this.cached.delete(nodeId);
    this.created.delete(nodeId);
  }

  /**
   * Sends a reply to a request that arrived in `epoch`: `send(entrySec, attrSec)` with the
   * timeouts it may carry. `kind`: "attr" (GETATTR, SETATTR), "create", "entry" (other
   * replies that may make an inode), "none" (no attributes).
   */
  reply(epoch: number, kind: "attr" | "create" | "entry" | "none", nodeId: number, send: (entrySec: number, attrSec: number) => void): void {
    const current = epoch === this.epoch;
    const entrySec = current ? this.timeoutSec : 0;
    let attrSec = 0;
    if (current && nodeId !== 0 && (kind === "attr" || kind === "create")) {
      attrSec = this.timeoutSec;
      if (attrSec > 0) this.cached.add(nodeId);
      if (kind === "create") this.created.add(nodeId);
    }
    if (current || this.swept === this.epoch) send(entrySec, attrSec);
    else this.held.push(() => send(entrySec, attrSec));
  }
}
