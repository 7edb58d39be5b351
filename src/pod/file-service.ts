// The local-first file operations of one pod. The FUSE adapter and the CLI's put/get/ls/rm
// (through the admin API) both go through here, so every write path has the same rules:
// EROFS checked first, content chunked off the main thread and durable before the namespace
// references it, chunks missing locally pulled from a holder through the daemon's
// `fetchChunk` and kept in the store as cache. Metadata durability has two modes: the CLI's
// service waits for the metadata fsync before acknowledging an operation; the mount's
// (`deferringDurability()`) acknowledges at once and leaves the fsync to the group commit,
// as a local disk does until fsync(2) — see docs/mount.md "Durability".
import { stat, statfs as statfsAsync } from "node:fs/promises";
import type { ClusterSpace } from "./cluster-space.js";
import type { Logger } from "./log.js";
import type { Attr, Entry, Namespace } from "../crdt/index.js";
import { EMPTY_VERSION, VersionReader, writeVersion, type ChunkStore, type HashPool, type MetaStore, type VersionSource, type WrittenVersion } from "../store/index.js";

export type { Entry };

/** What the service needs of the MetaStore: durable namespace updates. */
export type MetaPort = Pick<MetaStore, "flush" | "settled">;

// ---- what the pod daemon plugs in -----------------------------------------------------------

export interface FileServicePorts {
  /**
   * Pulls a chunk from a holder, verified; throws if no holder is reachable. `version` (a
   * version using the chunk) lets the daemon ask that version's holders first.
   */
  fetchChunk(id: string, version?: string): Promise<Buffer>;
  /**
   * This pod now holds `version` completely (announce it, queue it for upload). Called
   * before the namespace references the version, so no pod ever sees a file whose holder it
   * does not know, and health never counts a fresh local write as unavailable.
   */
  stored(version: string): Promise<void>;
  /** Resolves when the write is acknowledged per `write_ack`. */
  afterLocalWrite(version: string): Promise<void>;
  /** "read-only" when the cluster is frozen or a rule makes `path` read-only (→ EROFS). */
  writeMode(path: string): "ok" | "read-only";
  /** The largest file allowed at `path` (the cluster's max_size), null for none (→ EFBIG). */
  maxFileSize?(path: string): number | null;
  /** Bytes this pod may still store (storage_limit minus what it holds), null for no limit (→ ENOSPC). */
  spaceLeft?(): number | null;
  /** The cluster's space after redundancy, for statfs; undefined while unknown (then: this pod's disk). */
  clusterSpace?(): ClusterSpace | undefined;
  log: Logger;
}

export interface FileServiceOptions {
  pool?: HashPool;
  /** The directory whose disk the pod stores on (statfs reports its capacity). */
  dataDir: string;
  /**
   * false (default): a metadata operation resolves once it is on disk. true: it resolves once
   * applied in memory (and sent to peers); the group commit writes it in the background and
   * `durable()` waits for it. Set through `deferringDurability()`.
   */
  deferDurability?: boolean;
}

/** Owner of a new entry: the user who made it, see docs/mount.md "Ownership". */
export interface Owner {
  uid: number;
  gid: number;
}

export interface CommitOptions {
  mtimeMs?: number;
  /** For a file that does not exist yet. */
  mode?: number;
  owner?: Owner;
}

/** Content in the store, not yet referenced by the namespace: `release` drops its lease. */
export interface StoredVersion {
  written: WrittenVersion;
  release(): void;
}

/** A version recorded as a file's content, on its way to replicas. */
export interface Committed {
  written: WrittenVersion;
  /**
   * Settles when the pod acknowledges the write per `write_ack`. It never goes unhandled (a
   * rejection is logged), but awaiting it still rejects.
   */
  acknowledged: Promise<void>;
}

export interface AttrChanges {
  mode?: number;
  uid?: number;
  gid?: number;
  mtimeMs?: number;
}

export interface FsStats {
  blockSize: number;
  totalBytes: number;
  freeBytes: number;
  availableBytes: number;
  files: number;
  freeFiles: number;
  nameMax: number;
}

/** A POSIX-coded error (err.code = "ENOENT", ...) as every layer below src/fs raises them. */
export class FileError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "FileError";
  }
}

