// A FUSE file system that does nothing: fuse-native answering every operation at once from
// a Map in memory, mounted with the options a pod uses (argv[3], the pod's `fsname` string,
// and default_permissions). bench/fs.mjs runs its creates and stats against it in the same
// run as against the pod: what the binding and the kernel round trips allow on this machine
// when JS answers every request, the ceiling of a file system that does (as `dd` is for disk
// throughput). The pod's binding answers some requests without JS (directory attributes, the
// getattr after a create, the flush of a clean handle: native/fuse-native/README.md), which
// this one does not use.
// Usage: node bench/lib/null-fuse.mjs <mountpoint> <fsname-with-options>; prints "mounted",
// unmounts on SIGTERM/SIGINT.
import Fuse from "fuse-native";

const [mountpoint, fsname] = process.argv.slice(2);
const now = new Date();
const entries = new Map([["/", "dir"]]);
const statOf = (kind) => ({ mtime: now, atime: now, ctime: now, nlink: 1, size: 0, mode: kind === "dir" ? 0o40755 : 0o100644, uid: process.getuid(), gid: process.getgid() });
const parentOf = (path) => path.slice(0, path.lastIndexOf("/")) || "/";
/** Adds `path` if its parent directory exists (else ENOENT, as `mkdir -p` expects). */
const add = (path, kind, cb, ...result) => {
  if (entries.get(parentOf(path)) !== "dir") return cb(Fuse.ENOENT);
  entries.set(path, kind);
  cb(0, ...result);
};
const ops = {
  getattr: (path, cb) => (entries.has(path) ? cb(0, statOf(entries.get(path))) : cb(Fuse.ENOENT)),
  readdir: (_path, cb) => cb(0, []),
  mkdir: (path, _mode, cb) => add(path, "dir", cb),
  create: (path, _mode, cb) => add(path, "file", cb, 1),
  open: (_path, _flags, cb) => cb(0, 1),
  flush: (_path, _fd, cb) => cb(0),
  release: (_path, _fd, cb) => cb(0),
};
// The pod's timeout setting too: fuse-native arms a timer per operation when one is set. And
// its default_permissions (on by default): the kernel then asks for the attributes of every
// directory on a path before it walks it, which more than doubles the requests of a create.
const fuse = new Fuse(mountpoint, ops, { fsname, force: true, mkdir: true, defaultPermissions: true, timeout: { default: 60_000 } });
fuse.mount((err) => {
  if (err) {
    console.error(`null FUSE mount at ${mountpoint} failed: ${err.message}`);
    process.exit(1);
  }
  console.log("mounted");
});
const stop = () => fuse.unmount(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
