// A FUSE file system that does nothing: the pod's binding (native/wormhole-fuse) with every
// request answered at once from a Map in memory, mounted with the pod's options (argv[3]) and
// the pod's cache timeouts (names and attributes 1 s, misses not cached). bench/fs.mjs runs
// its creates and stats against it in the same run as against the pod: what the binding and
// the kernel round trips allow on this machine when JS answers every request, the ceiling of
// a file system that does (as `dd` is for disk throughput).
// Usage: node bench/lib/null-fuse.mjs <mountpoint> <libfuse -o options>; prints "mounted",
// unmounts on SIGTERM/SIGINT.
import { mkdirSync } from "node:fs";
import { constants } from "node:os";
import { Arg, loadFuseBinding, Op, St } from "../../dist/src/fs/fuse-binding.js";

const fuse = loadFuseBinding();
const [mountpoint, options] = process.argv.slice(2);
const { ENOENT, ENOSYS } = constants.errno;
const TIMEOUT_SEC = 1;
const DIR = 0o40755;
const FILE = 0o100644;

const now = Date.now();
const args = new Float64Array(Arg.COUNT);
const stat = new Float64Array(St.COUNT);
stat.set([0, process.getuid(), process.getgid(), 0, now, now, now, 1, 0, 4096]);
/** node id -> mode; `<parent>/<name>` -> node id */
const modes = new Map([[1, DIR]]);
const names = new Map();
let nextId = 2;

const entry = (req, parent, name, mode) => {
  if (modes.get(parent) !== DIR) return fuse.replyErr(req, ENOENT);
  const id = nextId++;
  names.set(`${parent}/${name}`, id);
  modes.set(id, mode);
  stat[St.MODE] = mode;
  return id;
};
const handler = (op, req, id, a, b) => {
  switch (op) {
    case Op.LOOKUP: {
      const child = names.get(`${id}/${a}`);
      if (child === undefined) return fuse.replyEntry(req, 0, 0, 0);
      stat[St.MODE] = modes.get(child);
      return fuse.replyEntry(req, child, TIMEOUT_SEC, 0);
    }
    case Op.FORGET:
      return;
    case Op.GETATTR:
      stat[St.MODE] = modes.get(id);
      return fuse.replyAttr(req, id, TIMEOUT_SEC);
    case Op.MKDIR: {
      const child = entry(req, id, a, DIR | (b & 0o7777));
      return child && fuse.replyEntry(req, child, TIMEOUT_SEC, 0);
    }
    case Op.CREATE: {
      const child = entry(req, id, a, FILE);
      return child && fuse.replyCreate(req, child, TIMEOUT_SEC, TIMEOUT_SEC, 1, 0);
    }
    case Op.OPEN:
    case Op.OPENDIR:
      return fuse.replyOpen(req, 1, 0);
    case Op.READDIR:
      return fuse.replyDirents(req, b, [], [], 0);
    case Op.FLUSH:
    case Op.RELEASE:
    case Op.RELEASEDIR:
      return fuse.replyErr(req, 0);
    default:
      return fuse.replyErr(req, ENOSYS);
  }
};

let session;
try {
  mkdirSync(mountpoint, { recursive: true });
  session = fuse.mount(mountpoint, options, handler, () => {}, args, stat);
} catch (err) {
  console.error(`null FUSE mount at ${mountpoint} failed: ${err.message}`);
  process.exit(1);
}
console.log("mounted");
const stop = () => {
  fuse.unmount(session);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
