// The fuse-native callback table over MountOperations. Each op runs its async body and
// answers with 0/value or a negative errno. Errors without a POSIX code are bugs or I/O
// failures: they become EIO with a log line naming the operation and the file.
import type { Callback } from "fuse-native";
import type { Logger } from "../pod/log.js";
import { EIO, ENOENT, knownErrno } from "./errno.js";
import type { Owner } from "../pod/file-service.js";
import type { MountOperations } from "./operations.js";

/** What the handlers read from the fuse-native binding. */
export interface BindingState {
  /** The user of the request being handled; only valid while a handler runs synchronously. */
  caller(): Owner;
  /** The epoch of the binding's attribute cache (see attr-cache.ts). */
  attrCacheEpoch(): number;
}

export function fuseOps(ops: MountOperations, log: Logger, binding: BindingState): object {
  const caller = () => binding.caller();
  /** Runs `body` and answers with its value (or `reply`'s way of answering it), or its errno. */
  const answer = <T>(name: string, path: string, cb: Callback, body: () => T | Promise<T>, reply: (value: T) => void = (value) => (value === undefined ? cb(0) : cb(0, value))): void => {
    let result: T | Promise<T>;
    try {
      result = body();
    } catch (err) {
      cb(errnoOf(name, path, err, log));
      return;
    }
    // A synchronous answer (most getattrs) is sent at once, not after a microtask.
    if (result instanceof Promise) result.then(reply, (err) => cb(errnoOf(name, path, err, log)));
    else reply(result);
  };
  // read/write answer with a byte count in place of the status.
  const count = (name: string, path: string, cb: Callback, body: () => Promise<number>): void => {
    body().then(
      (n) => cb(n),
      (err) => cb(errnoOf(name, path, err, log)),
    );
  };

  return {
    getattr: (path: string, cb: Callback) => {
      // Read before anything is looked up: the binding keeps a directory's attributes only if
      // no change came between (native/fuse-native/attr-cache.h).
      const epoch = binding.attrCacheEpoch();
      answer("getattr", path, cb, () => ops.getattr(path), (stat) => (stat ? cb(0, stat, epoch) : cb(ENOENT)));
    },
    readdir: (path: string, cb: Callback) =>
      ops.readdir(path).then(
        ({ names, stats }) => cb(0, names, stats),
        (err) => cb(errnoOf("readdir", path, err, log)),
      ),
    readlink: (path: string, cb: Callback) => answer("readlink", path, cb, () => ops.readlink(path)),
    mkdir: (path: string, mode: number, cb: Callback) => answer("mkdir", path, cb, () => ops.mkdir(path, mode, caller())),
    rmdir: (path: string, cb: Callback) => answer("rmdir", path, cb, () => ops.rmdir(path)),
    symlink: (target: string, path: string, cb: Callback) => answer("symlink", path, cb, () => ops.symlink(target, path, caller())),
    unlink: (path: string, cb: Callback) => answer("unlink", path, cb, () => ops.unlink(path)),
    rename: (from: string, to: string, cb: Callback) => answer("rename", from, cb, () => ops.rename(from, to)),
    link: (_from: string, to: string, cb: Callback) => answer("link", to, cb, () => Promise.reject(Object.assign(new Error("hard links are not supported"), { code: "EPERM" }))),
    chmod: (path: string, mode: number, cb: Callback) => answer("chmod", path, cb, () => ops.chmod(path, mode)),
    chown: (path: string, uid: number, gid: number, cb: Callback) => answer("chown", path, cb, () => ops.chown(path, uid, gid)),
    // A time the caller left out (UTIME_OMIT) is undefined.
    utimens: (path: string, atime: number | undefined, mtime: number | undefined, cb: Callback) => answer("utimens", path, cb, () => ops.utimens(path, atime, mtime)),
    access: (path: string, mode: number, cb: Callback) => answer("access", path, cb, () => ops.access(path, mode)),
    statfs: (path: string, cb: Callback) => answer("statfs", path, cb, () => ops.statfs()),
    create: (path: string, mode: number, cb: Callback) => {
      const epoch = binding.attrCacheEpoch(); // as for getattr
      answer("create", path, cb, () => ops.create(path, mode, caller()), ({ fd, stat }) => cb(0, fd, stat, epoch));
    },
    open: (path: string, flags: number, cb: Callback) => answer("open", path, cb, () => ops.openFile(path, flags)),
    read: (path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Callback) => count("read", path, cb, () => ops.read(fd, buf, len, pos)),
    write: (path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Callback) => count("write", path, cb, () => ops.write(fd, buf, len, pos)),
    truncate: (path: string, size: number, cb: Callback) => answer("truncate", path, cb, () => ops.truncate(path, size)),
    ftruncate: (path: string, fd: number, size: number, cb: Callback) => answer("ftruncate", path, cb, () => ops.ftruncate(fd, size)),
    flush: (path: string, fd: number, cb: Callback) => answer("flush", path, cb, () => ops.flush(path, fd)),
    // fuse-native's index.js passes (path, datasync, fd), not the README's (path, fd, datasync).
    fsync: (path: string, _datasync: number, fd: number, cb: Callback) => answer("fsync", path, cb, () => ops.fsync(path, fd)),
    fsyncdir: (path: string, _datasync: number, _fd: number, cb: Callback) => answer("fsyncdir", path, cb, () => ops.fsyncdir()),
    release: (path: string, fd: number, cb: Callback) => answer("release", path, cb, () => ops.release(path, fd)),
  };
}

function errnoOf(op: string, path: string, err: unknown, log: Logger): number {
  const errno = knownErrno(err);
  if (errno !== undefined) {
    if (errno === EIO) log.error(`${op} ${path}: ${(err as Error).message}`);
    return errno;
  }
  log.error(`${op} ${path} failed (reported as EIO): ${(err as Error)?.stack ?? String(err)}`);
  return EIO;
}
