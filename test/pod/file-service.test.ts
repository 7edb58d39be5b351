// The pod's file service over real chunk stores in temp dirs: content pulled from a holder
// when missing locally (and cached), EIO when no holder answers, EROFS, durable metadata,
// write acknowledgement, and the CLI's tree copies.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ChunkStore, HashPool, writeVersion } from "../../src/store/index.js";
import type { FileServicePorts } from "../../src/pod/file-service.js";
import { getTree, putTree, removeTree } from "../../src/pod/file-transfer.js";
import { fileRoutes } from "../../src/pod/file-routes.js";
import { UserError } from "../../src/pod/user-error.js";
import { createLogger } from "../../src/pod/log.js";
import { Namespace } from "../../src/crdt/index.js";
import { run } from "../helpers/mount-harness.js";
import { openPodFiles, type PodFiles } from "../helpers/pod-files.js";

const roots: string[] = [];
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
  await HashPool.shared().close();
});

const opened: PodFiles[] = [];
after(async () => {
  for (const pod of opened) await pod.close();
});

async function setup(ports: Partial<FileServicePorts> = {}) {
  const root = await mkdtemp(join(tmpdir(), "wormhole-fsvc-"));
  roots.push(root);
  const pod = await openPodFiles(root, ports);
  opened.push(pod);
  return { root, ...pod };
}

