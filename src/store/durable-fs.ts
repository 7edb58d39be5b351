// Small file-system helpers for durable writes: directory fsync, bounded fdatasync, and
// lookups that treat "absent" as an answer rather than an error.
import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { syncPool } from "./sync-pool.js";

/**
 * What one logical write (a put, a whole version) waits for before it is acknowledged: chunk
 * commits still in flight and directories whose new entries must be fsync'ed.
 */
export class WriteBarrier {
  private readonly dirs = new Set<string>();
  private readonly pending: Promise<unknown>[] = [];

  /**
   * `bulk`: chunks are committed in syncfs rounds (FileSystemCommit), worth it for many chunks;
   * otherwise each is fdatasync'ed on its own and its directory fsync'ed in `done()`.
   */
  constructor(readonly bulk = false) {}

  addDir(dir: string): void {
    this.dirs.add(dir);
  }

  track(work: Promise<unknown>): void {
    work.catch(() => {}); // observed in done()
    this.pending.push(work);
  }

  /** Waits for the oldest tracked work until at most `max` are in flight (bounds open temp files). */
  async waitBelow(max: number): Promise<void> {
    while (this.pending.length > max) await this.pending.shift();
  }

  /** Resolves when everything tracked succeeded and the directories are durable; else the first error. */
  async done(): Promise<void> {
    while (this.pending.length) settledOrThrow(await Promise.allSettled(this.pending.splice(0)), () => {});
    const dirs = [...this.dirs];
    this.dirs.clear();
    await Promise.all(dirs.map(fsyncDir));
  }
}

/** fdatasync (in the SyncPool's threads), then close. */
export async function syncAndClose(handle: FileHandle): Promise<void> {
  try {
    await syncPool.datasync(handle.fd);
  } finally {
    await handle.close();
  }
}

/**
 * Values of settled promises; if any rejected, first cleans up every fulfilled value (and
 * runs `always`), then throws the first error.
 */
export function settledOrThrow<T>(results: PromiseSettledResult<T>[], cleanup: (value: T) => unknown, always?: () => unknown): T[] {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (!failed) return results.map((r) => (r as PromiseFulfilledResult<T>).value);
  for (const r of results) if (r.status === "fulfilled") void Promise.resolve(cleanup(r.value)).catch(() => {});
  void Promise.resolve(always?.()).catch(() => {});
  throw failed.reason;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

export async function mkdirIfMissing(dir: string): Promise<boolean> {
  try {
    await fsp.mkdir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
