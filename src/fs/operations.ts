// POSIX operations of the mount, as async methods over the FileService. The FUSE callback
// plumbing (errno conversion, logging) lives in fuse-ops.ts; everything here throws errors
// that carry a POSIX code.
import { constants } from "node:fs";
import { dirname } from "node:path";
import type { StatLike, StatfsLike } from "./fuse-binding.js";
import type { Entry, FileService, Owner, StoredVersion } from "../pod/file-service.js";
import type { Logger } from "../pod/log.js";
import { CacheGuard } from "./cache-guard.js";
import type { KernelCache } from "./kernel-cache.js";
import { FsError } from "./errno.js";
import { OpenFiles, type OpenFile } from "./open-files.js";
import { SequentialFeed } from "./sequential-feed.js";

const TYPE_BITS = { file: constants.S_IFREG, dir: constants.S_IFDIR, symlink: constants.S_IFLNK } as const;
const O_ACCMODE = 3; // not in node:fs constants
const NO_ID = 0xffffffff; // chown(-1): "leave unchanged"
const S_ISGID = 0o2000; // not in node:fs constants

export class MountOperations {
  readonly open: OpenFiles;
  /** Unlinked files still open, by their hidden names (see `hide`): kept out of the namespace. */
  private readonly hidden = new Map<string, Entry>();
  private readonly cacheGuard = new CacheGuard();

  constructor(
    private readonly files: FileService,
    stagingDir: string,
    private readonly log: Logger,
    private readonly kernelCache: KernelCache,
  ) {
    this.open = new OpenFiles(files, stagingDir);
  }

  // ---- attributes and directories ---------------------------------------------------------

  /**
   * The attributes of `path`, or undefined when nothing is there: the kernel looks up every
   * name before creating it, so a miss is an ordinary answer here, not an error to build.
   * Synchronous unless the file is being opened for writing (most stats, every miss): the
   * answer then leaves without a trip through the microtask queue.
   */
  getattr(path: string): StatLike | undefined | Promise<StatLike | undefined> {
    const entry = this.hidden.get(path) ?? this.files.lookup(path);
    if (entry === undefined) return undefined;
    const opening = this.open.fileOf(entry.inode);
    return opening ? opening.then((file) => toStat(entry, file)) : this.closedFileStat(path, entry);
  }

  /** A file nobody writes here: its mtime may be nudged so the kernel drops stale pages (CacheGuard). */
  private closedFileStat(path: string, entry: Entry): StatLike {
    const stat = toStat(entry);
    if (entry.kind === "file") stat.mtime = this.cacheGuard.mtime(path, entry.version, entry.size, entry.attr.mtimeMs);
    return stat;
  }

  async readdir(path: string): Promise<{ names: string[]; stats: StatLike[] }> {
    const dir = this.files.stat(path);
    if (dir.kind !== "dir") throw new FsError("ENOTDIR", `${path}: not a directory`);
    const children = this.files.readdir(path);
    const names = [".", ".."];
    const self = toStat(dir);
    const stats = [self, self];
    for (const child of children) {
      names.push(child.name);
      stats.push(toStat(child));
    }
    return { names, stats };
  }

  readlink(path: string): string {
    return this.files.readlink(path);
  }

  async mkdir(path: string, mode: number, caller: Owner): Promise<void> {
    const { owner, inSetgidDir } = this.ownerOfNew(path, caller);
    // A directory made in a set-group-ID directory is set-group-ID too (as on Linux).
    await this.files.mkdir(path, (mode & 0o7777) | (inSetgidDir ? S_ISGID : 0), owner);
  }

  async rmdir(path: string): Promise<void> {
    await this.files.rmdir(path);
  }

  async symlink(target: string, path: string, caller: Owner): Promise<void> {
    await this.files.symlink(target, path, this.ownerOfNew(path, caller).owner);
  }

  async unlink(path: string): Promise<void> {
    if (this.hidden.delete(path)) return; // the last close of an unlinked file
    await this.files.unlink(path);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.files.rename(from, to);
  }

  /**
   * An unlink of a file that is still open (FuseRequests, as libfuse did): for the namespace
   * it is an unlink; the file lives on under `hiddenPath` until its last close unlinks that,
   * and the open handles keep reading their pinned version or OpenFile.
   */
  async hide(path: string, hiddenPath: string): Promise<void> {
    const entry = this.files.stat(path);
    await this.files.unlink(path);
    this.hidden.set(hiddenPath, entry);
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.files.setattr(path, { mode });
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    await this.files.setattr(path, { uid: uid === NO_ID ? undefined : uid, gid: gid === NO_ID ? undefined : gid });
  }

  /** atime is not stored (see docs/mount.md); mtime is, and an open file keeps it for its commit. */
  async utimens(path: string, _atimeMs: number | undefined, mtimeMs: number | undefined): Promise<void> {
    const entry = this.entry(path);
    // mtime left out (`touch -a`): only ctime changes, as setattr always stamps it.
    await this.files.setattr(path, mtimeMs === undefined ? {} : { mtimeMs });
    const file = await this.open.fileOf(entry.inode);
    if (file && mtimeMs !== undefined) file.staged.mtimeMs = mtimeMs;
  }

