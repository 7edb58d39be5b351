// A pod-like process serving one FUSE mount for the fs tests and bench: builds the file
// service over real stores in a temp data dir and mounts it. The test drives it from another
// process (FUSE ops are served on this process's JS thread, which must never block).
// argv: <dataDir> <mountpoint> [readOnlyPrefix]   prints "READY" once mounted; SIGTERM unmounts.
import { join } from "node:path";
import { ChunkStore } from "../../src/store/index.js";
import { FileService } from "../../src/pod/file-service.js";
import { createLogger } from "../../src/pod/log.js";
import { mountFileService } from "../../src/fs/index.js";
import { DevNamespace } from "./dev-namespace.js";

const [dataDir, mountpoint, readOnlyPrefix] = process.argv.slice(2);
if (!dataDir || !mountpoint) throw new Error("usage: mount-child <dataDir> <mountpoint> [readOnlyPrefix]");
const log = createLogger("mount-child");
const chunks = await ChunkStore.open(join(dataDir, "store"));
const files = new FileService(new DevNamespace(), chunks, { flush: async () => {} }, {
  fetchChunk: async (id) => {
    throw new Error(`no holder for ${id} (single-pod test)`);
  },
  afterLocalWrite: async () => {},
  writeMode: (path) => (readOnlyPrefix && (path === readOnlyPrefix || path.startsWith(readOnlyPrefix + "/")) ? "read-only" : "ok"),
  log,
}, { dataDir });
const mounted = await mountFileService(files, { mountpoint, stagingDir: join(dataDir, "staging"), log, autoCache: process.env.WORMHOLE_AUTO_CACHE === "1", attrTimeoutSec: Number(process.env.WORMHOLE_ATTR_TIMEOUT ?? 0) });
process.stdout.write("READY\n");
let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  mounted.unmount().then(
    () => process.exit(0),
    (err) => {
      log.error(String(err));
      process.exit(1);
    },
  );
});
