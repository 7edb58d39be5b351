// syncfs(2) for one filesystem, batched: the bulk path of durable chunk writes.
//
// Per-file fdatasync of ~1000 new files costs ~1000 ext4 journal commits and disk cache
// flushes; one syncfs writes every dirty page back and commits the journal once. We then still
// fdatasync every file (cheap: its pages are clean and its blocks committed, measured 60–120 ms
// for 900 files), so each chunk keeps its own error report and the durability rule stays
// "fdatasync, rename, sync the new name" — syncfs only makes those calls cheap.
//
// Node has no syncfs binding: coreutils' `sync --file-system <path>` calls it, run by a
// long-lived shell (SyncfsRunner), never spawnSync on the pod's thread.
//
// The trade-off: syncfs flushes every dirty page of the filesystem, also other programs'. On a
// disk busy with other writers, one sync can take longer than our own data needs.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import type { FileHandle } from "node:fs/promises";
import { fsyncDir, syncAndClose } from "./durable-fs.js";

/**
 * Runs syncfs on one filesystem through a long-lived shell. Spawning from the pod itself would
 * stall its event loop: fork() of a Node process holding 1.5 GB blocked the caller 70–300 ms
 * per spawn (measured), and a large write needs a sync every few hundred ms. The shell is
 * spawned once, while the process is still small, and forks only the tiny `sync` per request.
 * It exits when our end of its stdin closes (also when this process dies).
 */
export class SyncfsRunner {
  private child?: ChildProcessByStdio<Writable, Readable, null>;
  private readonly replies: ((ok: boolean) => void)[] = [];
  private pending = "";
  /** The shell could not be started (no `sh`): stay on the per-file fallback, do not retry. */
  private unavailable = false;

  constructor(private readonly path: string) {}

  /** Starts the shell now (cheap while the process is small); later calls reuse it. */
  start(): void {
    if (this.child || this.unavailable) return;
    const child = spawn("sh", ["-c", SCRIPT, "wormhole-syncfs", this.path], { stdio: ["pipe", "pipe", "ignore"] });
    this.child = child;
    child.unref();
    child.stdin.on("error", () => {}); // a dead shell answers through "exit" below
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      this.pending += text;
      let newline: number;
      while ((newline = this.pending.indexOf("\n")) >= 0) {
        const line = this.pending.slice(0, newline);
        this.pending = this.pending.slice(newline + 1);
        this.replies.shift()?.(line === "ok");
      }
    });
    const gone = () => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const reply of this.replies.splice(0)) reply(false);
    };
    child.on("error", () => {
      this.unavailable = true;
      gone();
    });
    child.on("exit", gone);
    this.setRef(false);
  }

  /** syncfs(2) of the filesystem holding `path`; false if it could not run or failed. */
  sync(): Promise<boolean> {
    this.start();
    const child = this.child;
    if (!child) return Promise.resolve(false);
    return new Promise((resolve) => {
      // Keep the process alive while a sync is outstanding, not while the shell merely waits.
      if (this.replies.length === 0) this.setRef(true);
      this.replies.push((ok) => {
        if (this.replies.length === 0) this.setRef(false);
        resolve(ok);
      });
      child.stdin.write("sync\n");
    });
  }

  private setRef(on: boolean): void {
    const child = this.child;
    if (!child) return;
    for (const handle of [child, child.stdin, child.stdout] as { ref?: () => void; unref?: () => void }[]) {
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }
}

/** The shell loop: one `sync --file-system "$1"` per input line, answering ok or fail. */
const SCRIPT = 'while read -r _; do if sync --file-system -- "$1"; then echo ok; else echo fail; fi; done';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A written temp file: made durable, then published (renamed) by `publish`. */
interface StagedFile extends Waiter {
  handle: FileHandle;
  /** Renames the file into place; returns the directory whose entry must become durable. */
  publish: () => Promise<string>;
  /** Undo after a failed sync: remove the temp file. */
  discard: () => Promise<void>;
}

/** A directory entry made (rename, mkdir) that must become durable. */
interface PendingEntry extends Waiter {
  dir: string;
}

/**
 * Group commit over syncfs. Each round runs one syncfs, which makes durable both the data of
 * the files staged before it and the renames published before it; then the staged files are
 * fdatasync'ed (cheap now), renamed, and wait for the next round. While one syncfs runs, the
 * next round's files pile up, so a large write needs a handful of syncs, not one per file,
 * and the disk writes back while the caller is still cutting and hashing.
 */
export class FileSystemCommit {
  private staged: StagedFile[] = [];
  private entries: PendingEntry[] = [];
  private readonly publishing = new Set<Promise<void>>();
  private running = false;
  private readonly syncfs: SyncfsRunner;

  constructor(root: string) {
    this.syncfs = new SyncfsRunner(root);
  }

  /** Starts the syncfs helper early, while the process is small (see SyncfsRunner). */
  prepare(): void {
    this.syncfs.start();
  }

  /** Resolves once `file` was fdatasync'ed, published and its new directory entry is durable. */
  commit(file: Omit<StagedFile, keyof Waiter>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.staged.push({ ...file, resolve, reject });
      this.kick();
    });
  }

  /** Resolves once a change already made in `dir` (e.g. a mkdir) is durable. */
  entryDurable(dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.entries.push({ dir, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
      if (this.staged.length || this.entries.length) this.kick();
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      if (!this.staged.length && !this.entries.length) {
        // Nothing else queued: let the renames in progress finish and share one round.
        if (!this.publishing.size) return;
        await Promise.all(this.publishing); // publish() never rejects: it rejects its waiter
        continue;
      }
      const files = this.staged;
      const entries = this.entries;
      this.staged = [];
      this.entries = [];
      const synced = await this.syncfs.sync();
      await Promise.all(entries.map((entry) => this.settleEntry(entry, synced)));
      // Publishing overlaps the next round's syncfs: a rename joins the first round that
      // starts after it completed.
      for (const file of files) {
        const publishing = this.publish(file).finally(() => this.publishing.delete(publishing));
        this.publishing.add(publishing);
      }
    }
  }

  /** Durable after this round's syncfs; without one (no `sync` binary, or it failed), by fsync of the directory. */
  private async settleEntry(entry: PendingEntry, synced: boolean): Promise<void> {
    try {
      if (!synced) await fsyncDir(entry.dir);
      entry.resolve();
    } catch (err) {
      entry.reject(err);
    }
  }

  /** fdatasync (cheap after syncfs; does the work without it), rename; acknowledged after the next round. */
  private async publish(file: StagedFile): Promise<void> {
    try {
      try {
        await syncAndClose(file.handle);
      } catch (err) {
        await file.discard().catch(() => {});
        throw err;
      }
      const dir = await file.publish();
      this.entries.push({ dir, resolve: file.resolve, reject: file.reject });
    } catch (err) {
      file.reject(err);
    }
  }
}