export class FileService {
  /** A background metadata write that failed (deferred mode): every later write and durable() fail with it. */
  private persistenceFailure: FileError | undefined;

  constructor(
    /** Built with `emptyVersion: EMPTY_VERSION`, so new files point at a stored manifest. */
    private readonly namespace: Namespace,
    private readonly chunks: ChunkStore,
    private readonly meta: MetaPort,
    private readonly ports: FileServicePorts,
    private readonly options: FileServiceOptions,
  ) {}

  /**
   * The same files, for the mount: metadata operations return before their fsync (the group
   * commit writes them moments later, in order); `durable()` is the fsync(2) barrier.
   */
  deferringDurability(): FileService {
    return new FileService(this.namespace, this.chunks, this.meta, this.ports, { ...this.options, deferDurability: true });
  }

  /**
   * Calls `listener` in the same synchronous step as every change of the namespace (local or
   * remote; `touched`: its inodes) and of the cluster registry (no `touched`: its config rules
   * may change how paths resolve). Returns the function that unsubscribes.
   */
  onChange(listener: (touched?: ReadonlySet<string>) => void): () => void {
    const offNamespace = this.namespace.onChange((touched) => listener(touched));
    const offRegistry = this.namespace.registry.onChange(() => listener());
    return () => {
      offNamespace();
      offRegistry();
    };
  }

  // ---- reads of the namespace (in memory, synchronous) ----------------------------------

  lookup(path: string): Entry | undefined {
    return this.namespace.lookup(path);
  }

  stat(path: string): Entry {
    const entry = this.namespace.lookup(path);
    if (!entry) throw notFound(path);
    return entry;
  }

  readdir(path: string): Entry[] {
    return this.namespace.readdir(path);
  }

  readlink(path: string): string {
    const entry = this.stat(path);
    if (entry.kind !== "symlink") throw new FileError("EINVAL", `${path}: not a symbolic link`);
    return entry.symlinkTarget ?? "";
  }

  // ---- metadata writes --------------------------------------------------------------------

  async mkdir(path: string, mode: number, owner: Owner): Promise<void> {
    await this.mutate(path, () => this.namespace.mkdir(path, { mode, ...owner, ...this.stamp() }));
  }

  /** A new empty file (the namespace's `emptyVersion`); resolves to its entry. */
  createFile(path: string, mode: number, owner: Owner): Promise<Entry> {
    return this.mutate(path, () => this.namespace.createFile(path, { mode, ...owner, ...this.stamp() }));
  }

  /**
   * Resolves once every namespace change made so far is on disk; rejects if a metadata write
   * failed (also one made in the background, long ago: the fsync that reports it).
   */
  async durable(): Promise<void> {
    if (this.persistenceFailure) throw this.persistenceFailure;
    await this.meta.flush().catch((err: Error) => {
      throw this.failed(err);
    });
  }

  async symlink(target: string, path: string, owner: Owner): Promise<void> {
    await this.mutate(path, () => this.namespace.symlink(path, target, { mode: 0o777, ...owner, ...this.stamp() }));
  }

  unlink(path: string): Promise<void> {
    return this.mutate(path, () => this.namespace.unlink(path));
  }

  rmdir(path: string): Promise<void> {
    return this.mutate(path, () => this.namespace.rmdir(path));
  }

  async rename(from: string, to: string): Promise<void> {
    this.assertWritable(from);
    await this.mutate(to, () => this.namespace.rename(from, to));
  }

  async setattr(path: string, changes: AttrChanges): Promise<void> {
    const attr: Partial<Attr> = { ctimeMs: Date.now() };
    if (changes.mode !== undefined) attr.mode = changes.mode & 0o7777;
    if (changes.uid !== undefined) attr.uid = changes.uid;
    if (changes.gid !== undefined) attr.gid = changes.gid;
    if (changes.mtimeMs !== undefined) attr.mtimeMs = changes.mtimeMs;
    await this.mutate(path, () => this.namespace.setattr(path, attr));
  }

