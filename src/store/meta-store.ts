// Durable metadata of one pod, in one classic-level database:
// - the namespace's Yjs shard documents: every update appended as it happens (durable at
//   the next flush(), or within GroupCommit's lazy delay when nobody asks),
//   compacted into a snapshot in the background, loaded at start;
// - the local indexes: outbox, peer holdings, cache index, local key/value state.
// All writes go through one GroupCommit, so they are ordered and fsync'ed in shared batches.
import { Level } from "level";
import * as Y from "yjs";
import { GroupCommit, type BatchOp } from "./group-commit.js";
import { CacheIndex, LocalState, Outbox, PeerHoldings } from "./meta-indexes.js";

/** Compact a document once this many updates were appended since its last snapshot... */
const COMPACT_AFTER_UPDATES = 2000;
/** ...or once they add up to this many bytes. */
const COMPACT_AFTER_BYTES = 8 * 1024 * 1024;
const DOC_PREFIX = "y!";
const SEQ_DIGITS = 12;
/**
 * First byte of a log entry holding a V1-encoded update. Log entries are V1, the encoding the
 * network uses too, so Yjs encodes each transaction once (encoding it in V2 as well cost ~10%
 * of a create through the mount). Entries written before 2026-12-05 are V2 updates, which
 * always begin with 0 (Yjs's reserved feature flag); snapshots stay V2, the compact one.
 */
const V1_ENTRY = 1;

interface AttachedDoc {
  name: string;
  doc: Y.Doc;
  /** Sequence number of the last update appended (contiguous from snapshotSeq + 1). */
  seq: number;
  /** Updates up to this seq are covered by the stored snapshot and deleted. */
  snapshotSeq: number;
  bytesSinceSnapshot: number;
  compacting: Promise<void> | undefined;
  onUpdate: (update: Uint8Array, origin: unknown) => void;
}

export class MetaStore {
  private readonly docs = new Map<string, AttachedDoc>();
  private readonly flushHooks: Array<() => void> = [];
  private backgroundError: Error | undefined;
  private closed = false;

  private constructor(
    private readonly db: Level<string, Buffer>,
    private readonly commit: GroupCommit,
    readonly outbox: Outbox,
    readonly holdings: PeerHoldings,
    readonly cacheIndex: CacheIndex,
    readonly local: LocalState,
  ) {}

  static async open(dir: string): Promise<MetaStore> {
    const db = new Level<string, Buffer>(dir, { keyEncoding: "utf8", valueEncoding: "buffer" });
    try {
      await db.open();
    } catch (err) {
      throw new Error(`cannot open the metadata database at ${dir}: ${(err as Error).message}. Is another pod using this data directory?`, { cause: err });
    }
    const commit = new GroupCommit(db);
    return new MetaStore(db, commit, await Outbox.load(db, commit), await PeerHoldings.load(db, commit), new CacheIndex(db, commit), new LocalState(db, commit));
  }

  /** How many fsync'ed batches were written (group commit: far fewer than updates). */
  get batchCount(): number {
    return this.commit.batchCount;
  }

  /**
   * Loads the persisted state of document `name` into `doc`, then persists every later update
   * of `doc` (local and remote alike). State `doc` already had before attaching is persisted too.
   */
  async attachDoc(name: string, doc: Y.Doc): Promise<void> {
    if (!name || name.includes("\0")) throw new TypeError(`invalid document name ${JSON.stringify(name)}: must be non-empty, without NUL`);
    if (this.docs.has(name)) throw new Error(`document "${name}" is already attached to this MetaStore`);
    if (this.closed) throw new Error("MetaStore is closed");
    const hadState = doc.store.clients.size > 0;
    const prefix = docPrefix(name);
    const snapshot = await this.db.get(prefix + "s");
    const updates: Uint8Array[] = snapshot ? [snapshot] : [];
    let seq = 0;
    let bytes = 0;
    for await (const [key, value] of this.db.iterator({ gte: prefix + "u", lt: prefix + "v" })) {
      updates.push(value[0] === V1_ENTRY ? Y.convertUpdateFormatV1ToV2(value.subarray(1)) : value);
      seq = parseInt(key.slice(prefix.length + 1), 16);
      bytes += value.length;
    }
    const snapshotSeq = snapshot ? parseSeq(await this.db.get(prefix + "n")) : 0;
    if (updates.length) Y.applyUpdateV2(doc, updates.length === 1 ? updates[0]! : Y.mergeUpdatesV2(updates), this);
    const entry: AttachedDoc = {
      name,
      doc,
      seq: Math.max(seq, snapshotSeq),
      snapshotSeq,
      bytesSinceSnapshot: bytes,
      compacting: undefined,
      onUpdate: (update, origin) => {
        if (origin !== this) this.append(entry, update);
      },
    };
    this.docs.set(name, entry);
    doc.on("update", entry.onUpdate);
    doc.once("destroy", () => {
      if (this.docs.get(name) === entry) this.detachDoc(name);
    });
    if (hadState) this.append(entry, Y.encodeStateAsUpdate(doc));
    else this.maybeCompact(entry);
  }

