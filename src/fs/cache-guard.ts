// The mount keeps a file's kernel page cache across opens (libfuse `auto_cache`) as long as
// the file's mtime and size are unchanged: re-reading an unchanged file then runs at memory
// speed instead of through FUSE. That is only safe if every content change also changes mtime
// or size as the kernel sees them. Almost always it does; it does not when a new version
// arrives with the same size and the same millisecond mtime (two writes within one ms on two
// pods, mtime set back with touch/rsync -t, a conflict resolved to the other side). For those
// we show mtime + 1 ms, so libfuse drops the stale pages at the next open.
const MAX_TRACKED = 200_000;

interface Shown {
  version: string;
  size: number;
  /** The mtime stored in the namespace for `version`... */
  mtimeMs: number;
  /** ...and the one we reported for it. */
  shownMs: number;
}

export class CacheGuard {
  private readonly shown = new Map<string, Shown>();

  /** The mtime to report for `inode` at `version`. */
  mtime(inode: string, version: string, size: number, mtimeMs: number): number {
    const last = this.shown.get(inode);
    if (last && last.version === version && last.mtimeMs === mtimeMs) return last.shownMs;
    const collides = last !== undefined && last.version !== version && last.size === size && last.shownMs === mtimeMs;
    const shownMs = collides ? mtimeMs + 1 : mtimeMs;
    this.remember(inode, { version, size, mtimeMs, shownMs });
    return shownMs;
  }

  private remember(inode: string, shown: Shown): void {
    this.shown.delete(inode); // re-insert: Map order is our LRU order
    this.shown.set(inode, shown);
    if (this.shown.size > MAX_TRACKED) this.shown.delete(this.shown.keys().next().value!);
  }
}