  /**
   * Throws EFBIG when a file at `path` would grow to `size`, ENOSPC when `adding` more bytes
   * do not fit in the pod's storage limit.
   */
  assertFits(path: string, size: number, adding: number): void {
    const max = this.ports.maxFileSize?.(path) ?? null;
    if (max !== null && size > max) {
      throw new FileError("EFBIG", `${path}: ${size} bytes is over the cluster's max_size of ${max} bytes`);
    }
    const left = this.ports.spaceLeft?.() ?? null;
    if (left !== null && adding > left) {
      throw new FileError("ENOSPC", `${path}: this pod's storage_limit is reached (${left} bytes left): free space or raise the limit in pod.toml`);
    }
  }

  /** Throws EROFS when `path` may not be written now (frozen cluster, read-only rule). */
  assertWritable(path: string): void {
    if (this.ports.writeMode(path) === "read-only") {
      throw new FileError("EROFS", `${path}: read-only (the cluster is frozen or a rule makes this path read-only)`);
    }
  }

  // ---- content ---------------------------------------------------------------------------

  /**
   * A reader of one version that holds a lease on its chunks until closed (an open file pins
   * its version, so gc cannot delete it under an open-unlink-read). Missing chunks are pulled.
   */
  openVersion(version: string): Promise<VersionReader> {
    return VersionReader.open(this.chunks, version || EMPTY_VERSION, (id) => this.pull(id, version));
  }

  /** The reader of a file's current content (an empty file needs no stored manifest). */
  openContent(entry: Entry): Promise<VersionReader> {
    return this.openVersion(entry.size === 0 ? EMPTY_VERSION : entry.version);
  }

  async readRange(target: Entry | string, offset: number, length: number): Promise<Buffer> {
    const reader = await (typeof target === "string" ? this.openVersion(target) : this.openContent(target));
    try {
      return await reader.read(offset, length);
    } finally {
      reader.close();
    }
  }