describe("FileService", () => {
  it("pulls chunks missing locally from a holder, verified, and keeps them as cache", async () => {
    const holderRoot = await mkdtemp(join(tmpdir(), "wormhole-holder-"));
    roots.push(holderRoot);
    const holder = await ChunkStore.open(holderRoot);
    const content = randomBytes(5 * 1024 * 1024);
    const { version, size, chunks: list } = await writeVersion(holder, Readable.from([content]));
    const pulled: string[] = [];
    const { files, chunks, namespace } = await setup({
      fetchChunk: async (id) => {
        pulled.push(id);
        return holder.get(id);
      },
    });
    namespace.createFile("/remote.bin", {}, { version, size });

    assert.deepEqual(await files.readRange(files.stat("/remote.bin"), 0, size), content);
    assert.deepEqual(await files.readRange(version, 1_000_000, 10), content.subarray(1_000_000, 1_000_010));
    assert.ok(pulled.includes(version) && list.every((c) => pulled.includes(c.id)), "manifest and every chunk pulled");
    for (const c of list) {
      for (let i = 0; i < 100 && !(await chunks.has(c.id)); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(await chunks.has(c.id), `chunk ${c.id} cached locally`);
    }
  });

  it("answers EIO when no holder is reachable", async () => {
    const { files, namespace } = await setup();
    namespace.createFile("/lost.bin", {}, { version: "ab".repeat(32), size: 10 });
    await assert.rejects(files.readRange(files.stat("/lost.bin"), 0, 10), (err: NodeJS.ErrnoException) => err.code === "EIO" && /no holder/.test(err.message));
  });

  it("answers EROFS for every write while read-only, and reads still work", async () => {
    let mode: "ok" | "read-only" = "ok";
    const { files } = await setup({ writeMode: () => mode });
    await files.commit("/a.txt", Readable.from([Buffer.from("a")]));
    mode = "read-only";
    const erofs = (err: NodeJS.ErrnoException) => err.code === "EROFS";
    await assert.rejects(files.commit("/a.txt", Readable.from([Buffer.from("b")])), erofs);
    await assert.rejects(files.mkdir("/d", 0o755, { uid: 0, gid: 0 }), erofs);
    await assert.rejects(files.unlink("/a.txt"), erofs);
    await assert.rejects(files.rename("/a.txt", "/b.txt"), erofs);
    await assert.rejects(files.setattr("/a.txt", { mode: 0o600 }), erofs);
    assert.equal((await files.readRange(files.stat("/a.txt"), 0, 1)).toString(), "a");
  });

  it("answers EFBIG past max_size and ENOSPC past the storage limit", async () => {
    let left = 1000;
    const { root, files } = await setup({ maxFileSize: () => 10, spaceLeft: () => left });
    await files.commit("/ten", Readable.from([Buffer.alloc(10)]));
    await assert.rejects(files.commit("/eleven", Readable.from([Buffer.alloc(11)])), (err: NodeJS.ErrnoException) => err.code === "EFBIG");
    assert.equal(files.lookup("/eleven"), undefined, "nothing recorded");
    left = 5;
    const local = join(root, "six");
    await writeFile(local, "123456");
    await assert.rejects(files.commit("/six", local), (err: NodeJS.ErrnoException) => err.code === "ENOSPC" && /storage_limit/.test(err.message));
    const fsStats = await files.statfs();
    assert.ok(fsStats.availableBytes <= 5);
  });

  it("persists metadata before acknowledging, and writeFile waits for the write acknowledgement", async () => {
    let acknowledge!: () => void;
    const acked = new Set<string>();
    const { files, meta } = await setup({
      afterLocalWrite: (version) =>
        new Promise<void>((resolve) => {
          acknowledge = () => {
            acked.add(version);
            resolve();
          };
        }),
    });
    const before = meta.batchCount;
    await files.mkdir("/dir", 0o750, { uid: 7, gid: 8 });
    assert.ok(meta.batchCount > before, "the mkdir was written and fsync'ed before mkdir resolved");
    let done = false;
    const writing = files.writeFile("/dir/f", Readable.from([Buffer.from("content")])).then((w) => ((done = true), w));
    while (!acknowledge) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, "not acknowledged yet");
    acknowledge();
    const written = await writing;
    assert.ok(acked.has(written.version));
    assert.equal(files.stat("/dir/f").size, 7);
    assert.equal(files.stat("/dir").attr.uid, 7);
  });

  it("deferring durability (the mount's mode): acknowledges before the fsync, durable() waits for it", async () => {
    const { files: synced, meta } = await setup();
    const files = synced.deferringDurability();
    const before = meta.batchCount;
    await files.mkdir("/d", 0o755, { uid: 0, gid: 0 });
    await files.createFile("/d/f", 0o644, { uid: 0, gid: 0 });
    await files.rename("/d/f", "/d/g");
    assert.equal(meta.batchCount, before, "nothing was waited for on disk");
    assert.equal(files.stat("/d/g").kind, "file", "applied in memory at once");
    await files.durable();
    assert.ok(meta.batchCount > before, "durable() waited for the group commit");
    await files.commit("/d/h", Readable.from([Buffer.from("hh")]));
    await files.durable();
    const afterFsync = meta.batchCount;
    await synced.mkdir("/e2", 0o755, { uid: 0, gid: 0 });
    assert.ok(meta.batchCount > afterFsync, "the CLI's service still waits for its fsync");
  });

  it("a create held back from the namespace's documents (write-behind) is on disk once durable() returns", async () => {
    const root = await mkdtemp(join(tmpdir(), "wormhole-fsvc-"));
    roots.push(root);
    const pod = await openPodFiles(root, {}, 3_600_000); // only a flush can apply the batch
    opened.push(pod);
    const files = pod.files.deferringDurability();
    await files.createFile("/held", 0o640, { uid: 3, gid: 4 });
    assert.equal(files.stat("/held").kind, "file", "in the view at once");
    const inDocuments = () => Namespace.buildView(pod.namespace.docs).lookup(["held"]) !== undefined;
    assert.equal(inDocuments(), false, "held back from the documents");
    const before = pod.meta.batchCount;
    await files.durable();
    assert.equal(inDocuments(), true, "durable() applied the held create");
    assert.ok(pod.meta.batchCount > before, "and wrote it");
    await pod.close();
    opened.pop();
    const again = await openPodFiles(root);
    opened.push(again);
    assert.deepEqual({ ...again.files.stat("/held").attr, mtimeMs: 0, ctimeMs: 0 }, { mode: 0o640, uid: 3, gid: 4, mtimeMs: 0, ctimeMs: 0 });
  });

  it("fails durable() and every later write with EIO once a background metadata write failed", async () => {
    const errors: string[] = [];
    const log = { ...createLogger("test", "error"), error: (m: string) => errors.push(m) };
    const { files: synced, meta } = await setup({ log });
    opened.pop(); // its database is closed below: nothing to close after the tests
    const files = synced.deferringDurability();
    await files.mkdir("/ok", 0o755, { uid: 0, gid: 0 });
    await files.durable();
    // The disk going away under the pod, cheaply: the level database closes beneath the MetaStore.
    await (meta as unknown as { db: { close(): Promise<void> } }).db.close();
    await files.mkdir("/lost", 0o755, { uid: 0, gid: 0 });
    const eio = (err: NodeJS.ErrnoException) => err.code === "EIO" && /metadata write failed/.test(err.message);
    await assert.rejects(files.durable(), eio);
    await assert.rejects(files.durable(), eio, "and again: the failure is sticky");
    await assert.rejects(files.createFile("/next", 0o644, { uid: 0, gid: 0 }), eio);
    assert.equal(errors.filter((m) => /no longer saved to disk/.test(m)).length, 1, `logged once: ${errors.join("\n")}`);
  });
});

