// The admin API's file routes (ls, rm, put, get) over the FileService, for the daemon to
// plug into its AdminHandlers. File-system errors become UserErrors the CLI can print: what
// went wrong and what to do.
import type { AdminHandlers, DirEntry } from "./admin-api.js";
import type { Entry, FileService } from "./file-service.js";
import { getTree, putTree, removeTree } from "./file-transfer.js";
import { UserError } from "./user-error.js";

/** What only the daemon knows about an entry (replication and pinning). */
export type EntryDetails = Pick<DirEntry, "replicas" | "target" | "pinned" | "conflict">;

export type FileRoutes = Pick<AdminHandlers, "GET /ls" | "POST /rm" | "POST /put" | "POST /get">;

export function fileRoutes(files: FileService, details: (entry: Entry) => EntryDetails = () => ({})): FileRoutes {
  const describe = (entry: Entry): DirEntry => ({
    name: entry.name,
    type: entry.kind,
    size: entry.kind === "dir" ? 0 : entry.size,
    mtime: new Date(entry.attr.mtimeMs).toISOString(),
    ...details(entry),
  });
  return {
    "GET /ls": (request) =>
      asUserError(async () => {
        const entry = files.stat(request.path);
        if (entry.kind !== "dir") return { path: request.path, type: entry.kind, entries: [describe(entry)] };
        const entries = files.readdir(request.path).map(describe).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return { path: request.path, type: "dir", entries };
      }),
    "POST /rm": (request) => asUserError(async () => ({ path: request.path, removed: await removeTree(files, request.path, request.recursive === true) })),
    "POST /put": (request) => asUserError(async () => ({ path: request.path, localPath: request.localPath, ...(await putTree(files, request.localPath, request.path)) })),
    "POST /get": (request) => asUserError(async () => ({ path: request.path, localPath: request.localPath, ...(await getTree(files, request.path, request.localPath)) })),
  };
}

const HINTS: Record<string, [hint: string, status: number]> = {
  ENOENT: ["check the path with `wormhole ls`", 404],
  EEXIST: ["choose a new name, or remove the existing one first", 409],
  ENOTEMPTY: ["pass --recursive to remove a directory with its content", 409],
  ENOTDIR: ["a parent in the path is a file, not a directory", 400],
  EISDIR: ["that path is a directory", 400],
  EROFS: ["the cluster is read-only now (see `wormhole status`) or a rule makes this path read-only", 409],
  EIO: ["no pod holding this content is reachable: bring one back online and try again", 409],
  ENOSPC: ["this pod is out of space: free some or raise its limit in pod.toml", 409],
  EACCES: ["the pod's user may not read or write that local path", 400],
  EINVAL: ["see the message for what is not supported", 400],
};

async function asUserError<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const known = typeof code === "string" ? HINTS[code] : undefined;
    if (!known) throw err;
    throw new UserError((err as Error).message, known[0], known[1]);
  }
}
