// The mount keeps a file's kernel page cache across opens (libfuse `auto_cache`) as long as
// the file's mtime and size are unchanged: re-reading an unchanged file then runs at memory
// speed instead of through FUSE. That is only safe if every content change also changes mtime
// or size as the kernel sees them. Almost always it does; it does not when a new version
// arrives with the same size and the same millisecond mtime (two writes within one ms on two
// pods, mtime set back with touch/rsync -t, a conflict resolved to the other side, a file
// replaced by another of the same size and mtime). For those we show mtime + 1 ms, so libfuse
// drops the stale pages at the next open. Keyed by path, like libfuse's own nodes (and so the
// kernel's page cache): a different file renamed over a cached one is caught too.
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

  /** The mtime to report for the file at `path`, now at `version`. */
  mtime(path: string, version: string, size: number, mtimeMs: number): number {
    const last = this.shown.get(path);
    if (last && last.version === version && last.mtimeMs === mtimeMs) return last.shownMs;
    const collides = last !== undefined && last.version !== version && last.size === size && last.shownMs === mtimeMs;
    const shownMs = collides ? mtimeMs + 1 : mtimeMs;
    this.remember(path, { version, size, mtimeMs, shownMs });
    return shownMs;
  }

  private remember(path: string, shown: Shown): void {
    this.shown.delete(path); // re-insert: Map order is our LRU order
    this.shown.set(path, shown);
    if (this.shown.size > MAX_TRACKED) this.shown.delete(this.shown.keys().next().value!);
  }
}
