// Write-back for one open file. Writes go to a sparse staging file under <data>/staging/;
// the ranges written are tracked, so a file opened for append or a small in-place edit never
// copies the old content: unwritten ranges are read from the base version, and ranges past a
// truncation read as zeros. The new version is produced from `snapshot()` at flush/fsync.
// A file written front to back skips the staging file altogether: its bytes go to the
// streaming commit (`grow`), and once that version exists it becomes the base (`rebase`).
import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ExtentSet } from "./extents.js";
import { RwLock } from "./rw-lock.js";

/** The version a file had when it was opened for writing (a VersionReader fits). */
export interface BaseContent {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  close(): void;
}

/** Bytes handed to the chunker per step when a version is produced. */
const SNAPSHOT_BLOCK = 4 * 1024 * 1024;

export class StagedFile {
  private readonly extents = new ExtentSet();
  private readonly lock = new RwLock();
  /** Bytes of the base still visible: a truncation below it hides the rest for good. */
  private baseLimit: number;
  private closed = false;
  size: number;
  /** Changed since the last snapshot that was committed. */
  dirty = false;
  mtimeMs: number;

  /** Opened at the first write or truncation: most opens (and every create) write nothing. */
  private handle: Promise<FileHandle> | undefined;

  /** Named at the first write as well. */
  private stagingPath: string | undefined;

  constructor(
    /** The staging directory (which must exist). */
    private readonly stagingDir: string,
    private base: BaseContent | undefined,
    mtimeMs: number,
  ) {
    this.size = base?.size ?? 0;
    this.baseLimit = this.size;
    this.mtimeMs = mtimeMs;
  }


  write(data: Buffer, offset: number): Promise<number> {
    return this.lock.shared(async () => {
      const handle = await this.staging();
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
      this.extents.add(offset, offset + data.length);
      this.size = Math.max(this.size, offset + data.length);
      this.touch();
      return data.length;
    });
  }

  /**
   * The file grew to `end` with bytes held elsewhere (the streaming commit), not staged here:
   * they cannot be read until `rebase` makes the version holding them the base.
   */
  grow(end: number): void {
    this.size = Math.max(this.size, end);
    this.touch();
  }

  /**
   * `base` (the version the streaming commit produced) is now the whole unstaged content. Only
   * valid while nothing is staged, which holds while a file is streamed (writes bypass staging).
   */
  rebase(base: BaseContent): void {
    if (this.extents.count > 0) throw new Error("rebase of a staged file that has staged writes");
    this.base?.close();
    this.base = base;
    this.size = base.size;
    this.baseLimit = base.size;
  }

  /** Fills `target[0, length)` from `offset`; returns the bytes read (fewer only at EOF). */
  read(target: Buffer, offset: number, length: number): Promise<number> {
    return this.lock.shared(() => this.readUnlocked(target, offset, length));
  }

  truncate(size: number): Promise<void> {
    return this.lock.exclusive(async () => {
      if (size === this.size) return;
      if (size < this.size) {
        this.extents.cut(size);
        this.baseLimit = Math.min(this.baseLimit, size);
        if (this.handle) await (await this.handle).truncate(size); // give the disk space back
      }
      this.size = size;
      this.touch();
    });
  }

  /**
   * Runs `produce` over a consistent view of the whole content (no write interleaves) and
   * marks the file clean if it succeeds.
   */
  snapshot<T>(produce: (content: AsyncIterable<Buffer>, size: number, mtimeMs: number) => Promise<T>): Promise<T> {
    return this.lock.exclusive(async () => {
      const result = await produce(this.blocks(), this.size, this.mtimeMs);
      this.dirty = false;
      return result;
    });
  }

  /** Closes and deletes the staging file and releases the base version. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.base?.close();
    if (!this.handle) return;
    await (await this.handle).close();
    await fsp.rm(this.stagingPath!, { force: true });
  }

  private staging(): Promise<FileHandle> {
    if (!this.handle) {
      this.stagingPath = join(this.stagingDir, `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`);
      this.handle = fsp.open(this.stagingPath, "w+", 0o600);
    }
    return this.handle;
  }

  private touch(): void {
    this.dirty = true;
    this.mtimeMs = Date.now();
  }

  private async *blocks(): AsyncGenerator<Buffer> {
    for (let pos = 0; pos < this.size; pos += SNAPSHOT_BLOCK) {
      const length = Math.min(SNAPSHOT_BLOCK, this.size - pos);
      const block = Buffer.allocUnsafe(length);
      await this.readUnlocked(block, pos, length);
      yield block;
    }
  }

  private async readUnlocked(target: Buffer, offset: number, length: number): Promise<number> {
    const end = Math.min(offset + length, this.size);
    if (offset >= end) return 0;
    for (const segment of this.extents.segments(offset, end)) {
      const at = segment.start - offset;
      const want = segment.end - segment.start;
      if (segment.staged) {
        await this.readStaged(target, at, want, segment.start);
      } else {
        await this.readBase(target, at, segment.start, segment.end);
      }
    }
    return end - offset;
  }

  private async readStaged(target: Buffer, at: number, length: number, position: number): Promise<void> {
    const handle = await this.staging();
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(target, at + done, length - done, position + done);
      if (bytesRead === 0) break; // cannot happen for a written range; zeros below keep it safe
      done += bytesRead;
    }
    if (done < length) target.fill(0, at + done, at + length);
  }

  /** Unwritten bytes: from the base below `baseLimit`, zeros (a hole) above it. */
  private async readBase(target: Buffer, at: number, start: number, end: number): Promise<void> {
    const fromBase = Math.max(0, Math.min(end, this.baseLimit) - start);
    if (fromBase > 0 && this.base) {
      const bytes = await this.base.read(start, fromBase);
      bytes.copy(target, at);
      if (bytes.length < fromBase) target.fill(0, at + bytes.length, at + fromBase);
    } else if (fromBase > 0) {
      target.fill(0, at, at + fromBase);
    }
    target.fill(0, at + fromBase, at + (end - start));
  }
}
