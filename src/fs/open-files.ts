// File handles and the files open for writing. A handle opened read-only on a file nobody
// writes pins the version it saw at open (close-to-open consistency; its chunks are leased so
// gc cannot delete them, which keeps open-unlink-read working). Once a file is opened for
// writing, every handle on that inode shares one OpenFile, so two handles see each other's
// writes exactly as on a local disk. OpenFiles are keyed by inode, so a rename while open is
// harmless.
import type { FileService, Entry, StoredVersion } from "../pod/file-service.js";
import type { VersionReader } from "../store/index.js";
import { FsError } from "./errno.js";
import type { SequentialFeed } from "./sequential-feed.js";
import { DeferredBase } from "./deferred-base.js";
import { type BaseContent, StagedFile } from "./staged-file.js";

export class OpenFile {
  refs = 0;
  writers = 0;
  /** Acknowledgement (write_ack) of the last version committed from this file. */
  acknowledged: Promise<void> = Promise.resolve();
  /** Front-to-back writes streamed into the chunker as they arrive, and the version it yields. */
  feed: SequentialFeed | undefined;
  streamed: Promise<StoredVersion> | undefined;
  /** Set while a stream is being turned into the staged file's base (see MountOperations.settle). */
  settling: Promise<StoredVersion | undefined> | undefined;
  /** Streamed bytes that could not be saved: every later operation on the file fails with this. */
  failure: Error | undefined;

  constructor(
    readonly inode: string,
    /** Where the file was last seen (open, flush, release): used when committing at unmount. */
    public path: string,
    readonly staged: StagedFile,
  ) {}
}

export interface Handle {
  readonly inode: string;
  readonly writable: boolean;
  readonly file?: OpenFile;
  readonly reader?: VersionReader;
}

export class OpenFiles {
  private readonly handles = new Map<number, Handle>();
  private readonly files = new Map<string, Promise<OpenFile>>();
  private nextId = 1;

  constructor(
    private readonly service: FileService,
    private readonly stagingDir: string,
  ) {}

  /** The OpenFile of `inode` (a promise: it may still be opening), or undefined when it is not open for writing. */
  fileOf(inode: string): Promise<OpenFile> | undefined {
    return this.files.get(inode);
  }

  get(id: number): Handle {
    const handle = this.handles.get(id);
    if (!handle) throw new FsError("EBADF", `no open file handle ${id}`);
    return handle;
  }

  /** Opens `entry` and returns the new handle's id. */
  async open(entry: Entry, writable: boolean): Promise<number> {
    let handle: Handle;
    const shared = this.files.get(entry.inode);
    if (shared || writable) {
      const file = await (shared ?? this.startWriting(entry));
      file.refs++;
      if (writable) file.writers++;
      handle = { inode: entry.inode, writable, file };
    } else {
      handle = { inode: entry.inode, writable, reader: await this.service.openContent(entry) };
    }
    const id = this.allocate();
    this.handles.set(id, handle);
    return id;
  }

  /** Drops handle `id`; the last holder of an OpenFile runs `beforeClose` (commit) and closes it. */
  async release(id: number, beforeClose: (file: OpenFile) => Promise<void>): Promise<void> {
    const handle = this.get(id);
    this.handles.delete(id);
    if (handle.reader) handle.reader.close();
    const file = handle.file;
    if (!file) return;
    file.refs--;
    if (handle.writable) file.writers--;
    if (file.refs > 0) return;
    this.files.delete(file.inode);
    try {
      await beforeClose(file);
    } finally {
      file.feed?.abort("closed before its commit"); // only if the commit failed early: frees its chunker
      await file.staged.close();
    }
  }

  /** Runs `fn` on the OpenFile of `entry`, opening a temporary one if the file is not open. */
  async withFile(entry: Entry, fn: (file: OpenFile) => Promise<void>): Promise<void> {
    const existing = this.files.get(entry.inode);
    if (existing) return fn(await existing);
    const file = await this.startWriting(entry);
    file.refs++;
    try {
      await fn(file);
    } finally {
      file.refs--;
      if (file.refs === 0) {
        this.files.delete(entry.inode);
        await file.staged.close();
      }
    }
  }

  /** Every file still open for writing (committed at unmount). */
  async openForWriting(): Promise<OpenFile[]> {
    return (await Promise.all(this.files.values())).filter((f) => f.writers > 0);
  }

  private startWriting(entry: Entry): Promise<OpenFile> {
    const pending = (async () => {
      const base = entry.size > 0 ? await this.openBase(entry) : undefined;
      return new OpenFile(entry.inode, entry.path, new StagedFile(this.stagingDir, base, entry.attr.mtimeMs));
    })();
    this.files.set(entry.inode, pending);
    pending.catch(() => this.files.delete(entry.inode));
    return pending;
  }

  /** The content being edited; deferred when it is out of reach now (see DeferredBase). */
  private async openBase(entry: Entry): Promise<BaseContent> {
    try {
      return await this.service.openContent(entry);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EIO") throw error;
      return new DeferredBase(entry.size, () => this.service.openContent(entry));
    }
  }

  private allocate(): number {
    // Positive and below 2^31: small, and never 0 (which reads as "no handle" in the kernel's logs).
    do {
      this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    } while (this.handles.has(this.nextId));
    return this.nextId;
  }
}
