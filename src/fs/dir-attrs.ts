// Keeps the binding's cache of directory attributes exact (native/fuse-native/dir-attr-cache.h).
// The binding answers the kernel's getattr of a directory by itself while nothing may have
// changed it: with default_permissions and attr_timeout=0, the kernel asks for the attributes
// of "/" and of each parent directory on every path it walks (four requests of a create's ten).
// Here every change of the namespace or of the cluster registry drops the whole cache, in the
// same synchronous step as the change, except one: creating a file at a free name, the bulk of
// a create burst, which changes no directory's attributes (a directory's stat is its own
// record) and what no path resolves to, except the new one (which was not a directory).

/** The part of the fuse-native binding the invalidation drives. */
export interface DirAttrCachePort {
  invalidateDirAttrs(): void;
}

export class DirAttrInvalidation {
  private creatingFile = false;

  constructor(private readonly binding: () => DirAttrCachePort) {}

  /** A namespace change (`touched` = its inodes), or a registry change (no `touched`). */
  changed(touched?: ReadonlySet<string>): void {
    if (this.creatingFile && touched?.size === 1) return;
    this.binding().invalidateDirAttrs();
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
