// Mounts a running Pod's files where its pod.toml (or `wormhole start --mount`) says, with
// the [mount] options from pod.toml. Returns undefined for a pod configured without a mount.
import type { FileService } from "../pod/file-service.js";
import type { Pod } from "../pod/pod.js";
import { mountFileService, type Mounted } from "./mount.js";

export async function mountPod(pod: Pod, files: FileService, mountpoint: string | null = pod.podConfig.mount.path): Promise<Mounted | undefined> {
  if (!mountpoint) return undefined;
  return mountFileService(files, {
    mountpoint,
    stagingDir: pod.layout.staging,
    log: pod.log,
    allowOther: pod.podConfig.mount.allowOther,
    defaultPermissions: pod.podConfig.mount.defaultPermissions,
  });
}