describe("tree transfers (CLI put/get/rm)", () => {
  it("puts a local tree in and gets it back identical", async () => {
    const { root, files } = await setup();
    const src = join(root, "src");
    await mkdir(join(src, "a", "b"), { recursive: true });
    await writeFile(join(src, "empty"), "");
    await writeFile(join(src, "a", "small"), "small");
    await writeFile(join(src, "a", "b", "big"), randomBytes(3 * 1024 * 1024 + 5));
    await symlink("a/small", join(src, "link"));
    const put = await putTree(files, src, "/copy");
    assert.deepEqual(put, { files: 3, bytes: 3 * 1024 * 1024 + 10 });
    await assert.rejects(putTree(files, src, "/copy"), (err: NodeJS.ErrnoException) => err.code === "EEXIST");
    const back = join(root, "back");
    const got = await getTree(files, "/copy", back);
    assert.deepEqual(got, put);
    await run("diff", ["-r", "--no-dereference", src, back]);
  });

  it("removes a tree only when asked to recurse", async () => {
    const { files } = await setup();
    await files.mkdir("/t", 0o755, { uid: 0, gid: 0 });
    await files.mkdir("/t/u", 0o755, { uid: 0, gid: 0 });
    await files.commit("/t/u/f", Readable.from([Buffer.from("x")]));
    await assert.rejects(removeTree(files, "/t", false), (err: NodeJS.ErrnoException) => err.code === "ENOTEMPTY");
    assert.equal(await removeTree(files, "/t", true), 3);
    assert.equal(files.lookup("/t"), undefined);
  });
});

describe("admin file routes", () => {
  it("lists, and turns file-system errors into user errors with a hint", async () => {
    const { files } = await setup();
    await files.mkdir("/docs", 0o755, { uid: 0, gid: 0 });
    await files.commit("/docs/b.txt", Readable.from([Buffer.from("bb")]));
    await files.commit("/docs/a.txt", Readable.from([Buffer.from("a")]), { mtimeMs: Date.UTC(2020, 0, 1) });
    const routes = fileRoutes(files, (entry) => ({ pinned: entry.name === "a.txt" }));
    const listing = await routes["GET /ls"]({ path: "/docs" });
    assert.equal(listing.type, "dir");
    assert.deepEqual(
      listing.entries.map((e) => [e.name, e.type, e.size, e.pinned]),
      [
        ["a.txt", "file", 1, true],
        ["b.txt", "file", 2, false],
      ],
    );
    assert.equal(listing.entries[0]!.mtime, "2020-01-01T00:00:00.000Z");
    assert.equal((await routes["GET /ls"]({ path: "/docs/b.txt" })).entries[0]!.name, "b.txt");
    await assert.rejects(routes["GET /ls"]({ path: "/nope" }), (err: unknown) => err instanceof UserError && err.status === 404);
    await assert.rejects(routes["POST /rm"]({ path: "/docs" }), (err: unknown) => err instanceof UserError && err.status === 409 && /--recursive/.test(err.hint));
    assert.equal((await routes["POST /rm"]({ path: "/docs", recursive: true })).removed, 3);
  });
});