  /** Stops persisting `name` (already appended updates stay queued and will be written). */
  detachDoc(name: string): void {
    const entry = this.docs.get(name);
    if (!entry) return;
    entry.doc.off("update", entry.onUpdate);
    this.docs.delete(name);
  }

  /**
   * Resolves once every update emitted so far (and every index change) is durable on disk.
   * Rejects if any write, or a background compaction, failed.
   */
  flush(): Promise<void> {
    for (const hook of this.flushHooks) hook();
    return this.afterCommit(() => this.commit.flush());
  }

  /**
   * Runs `hook` at the start of every flush(): a writer that holds document updates back (the
   * namespace's batched creates) emits them, so that the flush covers them too.
   */
  beforeFlush(hook: () => void): void {
    this.flushHooks.push(hook);
  }

  /**
   * Resolves once the updates emitted so far are durable, without hurrying them (they are
   * written within GroupCommit's lazy delay); rejects like flush(). For background watchers.
   */
  settled(): Promise<void> {
    return this.afterCommit(() => this.commit.settled());
  }

  /** Waits for the group commit, failing with a background compaction's error before and after. */
  private async afterCommit(wait: () => Promise<void>): Promise<void> {
    if (this.backgroundError) throw this.backgroundError;
    await wait();
    if (this.backgroundError) throw this.backgroundError;
  }

  /** Folds the document's appended updates into one snapshot, atomically. */
  compact(name: string): Promise<void> {
    const entry = this.docs.get(name);
    if (!entry) return Promise.reject(new Error(`document "${name}" is not attached`));
    return this.runCompaction(entry);
  }

  /** Number of updates appended since the last snapshot (for tests and metrics). */
  pendingUpdates(name: string): number {
    const entry = this.docs.get(name);
    return entry ? entry.seq - entry.snapshotSeq : 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Flush first: its hooks emit held-back updates, which only attached documents persist.
    const flushed = this.flush();
    for (const name of [...this.docs.keys()]) this.detachDoc(name);
    let failure: unknown;
    try {
      await flushed;
    } catch (err) {
      failure = err;
    }
    this.closed = true;
    await this.db.close();
    if (failure) throw failure;
  }

  /** Appends a V1 update to the document's log. */
  private append(entry: AttachedDoc, update: Uint8Array): void {
    entry.seq++;
    entry.bytesSinceSnapshot += update.length;
    const key = docPrefix(entry.name) + "u" + entry.seq.toString(16).padStart(SEQ_DIGITS, "0");
    const value = Buffer.allocUnsafe(update.length + 1);
    value[0] = V1_ENTRY;
    value.set(update, 1);
    // Lazy: whoever needs it durable calls flush(), which takes it along (GroupCommit).
    // Rejections are reported through flush(); the update stays in memory either way.
    this.commit.enqueue([{ type: "put", key, value }], { lazy: true }).catch(() => {});
    this.maybeCompact(entry);
  }

  private maybeCompact(entry: AttachedDoc): void {
    if (entry.compacting) return;
    if (entry.seq - entry.snapshotSeq < COMPACT_AFTER_UPDATES && entry.bytesSinceSnapshot < COMPACT_AFTER_BYTES) return;
    // Off the hot path: the update that crossed the threshold is acknowledged first.
    setImmediate(() => {
      if (this.closed || this.docs.get(entry.name) !== entry) return;
      this.runCompaction(entry).catch((err: Error) => {
        this.backgroundError ??= new Error(`background compaction of "${entry.name}" failed: ${err.message}`, { cause: err });
      });
    });
  }

  /**
   * The snapshot is the document's whole current state, which covers every update appended so
   * far (seq ≤ upTo). It is written in the same ordered queue as the appends, in one atomic
   * batch with the deletion of exactly those updates: a crash leaves either the old snapshot
   * plus all updates, or the new snapshot plus the later ones.
   */
  private runCompaction(entry: AttachedDoc): Promise<void> {
    if (entry.compacting) return entry.compacting;
    const work = (async () => {
      const upTo = entry.seq;
      const from = entry.snapshotSeq + 1;
      const snapshot = Y.encodeStateAsUpdateV2(entry.doc);
      const prefix = docPrefix(entry.name);
      const ops: BatchOp[] = [
        { type: "put", key: prefix + "s", value: Buffer.from(snapshot) },
        { type: "put", key: prefix + "n", value: Buffer.from(String(upTo)) },
      ];
      for (let seq = from; seq <= upTo; seq++) ops.push({ type: "del", key: prefix + "u" + seq.toString(16).padStart(SEQ_DIGITS, "0") });
      entry.snapshotSeq = upTo;
      entry.bytesSinceSnapshot = 0;
      await this.commit.enqueue(ops);
    })();
    entry.compacting = work;
    return work.finally(() => {
      entry.compacting = undefined;
    });
  }
}

function docPrefix(name: string): string {
  return `${DOC_PREFIX}${name}\0`;
}

function parseSeq(raw: Buffer | undefined): number {
  const n = raw ? Number(raw.toString()) : 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`corrupt metadata: snapshot sequence ${JSON.stringify(raw?.toString())} is not a number`);
  return n;
}
