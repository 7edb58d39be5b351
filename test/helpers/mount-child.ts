// A pod-like process serving one FUSE mount for the fs tests and bench: builds the file
// service over real stores in a temp data dir and mounts it. The test drives it from another
// process (FUSE ops are served on this process's JS thread, which must never block).
// argv: <dataDir> <mountpoint> [readOnlyPrefix]   prints "READY" once mounted; SIGTERM unmounts;
// SIGUSR1 rewrites /remote.txt as another pod would; SIGUSR2 toggles a cluster-wide freeze (every write answers EROFS), paths under
// readOnlyPrefix/ are read-only as by a rule.
import { join } from "node:path";
import { Readable } from "node:stream";
import { createLogger } from "../../src/pod/log.js";
import { mountFileService } from "../../src/fs/index.js";
import { openPodFiles } from "./pod-files.js";

const [dataDir, mountpoint, readOnlyPrefix] = process.argv.slice(2);
if (!dataDir || !mountpoint) throw new Error("usage: mount-child <dataDir> <mountpoint> [readOnlyPrefix]");
const log = createLogger("mount-child");
let frozen = false;
process.on("SIGUSR2", () => {
  frozen = !frozen;
  process.stdout.write(frozen ? "FROZEN\n" : "THAWED\n");
});
const { files, close } = await openPodFiles(dataDir, {
  writeMode: (path) => (frozen || (readOnlyPrefix && path.startsWith(readOnlyPrefix + "/")) ? "read-only" : "ok"),
  log,
});
const mounted = await mountFileService(files, { mountpoint, stagingDir: join(dataDir, "staging"), log, autoCache: process.env.WORMHOLE_AUTO_CACHE !== "0", attrTimeoutSec: Number(process.env.WORMHOLE_ATTR_TIMEOUT ?? 0) });
process.stdout.write("READY\n");
// SIGUSR1: a write "from another pod" to /remote.txt: reversed content, same size, same mtime
// (the case the kernel page cache could miss).
process.on("SIGUSR1", () => {
  (async () => {
    const entry = files.stat("/remote.txt");
    const current = await files.readRange(entry, 0, entry.size);
    await files.commit("/remote.txt", Readable.from([Buffer.from(current).reverse()]), { mtimeMs: entry.attr.mtimeMs });
    process.stdout.write("REWRITTEN\n");
  })().catch((err: Error) => process.stdout.write(`REWRITE FAILED ${err.message}\n`));
});
let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  mounted
    .unmount()
    .then(close)
    .then(
    () => process.exit(0),
    (err) => {
      log.error(String(err));
      process.exit(1);
    },
  );
});
