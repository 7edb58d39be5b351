// The native binding (native/wormhole-fuse): libfuse 2's low-level protocol on Node's event
// loop. Requests arrive as calls of one handler; replies are functions taking the request.
// Numbers are shared with wormhole-fuse.c.
import { createRequire } from "node:module";
import { UserError } from "../pod/user-error.js";

export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  MKDIR: 6,
  UNLINK: 7,
  RMDIR: 8,
  SYMLINK: 9,
  RENAME: 10,
  LINK: 11,
  OPEN: 12,
  READ: 13,
  WRITE: 14,
  FLUSH: 15,
  RELEASE: 16,
  FSYNC: 17,
  OPENDIR: 18,
  READDIR: 19,
  RELEASEDIR: 20,
  FSYNCDIR: 21,
  STATFS: 22,
  ACCESS: 23,
  CREATE: 24,
} as const;

/** Slots of the shared `args` array: the caller of the request, and setattr's values. */
export const Arg = { UID: 0, GID: 1, PID: 2, MODE: 3, SET_UID: 4, SET_GID: 5, SIZE: 6, ATIME: 7, MTIME: 8, COUNT: 9 } as const;
/** Slots of the shared `stat` array, filled before a reply that carries attributes. */
export const St = { MODE: 0, UID: 1, GID: 2, SIZE: 3, ATIME: 4, MTIME: 5, CTIME: 6, NLINK: 7, BLOCKS: 8, BLKSIZE: 9, COUNT: 10 } as const;
/** Flags of replyOpen/replyCreate: keep the page cache; bypass it (FOPEN_DIRECT_IO). */
export const OPEN_KEEP_CACHE = 1;
export const OPEN_DIRECT_IO = 2;

/** FUSE_SET_ATTR_* bits of a setattr. */
export const SetAttr = { MODE: 1, UID: 2, GID: 4, SIZE: 8, ATIME: 16, MTIME: 32, ATIME_NOW: 128, MTIME_NOW: 256 } as const;

export type Request = number;
export type Session = object;
export type RequestHandler = (op: number, req: Request, nodeId: number, a: unknown, b: unknown, c: unknown, d: unknown) => void;

export interface FuseBinding {
  mount(mountpoint: string, options: string, handler: RequestHandler, onSwept: (epoch: number) => void, args: Float64Array, stat: Float64Array): Session;
  unmount(session: Session): void;
  /** `dropPages`: node id, offset, node id, offset, ...: the cached pages from that offset on go too. */
  sweep(session: Session, nodeIds: number[], mayRetry: number[], dropPages: number[], epoch: number): void;
  replyErr(req: Request, errno: number): void;
  replyEntry(req: Request, nodeId: number, entrySec: number, attrSec: number): void;
  replyCreate(req: Request, nodeId: number, entrySec: number, attrSec: number, fh: number, openFlags: number): void;
  replyAttr(req: Request, nodeId: number, attrSec: number): void;
  replyOpen(req: Request, fh: number, openFlags: number): void;
  replyData(req: Request, data: Buffer, length: number): void;
  replyWrite(req: Request, count: number): void;
  replyReadlink(req: Request, target: string): void;
  replyStatfs(req: Request, values: Float64Array): void;
  replyDirents(req: Request, size: number, names: string[], types: number[], start: number): number;
}

/**
 * The binding links against libfuse.so.2 when it is loaded, so it is loaded only when a pod
 * mounts: init, join, the CLI and a pod without a mount work on a machine without libfuse.
 */
export function loadFuseBinding(): FuseBinding {
  try {
    return createRequire(import.meta.url)("wormhole-fuse") as FuseBinding;
  } catch (err) {
    throw new UserError(
      `cannot load the FUSE library, so the cluster cannot be mounted: ${(err as Error).message.split("\n")[0]}`,
      "install it (Debian/Ubuntu: `apt-get install -y libfuse2 fuse3`), or start the pod without a mount point (docs/install.md)",
      400,
      err,
    );
  }
}

/** Attributes as MountOperations computes them (times in milliseconds since the epoch). */
export interface StatLike {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink?: number;
  blksize?: number;
  blocks?: number;
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
