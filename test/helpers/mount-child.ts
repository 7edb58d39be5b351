// A real pod process serving its FUSE mount, for the fs tests and bench: the first start
// initialises a one-pod cluster in <dataDir> (max_size 100 MiB; a rule makes /ro/*.txt read-only), then it is
// Pod.open + start + podFileService + mountPod, as `wormhole start` does. Its failure
// reactions are all "continue": a version is referenced by the namespace a few ms before the
// pod announces holding it, and a health pass in that window would otherwise turn the whole
// mount read-only for a second (reported to the pod's owner); read-only is tested here
// through a rule and the freeze hook instead. The test drives
// the mount from its own process: FUSE ops are served on this process's JS thread.
// argv: <dataDir> <mountpoint>. Prints "READY" once mounted. SIGTERM: unmount and stop.
// Test hooks: SIGUSR1 rewrites /remote.txt as another pod would (same size and mtime,
// reversed bytes), SIGUSR2 toggles a freeze (every write EROFS, as the read-only reaction).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Pod } from "../../src/pod/pod.js";
import { initPod } from "../../src/pod/setup.js";
import { podFileService } from "../../src/pod/pod-file-service.js";
import { mountPod } from "../../src/fs/index.js";

const [dataDir, mountpoint] = process.argv.slice(2);
if (!dataDir || !mountpoint) throw new Error("usage: mount-child <dataDir> <mountpoint>");

if (!existsSync(join(dataDir, "identity.key"))) {
  const clusterFile = `${dataDir}.wormhole.toml`;
  writeFileSync(clusterFile, `[cluster]\nname = "fs-test"\nredundancy = 1\nmax_size = "100MiB"\n\n[failure]\ndegraded = "continue"\nat_risk = "continue"\nunavailable = "continue"\n\n[[rules]]\npath = "/ro/*.txt"\nreadonly = true\n`);
  initPod({ dataDir, role: "full", cluster: "fs-test", listen: "127.0.0.1:0", mount: mountpoint, clusterConfigFile: clusterFile });
}
const pod = await Pod.open({ dataDir });
await pod.start();
let frozen = false;
const files = podFileService(pod, { writeMode: (path) => (frozen ? "read-only" : pod.writeMode(path)) });
const mounted = (await mountPod(pod, files))!;
process.stdout.write("READY\n");

process.on("SIGUSR2", () => {
  frozen = !frozen;
  process.stdout.write(frozen ? "FROZEN\n" : "THAWED\n");
});
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
  (async () => {
    await mounted.unmount();
    await pod.stop();
  })().then(
    () => process.exit(0),
    (err: Error) => {
      pod.log.error(`stop failed: ${err.stack}`);
      process.exit(1);
    },
  );
});