  /** Chunks `source` into the store (off the main thread); the lease keeps gc away until recorded. */
  async store(source: VersionSource): Promise<StoredVersion> {
    const lease = this.chunks.lease();
    try {
      const written = await writeVersion(this.chunks, source, { lease, pool: this.options.pool });
      await this.ports.stored(written.version);
      return { written, release: () => lease.release() };
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  /**
   * Makes a stored version the content of a file, durably, then waits for the pod's write
   * acknowledgement (`afterLocalWrite`) in `acknowledged`. `inode` (an open file's) wins over `path`, so a file renamed on
   * another pod while open here still gets its new content; if that inode is gone, the content
   * goes to `path` (recreated if needed), never lost. The chunks stay leased until the pod has
   * acknowledged the version (belt and braces: `stored` already put it in the outbox).
   */
  async record(target: string | { path: string; inode?: string }, stored: StoredVersion, options: CommitOptions = {}): Promise<Committed> {
    const { path, inode } = typeof target === "string" ? { path: target, inode: undefined } : target;
    const { version, size } = stored.written;
    try {
      this.assertWritable(path);
      this.assertFits(path, size, 0);
      const attr: Partial<Attr> = { mtimeMs: options.mtimeMs ?? Date.now(), ctimeMs: Date.now() };
      await this.mutate(path, () => {
        // Not inside namespace.batch(): a commit reads the resolved view, which batch defers,
        // so a setattr after the write would write back the head from before it.
        const existing = inode !== undefined && this.namespace.stat(inode) ? inode : this.namespace.lookup(path) ? path : undefined;
        if (existing === undefined) {
          this.namespace.createFile(path, { mode: options.mode ?? 0o644, ...(options.owner ?? ownerOfProcess()), ...attr }, { version, size });
        } else {
          this.namespace.setattr(existing, attr);
          this.namespace.write(existing, { version, size });
        }
      });
      // Durable before it returns, in deferred mode too: the content already is (its chunks
      // are synced), and a file whose close returned must survive a crash of the pod, not
      // come back empty. Only metadata-only changes are left to the background commit.
      await this.durable();
    } catch (err) {
      stored.release();
      throw err;
    }
    const acknowledged = this.ports.afterLocalWrite(version).finally(() => stored.release());
    acknowledged.catch((err: Error) => this.ports.log.warn(`${path}: version ${version} is saved here but not acknowledged yet: ${err.message}`));
    return { written: stored.written, acknowledged };
  }

  /** `store` + `record`. Does not wait for replication: await `acknowledged` for that. */
  async commit(target: string | { path: string; inode?: string }, source: VersionSource, options: CommitOptions = {}): Promise<Committed> {
    const path = typeof target === "string" ? target : target.path;
    this.assertWritable(path);
    if (typeof source === "string") {
      const size = (await stat(source)).size;
      this.assertFits(path, size, size);
    }
    return this.record(target, await this.store(source), options);
  }

  /** `commit`, resolving once the write is acknowledged per `write_ack`: the CLI's put. */
  async writeFile(path: string, source: VersionSource, options: CommitOptions = {}): Promise<WrittenVersion> {
    const committed = await this.commit(path, source, options);
    await committed.acknowledged;
    return committed.written;
  }

  /** The cluster's space (what `df` on the mount shows), or this pod's disk while that is unknown. */
  async statfs(): Promise<FsStats> {
    const disk = await statfsAsync(this.options.dataDir);
    const cluster = this.ports.clusterSpace?.();
    // The cluster's free space is what new files can take: df's free and available alike.
    const space = cluster ? { totalBytes: cluster.totalBytes, freeBytes: cluster.availableBytes, availableBytes: cluster.availableBytes } : this.localSpace(disk);
    return {
      blockSize: disk.bsize,
      totalBytes: space.totalBytes,
      freeBytes: space.freeBytes,
      availableBytes: space.availableBytes,
      files: disk.files,
      freeFiles: disk.ffree,
      nameMax: 255,
    };
  }

  /** This pod's disk; with a storage_limit, the pod's share of it, so `df` shows what fits. */
  private localSpace(disk: { bsize: number; blocks: number; bfree: number; bavail: number }): Pick<FsStats, "totalBytes" | "freeBytes" | "availableBytes"> {
    const left = this.ports.spaceLeft?.() ?? null;
    const limit = left === null ? null : left + this.chunks.usedBytes;
    const cap = (bytes: number) => (left === null ? bytes : Math.min(bytes, left));
    return {
      totalBytes: limit === null ? disk.blocks * disk.bsize : Math.min(limit, disk.blocks * disk.bsize),
      freeBytes: cap(disk.bfree * disk.bsize),
      availableBytes: cap(disk.bavail * disk.bsize),
    };
  }

  // ---- internals ---------------------------------------------------------------------------

  private stamp(): Pick<Attr, "mtimeMs" | "ctimeMs"> {
    const now = Date.now();
    return { mtimeMs: now, ctimeMs: now };
  }

  /**
   * EROFS check, the namespace operation, then durable metadata before acknowledging — or, when
   * deferring, a watch on the background write: its failure is logged once and fails every
   * later write and `durable()` (the updates it carried are not on disk; see GroupCommit).
   */
  private async mutate<T>(path: string, op: () => T): Promise<T> {
    this.assertWritable(path);
    if (this.persistenceFailure) throw this.persistenceFailure;
    const result = op();
    if (!this.options.deferDurability) {
      await this.meta.flush();
      return result;
    }
    // A create may still be held back from the documents (Namespace `createBatchMs`): watch from when it is not.
    this.namespace
      .createsApplied()
      .then(() => this.meta.settled())
      .catch((err: Error) => this.failed(err));
    return result;
  }

  /** Records (and logs, once) that metadata stopped reaching the disk. */
  private failed(err: Error): FileError {
    if (!this.persistenceFailure) {
      this.persistenceFailure = new FileError("EIO", err.message);
      this.ports.log.error(`metadata is no longer saved to disk: ${err.message}. Changes made since are lost at the next restart; writes and fsync on the mount now fail with EIO`);
    }
    return this.persistenceFailure;
  }

  /** A chunk missing locally: pulled from a holder, then kept in the store as cache. */
  private async pull(id: string, version: string): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await this.ports.fetchChunk(id, version);
    } catch (err) {
      throw new FileError("EIO", `chunk ${id} is not on this pod and no holder answered: ${(err as Error).message}`);
    }
    this.chunks.putVerified(id, data).catch((err: Error) => this.ports.log.warn(`could not cache pulled chunk ${id}: ${err.message}`));
    return data;
  }
}

/**
 * ENOENT without a stack trace: every create starts with a lookup that misses, so this is a
 * hot path, and capturing the stack was ~1% of a create.
 */
function notFound(path: string): FileError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new FileError("ENOENT", `${path}: no such file or directory`);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function ownerOfProcess(): Owner {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}