  access(path: string, mode: number): void {
    this.entry(path);
    if (mode & constants.W_OK) this.files.assertWritable(path);
  }

  async statfs(): Promise<StatfsLike> {
    const s = await this.files.statfs();
    const frsize = Math.max(4096, s.blockSize);
    return {
      bsize: frsize,
      frsize,
      blocks: Math.floor(s.totalBytes / frsize),
      bfree: Math.floor(s.freeBytes / frsize),
      bavail: Math.floor(s.availableBytes / frsize),
      files: s.files,
      ffree: s.freeFiles,
      favail: s.freeFiles,
      fsid: 0,
      flag: 0,
      namemax: s.nameMax,
    };
  }

  // ---- file content ---------------------------------------------------------------------

  /** The new file's handle, and its attributes as getattr would give them now. */
  async create(path: string, mode: number, caller: Owner): Promise<{ fd: number; stat: StatLike }> {
    const owner = this.ownerOfNew(path, caller).owner;
    const entry = await this.kernelCache.creatingFileAt(() => this.files.createFile(path, mode & 0o7777, owner));
    const fd = await this.open.open(entry, true);
    return { fd, stat: toStat(entry, this.open.get(fd).file) };
  }

  async openFile(path: string, flags: number): Promise<number> {
    const entry = this.entry(path);
    const writable = (flags & O_ACCMODE) !== constants.O_RDONLY;
    if (entry.kind === "dir" && writable) throw new FsError("EISDIR", `${path}: is a directory`);
    if (writable) this.files.assertWritable(path);
    return this.open.open(entry, writable);
  }

  async read(fd: number, target: Buffer, length: number, position: number): Promise<number> {
    const handle = this.open.get(fd);
    if (handle.file) {
      await this.settle(handle.file);
      return handle.file.staged.read(target, position, length);
    }
    const bytes = await handle.reader!.read(position, length);
    bytes.copy(target);
    return bytes.length;
  }

  /**
   * `data` may be the FUSE binding's receive buffer, which the next request overwrites: it is
   * copied (into the sequential feed, or here) before the first `await`.
   */
  async write(fd: number, data: Buffer, length: number, position: number): Promise<number> {
    const handle = this.open.get(fd);
    if (!handle.writable || !handle.file) throw new FsError("EBADF", `handle ${fd} is not open for writing`);
    this.files.assertFits(handle.file.path, Math.max(handle.file.staged.size, position + length), length);
    const file = handle.file;
    const bytes = data.subarray(0, length);
    if (this.streams(file, position)) {
      // Streamed only: the staging copy would double the disk traffic (and every bulk syncfs
      // of the store would flush it too). The copy into the feed is made before we answer.
      const fed = file.feed!.push(bytes);
      file.staged.grow(position + length);
      await fed;
      return length;
    }
    const owned = Buffer.from(bytes);
    await this.settle(file);
    return file.staged.write(owned, position);
  }

  async truncate(path: string, size: number): Promise<void> {
    const entry = this.entry(path);
    if (entry.kind === "dir") throw new FsError("EISDIR", `${path}: is a directory`);
    this.files.assertWritable(path);
    this.files.assertFits(path, size, 0); // a hole costs no storage (zero chunks dedupe)
    await this.open.withFile(entry, async (file) => {
      await this.settle(file);
      await file.staged.truncate(size);
      // Visible at once: no handle's close would commit it (their flushes skip clean handles).
      await this.commit(file, path);
    });
  }

  async ftruncate(fd: number, size: number): Promise<void> {
    const handle = this.open.get(fd);
    if (!handle.writable || !handle.file) throw new FsError("EBADF", `handle ${fd} is not open for writing`);
    this.files.assertFits(handle.file.path, size, 0);
    await this.settle(handle.file);
    await handle.file.staged.truncate(size);
  }

  /**
   * close(2): the new version is in the namespace when close returns (close-to-open), with
   * its content on disk; the metadata reaches the disk with the next group commit, not
   * awaited here (POSIX: only fsync is a durability barrier).
   * Any writable handle's flush commits what the file has staged, whichever handle wrote it
   * (a clean file costs nothing: commit returns at once); a truncate by path commits at once.
   */
  async flush(path: string, fd: number): Promise<void> {
    const handle = this.open.get(fd);
    if (handle.writable && handle.file) await this.commit(handle.file, path);
  }

  /**
   * fsync(2): commit, then wait until every metadata change made so far is on disk (this
   * file's and, like ext4's journal, everything before it) and the write is acknowledged
   * per write_ack. A background metadata write that failed fails it with EIO.
   */
  async fsync(path: string, fd: number): Promise<void> {
    const handle = this.open.get(fd);
    if (handle.writable && handle.file) await this.commit(handle.file, path);
    await this.files.durable();
    await handle.file?.acknowledged;
  }

