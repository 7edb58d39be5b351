// A pod's file service over real parts in a data directory, for tests and the fs bench:
// the Namespace (src/crdt) persisted by a MetaStore (level), a ChunkStore. The pod id is
// kept in the data dir, so a restart on the same directory is the same pod.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Namespace } from "../../src/crdt/index.js";
import { ChunkStore, EMPTY_VERSION, MetaStore } from "../../src/store/index.js";
import { FileService, type FileServicePorts } from "../../src/pod/file-service.js";
import { createLogger } from "../../src/pod/log.js";

export interface PodFiles {
  files: FileService;
  namespace: Namespace;
  chunks: ChunkStore;
  meta: MetaStore;
  close(): Promise<void>;
}

/**
 * `createBatchMs`: the namespace's write-behind for creates, wired as the pod wires it (the
 * MetaStore's flush applies held creates first). Default 0: every create is its own transaction.
 */
export async function openPodFiles(dataDir: string, ports: Partial<FileServicePorts> = {}, createBatchMs = 0): Promise<PodFiles> {
  await mkdir(dataDir, { recursive: true });
  const idFile = join(dataDir, "pod-id");
  const podId = await readFile(idFile, "utf8").catch(async () => {
    const id = randomBytes(16).toString("hex");
    await writeFile(idFile, id);
    return id;
  });
  const namespace = new Namespace({ podId: podId.trim(), emptyVersion: EMPTY_VERSION, createBatchMs });
  const meta = await MetaStore.open(join(dataDir, "meta"));
  meta.beforeFlush(() => namespace.applyHeldCreates());
  for (const [name, doc] of namespace.docs) await meta.attachDoc(name, doc);
  const chunks = await ChunkStore.open(join(dataDir, "store"));
  const files = new FileService(
    namespace,
    chunks,
    meta,
    {
      fetchChunk: async (id) => {
        throw new Error(`no holder for chunk ${id} (single-pod test)`);
      },
      stored: async () => {},
      afterLocalWrite: async () => {},
      writeMode: () => "ok",
      log: createLogger("pod-files", "error"),
      ...ports,
    },
    { dataDir },
  );
  return { files, namespace, chunks, meta, close: () => meta.close() };
}
