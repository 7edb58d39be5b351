// Whole-tree operations for the CLI's put/get/rm (through the admin API), built on the
// FileService: the pod reads and writes the local paths itself, content never travels
// through the admin socket.
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readlink, symlink, utimes, chmod } from "node:fs/promises";
import { join } from "node:path";
import { FileError, type FileService } from "./file-service.js";
import { createLimiter } from "./limiter.js";

export interface TransferTotals {
  files: number;
  bytes: number;
}

/** Bytes read from the store per step of `getTree`. */
const COPY_BLOCK = 4 * 1024 * 1024;
/**
 * Files copied at once. Concurrent commits share fsyncs (the metadata store commits in
 * groups) and keep the hashing workers busy: a tree of small files goes several times faster.
 */
const PARALLEL_FILES = 16;

/**
 * Copies a local file or directory tree to `dest` (which must not exist), like `cp -r`.
 * Resolves when every version written is acknowledged per the cluster's write_ack.
 */
export async function putTree(files: FileService, localPath: string, dest: string): Promise<TransferTotals> {
  if (files.lookup(dest)) throw new FileError("EEXIST", `${dest} already exists in the cluster: choose a new name or remove it first`);
  const totals: TransferTotals = { files: 0, bytes: 0 };
  const acknowledgements: Promise<void>[] = [];
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const limited = createLimiter(PARALLEL_FILES);
  const visit = async (local: string, path: string): Promise<void> => {
    const st = await lstat(local);
    if (st.isDirectory()) {
      await files.mkdir(path, st.mode & 0o7777, owner);
      await Promise.all((await readdir(local)).sort().map((name) => visit(join(local, name), `${path}/${name}`)));
      await files.setattr(path, { mtimeMs: st.mtimeMs });
    } else if (st.isSymbolicLink()) {
      await files.symlink(await readlink(local), path, owner);
    } else if (st.isFile()) {
      const { written, acknowledged } = await limited(() => files.commit(path, local, { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, owner }));
      acknowledgements.push(acknowledged);
      totals.files++;
      totals.bytes += written.size;
    } else {
      throw new FileError("EINVAL", `${local} is not a regular file, directory or symlink: wormhole stores only those`);
    }
  };
  await visit(localPath, dest);
  await Promise.all(acknowledgements);
  return totals;
}

/** Copies a cluster file or tree to `localPath` (which must not exist), like `cp -r`. */
export async function getTree(files: FileService, source: string, localPath: string): Promise<TransferTotals> {
  const totals: TransferTotals = { files: 0, bytes: 0 };
  const limited = createLimiter(PARALLEL_FILES);
  const visit = async (path: string, local: string): Promise<void> => {
    const entry = files.stat(path);
    if (entry.kind === "dir") {
      await mkdir(local, { mode: 0o700 });
      await Promise.all(files.readdir(path).map((child) => visit(child.path, join(local, child.name))));
      await chmod(local, entry.attr.mode & 0o7777);
    } else if (entry.kind === "symlink") {
      await symlink(entry.symlinkTarget ?? "", local);
      return;
    } else {
      await limited(() => copyOut(files, entry.version, local, entry.attr.mode & 0o7777));
      totals.files++;
      totals.bytes += entry.size;
    }
    const mtime = new Date(entry.attr.mtimeMs);
    await utimes(local, mtime, mtime);
  };
  await visit(source, localPath);
  return totals;
}

/** Removes a file, symlink or directory; a non-empty directory needs `recursive`. */
export async function removeTree(files: FileService, path: string, recursive: boolean): Promise<number> {
  const entry = files.stat(path);
  if (entry.kind !== "dir") {
    await files.unlink(path);
    return 1;
  }
  const children = files.readdir(path);
  if (children.length > 0 && !recursive) throw new FileError("ENOTEMPTY", `${path} is a non-empty directory: pass --recursive to remove it with its content`);
  let removed = 0;
  for (const child of children) removed += await removeTree(files, child.path, true);
  await files.rmdir(path);
  return removed + 1;
}

async function copyOut(files: FileService, version: string, local: string, mode: number): Promise<void> {
  const reader = await files.openVersion(version);
  const out = await open(local, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    for (let pos = 0; pos < reader.size; pos += COPY_BLOCK) {
      const bytes = await reader.read(pos, COPY_BLOCK);
      await out.write(bytes, 0, bytes.length, pos);
    }
    await out.sync();
  } finally {
    await out.close();
    reader.close();
  }
}
