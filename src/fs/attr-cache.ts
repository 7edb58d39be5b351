// Decides which namespace changes make the kernel forget cached attributes (kernel-cache.ts).
// Every change of the namespace or of the cluster registry does, in the same synchronous
// step as the change, except one: creating a file at a free name, the bulk of a create
// burst, which changes no other path's attributes (a directory's stat is its own record,
// and the kernel drops the directory's own attributes when it sends a create) and no path's
// resolution but the new one's, which the kernel never cached (negative entries are not
// kept). Changes that come as requests on an open file (a write, a flush) change what the
// kernel itself tracks for that file.

/** What the invalidation drives. */
export interface AttrCachePort {
  changed(): void;
}

export class AttrCacheInvalidation {
  private creatingFile = false;

  constructor(private readonly cache: AttrCachePort) {}

  /** A namespace change (`touched` = its inodes), or a registry change (no `touched`). */
  changed(touched?: ReadonlySet<string>): void {
    if (this.creatingFile && touched?.size === 1) return;
    this.cache.changed();
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
}
