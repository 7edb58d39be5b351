// The FileService of a running Pod: the daemon's ports (chunk pulls, write acknowledgement,
// read-only rules and reactions) plugged into the file operations. `start` builds one and
// hands it to the mount (src/fs mountPod) and to the admin file routes (fileRoutes).
import { FileService, type FileServicePorts } from "./file-service.js";
import type { Pod } from "./pod.js";

/** `overrides` replaces ports (tests freeze the cluster through `writeMode`). */
export function podFileService(pod: Pod, overrides: Partial<FileServicePorts> = {}): FileService {
  return new FileService(
    pod.namespace,
    pod.chunks,
    pod.meta,
    {
      fetchChunk: (id) => pod.fetchChunk(id),
      afterLocalWrite: (version, size) => pod.afterLocalWrite(version, size),
      writeMode: (path) => pod.writeMode(path),
      maxFileSize: () => pod.config.cluster.maxSizeBytes,
      spaceLeft: () => {
        const limit = pod.podConfig.pod.storageLimitBytes;
        return limit === null ? null : Math.max(0, limit - pod.chunks.usedBytes);
      },
      log: pod.log,
      ...overrides,
    },
    { pool: pod.pool, dataDir: pod.layout.root },
  );
}