  /** fsync(2) on a directory: its entries (every namespace change so far) on disk. */
  async fsyncdir(): Promise<void> {
    await this.files.durable();
  }

  async release(path: string, fd: number): Promise<void> {
    await this.open.release(fd, (file) => this.commit(file, path));
  }

  /** Commits every file still open for writing (unmount). */
  async commitAll(): Promise<void> {
    for (const file of await this.open.openForWriting()) {
      await this.commit(file, file.path).catch((err: Error) => this.log.error(`${file.path}: could not save at unmount: ${err.message}`));
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * A new entry belongs to the user who made it (the FUSE request's caller), with the
   * caller's group, or the directory's group when the directory is set-group-ID, as on a
   * local Linux file system. See docs/mount.md "Ownership".
   */
  private ownerOfNew(path: string, caller: Owner): { owner: Owner; inSetgidDir: boolean } {
    const dir = this.files.lookup(dirname(path));
    const inSetgidDir = dir !== undefined && (dir.attr.mode & S_ISGID) !== 0;
    return { owner: { uid: caller.uid, gid: inSetgidDir ? dir.attr.gid : caller.gid }, inSetgidDir };
  }

  /** Makes the staged content a version, unless nothing changed or the file was unlinked. */
  private async commit(file: OpenFile, path: string): Promise<void> {
    file.path = path; // libfuse passes the current path: it follows renames made through the mount
    if (!file.staged.dirty) return;
    if (this.hidden.has(path)) {
      await this.settle(file); // other handles may still read what was streamed
      return; // written after unlink: the data dies with the last close
    }
    // Under the snapshot's exclusive lock: no write interleaves between the content and the
    // record. A streamed file's version is ready (only its last chunk was left to do).
    await file.staged.snapshot(async (content, _size, mtimeMs) => {
      const stored = (await this.settle(file, { keep: true })) ?? (await this.files.store(content));
      file.acknowledged = (await this.files.record({ path, inode: file.inode }, stored, { mtimeMs })).acknowledged;
    });
  }

  /**
   * Whether a write at `position` goes to the streaming commit: a file written from offset 0
   * of an empty file streams into the chunker while the writes stay sequential (see
   * sequential-feed.ts). Any other write, a read or a truncate settles the stream first.
   */
  private streams(file: OpenFile, position: number): boolean {
    if (file.failure) throw file.failure;
    if (file.settling) return false;
    if (!file.feed && position === 0 && file.staged.size === 0) {
      const feed = new SequentialFeed();
      file.feed = feed;
      file.streamed = this.files.store(feed);
      file.streamed.catch(() => {}); // awaited by settle(); an aborted feed (unlink) is expected
    }
    return file.feed !== undefined && position === file.feed.expected;
  }

  /**
   * Ends the streaming commit of `file` (if any) and makes the version it produced the staged
   * file's base, so reads and further writes see those bytes. Returns that version when
   * `keep` (the commit records it), else releases it (the base reader holds its own lease).
   * If the stream failed its bytes exist nowhere else: the file fails with EIO from then on.
   */
  private async settle(file: OpenFile, { keep = false } = {}): Promise<StoredVersion | undefined> {
    while (file.settling) await file.settling.catch(() => {});
    if (file.failure) throw file.failure;
    const feed = file.feed;
    const streamed = file.streamed;
    if (!feed || !streamed) return undefined;
    file.feed = undefined;
    file.streamed = undefined;
    const settling = (async () => {
      feed.end();
      let stored: StoredVersion | undefined;
      try {
        stored = await streamed;
        file.staged.rebase(await this.files.openVersion(stored.written.version));
      } catch (err) {
        stored?.release();
        file.failure = new FsError("EIO", `${file.path}: the written data could not be saved: ${(err as Error).message}`);
        throw file.failure;
      }
      if (!keep) stored.release();
      return stored;
    })();
    file.settling = settling;
    try {
      return await settling;
    } finally {
      file.settling = undefined;
    }
  }

  private entry(path: string): Entry {
    return this.hidden.get(path) ?? this.files.stat(path);
  }
}

function toStat(entry: Entry, open?: OpenFile): StatLike {
  const size = open ? open.staged.size : entry.size;
  const mtime = open ? open.staged.mtimeMs : entry.attr.mtimeMs;
  return {
    mode: TYPE_BITS[entry.kind] | (entry.attr.mode & 0o7777),
    uid: entry.attr.uid,
    gid: entry.attr.gid,
    size: entry.kind === "symlink" ? Buffer.byteLength(entry.symlinkTarget ?? "") : size,
    nlink: entry.kind === "dir" ? 2 : 1,
    blksize: 128 * 1024,
    blocks: Math.ceil(size / 512),
    atime: mtime,
    mtime,
    ctime: Math.max(entry.attr.ctimeMs, mtime),
  };
}
