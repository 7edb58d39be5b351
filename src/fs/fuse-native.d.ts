// Types for fuse-native 2.2.6 as native/fuse-native builds it (the package ships none). Only
// what src/fs uses is declared; the signatures follow index.js, which differs from the
// README in places (see docs/mount.md).
declare module "fuse-native" {
  export type Callback = (code: number, ...values: unknown[]) => void;

  export interface StatLike {
    mode: number;
    uid: number;
    gid: number;
    size: number;
    nlink?: number;
    ino?: number;
    blksize?: number;
    blocks?: number;
    /** Milliseconds since the epoch (fuse-native passes whole milliseconds only). */
    atime: number;
    mtime: number;
    ctime: number;
  }

  export interface StatfsLike {
    bsize: number;
    frsize: number;
    blocks: number;
    bfree: number;
    bavail: number;
    files: number;
    ffree: number;
    favail: number;
    fsid: number;
    flag: number;
    namemax: number;
  }

  export interface FuseOptions {
    fsname?: string;
    subtype?: string;
    allowOther?: boolean;
    defaultPermissions?: boolean;
    debug?: boolean;
    force?: boolean;
    mkdir?: boolean;
    /** Per-op JS timeout in ms (default 15 s, then the op fails with ETIMEDOUT); false = none. */
    timeout?: number | false | Record<string, number | false>;
    /**
     * Answer the flush of a handle nothing was written (or ftruncated) through since its last
     * flush with 0, without calling `flush` (a Wormhole addition, see its README).
     */
    skipCleanFlushes?: boolean;
  }

  class Fuse {
    constructor(mnt: string, ops: object, opts?: FuseOptions);
    readonly mnt: string;
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    /** The process that made the request being handled; only valid while a handler runs synchronously. */
    caller(): { uid: number; gid: number; pid: number };
    /** Drops the binding's cached attributes (a Wormhole addition, see its README). */
    invalidateAttrCache(): void;
    /** The cache's current epoch, for answers cb(0, stat, epoch) and cb(0, fd, stat, epoch). */
    readonly attrCacheEpoch: number;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
    static readonly ENOENT: number;
  }
  export default Fuse;
}
