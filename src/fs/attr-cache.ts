// Keeps the binding's attribute cache exact (native/fuse-native/attr-cache.h), and through
// the same epoch the kernel's names and attributes (native/fuse-native/kernel-cache.h: the
// binding invalidates what the kernel holds when the epoch moves). The binding
// answers by itself the getattrs of directories and of a file just created, which are six of
// the ten kernel requests of a create with default_permissions and attr_timeout=0. Every
// change of the namespace or of the cluster registry drops the whole cache, in the same
// synchronous step as the change, except one: creating a file at a free name, the bulk of a
// create burst, which changes no other path's attributes (a directory's stat is its own
// record, and the kernel drops the directory's own attributes when it sends a create) and no
// path's resolution but the new one's. Changes that come as requests on a
// path (a write to an open file, a flush) drop that path's entry in the binding itself.

/** The part of the fuse-native binding the invalidation drives. */
export interface AttrCachePort {
  invalidateAttrCache(): void;
}

export class AttrCacheInvalidation {
  private creatingFile = false;

  constructor(private readonly binding: () => AttrCachePort) {}

  /** A namespace change (`touched` = its inodes), or a registry change (no `touched`). */
  changed(touched?: ReadonlySet<string>): void {
    if (this.creatingFile && touched?.size === 1) return;
    this.binding().invalidateAttrCache();
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
