// POSIX behaviour of a real mount, driven from this process while a child process serves it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { run, startMountedPod, TEST_CLUSTER_CONFIG, type MountedPod } from "../helpers/mount-harness.js";

const MiB = 1024 * 1024;
/** The largest file of the cp -r tree (CI may lower it with WORMHOLE_TEST_BIG_MIB). */
const BIG = Number(process.env.WORMHOLE_TEST_BIG_MIB ?? 50) * MiB;
const DIR_ENTRIES = Number(process.env.WORMHOLE_TEST_DIR_ENTRIES ?? 10_000);

let pod: MountedPod;

before(async () => {
  // TEST_CLUSTER_CONFIG: /ro/*.txt read-only, max_size 100 MiB. allow_other: other uids may enter.
  pod = await startMountedPod({ allowOther: true });
  await fs.chmod(pod.root, 0o755); // mkdtemp's 0700 would stop other users before the mount
});
after(async () => {
  if (process.env.WORMHOLE_TEST_POD_LOG) console.log(pod?.output());
  await pod?.dispose();
});

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

/** A file's recorded version, read by the pod itself (`wormhole get`), not through the mount. */
async function committed(path: string): Promise<Buffer> {
  const local = join(pod.root, `got-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await pod.cli(["get", `/${path}`, local]);
  try {
    return await fs.readFile(local);
  } finally {
    await fs.rm(local, { force: true });
  }
}

describe("a mounted pod", () => {
  it("copies a tree of mixed sizes in and out unchanged (cp -r, diff -r)", async () => {
    const src = join(pod.root, "tree");
    const sizes = [0, 1, 4095, 4096, 128 * 1024 + 7, MiB + 3, 5 * MiB, BIG];
    await fs.mkdir(join(src, "sub", "deeper"), { recursive: true });
    await fs.mkdir(join(src, "empty-dir"));
    for (const [i, size] of sizes.entries()) {
      const dir = i % 3 === 0 ? src : i % 3 === 1 ? join(src, "sub") : join(src, "sub", "deeper");
      await fs.writeFile(join(dir, `f${i}-${size}.bin`), randomBytes(size));
    }
    await fs.symlink("sub/deeper", join(src, "link"));
    await run("cp", ["-a", src, pod.at("tree")]);
    await run("diff", ["-r", "--no-dereference", src, pod.at("tree")]);
    const back = join(pod.root, "back");
    await run("cp", ["-a", pod.at("tree"), back]);
    await run("diff", ["-r", "--no-dereference", src, back]);
  });

  it("appends", async () => {
    const f = pod.at("append.txt");
    await fs.writeFile(f, "one\n");
    await fs.appendFile(f, "two\n");
    await fs.appendFile(f, "three\n");
    assert.equal(await fs.readFile(f, "utf8"), "one\ntwo\nthree\n");
  });

  it("keeps a file written front to back readable and editable while open (streamed, not staged)", async () => {
    const f = pod.at("streamed.bin");
    const expected = randomBytes(6 * MiB + 5);
    const h = await fs.open(f, "w+");
    await h.write(expected, 0, 3 * MiB, 0); // streamed into the chunker, no staging copy
    const back = Buffer.alloc(3 * MiB);
    await h.read(back, 0, back.length, 0); // a read ends the stream: its version becomes the base
    assert.ok(back.equals(expected.subarray(0, 3 * MiB)), "streamed bytes read back before close");
    await h.write(expected, 3 * MiB, 3 * MiB + 5, 3 * MiB); // appended on top, staged
    const patch = randomBytes(1000);
    patch.copy(expected, MiB + 17);
    await h.write(patch, 0, patch.length, MiB + 17); // an edit inside the streamed range
    await h.sync();
    // Read through the pod, not the kernel's page cache (which holds what this process wrote).
    assert.ok((await committed("streamed.bin")).equals(expected), "the fsync'ed version");
    await h.truncate(2 * MiB);
    await h.close();
    assert.ok((await committed("streamed.bin")).equals(expected.subarray(0, 2 * MiB)));

    // Closed mid-stream, then rewritten from scratch: each close records exactly what was written.
    await fs.writeFile(f, expected);
    assert.ok((await fs.readFile(f)).equals(expected));
    const h2 = await fs.open(f, "r+");
    await h2.truncate(0);
    await h2.write(expected, 0, MiB, 0);
    await h2.close();
    assert.ok((await committed("streamed.bin")).equals(expected.subarray(0, MiB)));
  });

  it("keeps holes of sparse writes as zeros, before and after close", async () => {
    const f = pod.at("sparse.bin");
    const h = await fs.open(f, "w+");
    await h.write(Buffer.from("head"), 0, 4, 0);
    await h.write(Buffer.from("tail"), 0, 4, 3 * MiB);
    const mid = Buffer.alloc(16);
    await h.read(mid, 0, 16, MiB);
    assert.deepEqual(mid, Buffer.alloc(16), "hole reads as zeros while open");
    await h.close();
    const all = await fs.readFile(f);
    assert.equal(all.length, 3 * MiB + 4);
    assert.equal(all.subarray(0, 4).toString(), "head");
    assert.equal(all.subarray(3 * MiB).toString(), "tail");
    assert.ok(all.subarray(4, 3 * MiB).every((b) => b === 0));
  });

  it("truncates down and up (zeros past the old end, never the old bytes)", async () => {
    const f = pod.at("trunc.bin");
    const data = randomBytes(2 * MiB);
    await fs.writeFile(f, data);
    await fs.truncate(f, 1000);
    assert.deepEqual(await fs.readFile(f), data.subarray(0, 1000));
    await fs.truncate(f, 5000);
    const grown = await fs.readFile(f);
    assert.equal(grown.length, 5000);
    assert.deepEqual(grown.subarray(0, 1000), data.subarray(0, 1000));
    assert.ok(grown.subarray(1000).every((b) => b === 0));
    // ftruncate on an open handle, then write past it
    const h = await fs.open(f, "r+");
    await h.truncate(10);
    await h.write(Buffer.from("X"), 0, 1, 20);
    await h.close();
    const final = await fs.readFile(f);
    assert.equal(final.length, 21);
    assert.deepEqual(final.subarray(0, 10), data.subarray(0, 10));
    assert.ok(final.subarray(10, 20).every((b) => b === 0));
    assert.equal(final.subarray(20).toString(), "X");
  });

  it("renames over an existing file, and moves directories across directories", async () => {
    await fs.writeFile(pod.at("r-src.txt"), "new");
    await fs.writeFile(pod.at("r-dst.txt"), "old");
    await fs.rename(pod.at("r-src.txt"), pod.at("r-dst.txt"));
    assert.equal(await fs.readFile(pod.at("r-dst.txt"), "utf8"), "new");
    assert.equal(await errorCode(fs.stat(pod.at("r-src.txt"))), "ENOENT");

    await fs.mkdir(pod.at("ra/inner"), { recursive: true });
    await fs.mkdir(pod.at("rb"));
    await fs.writeFile(pod.at("ra/inner/f.txt"), "moved");
    await fs.rename(pod.at("ra/inner"), pod.at("rb/inner2"));
    assert.equal(await fs.readFile(pod.at("rb/inner2/f.txt"), "utf8"), "moved");
    assert.deepEqual(await fs.readdir(pod.at("ra")), []);
  });

  it("refuses to remove a non-empty directory (ENOTEMPTY) and a missing one (ENOENT)", async () => {
    await fs.mkdir(pod.at("full"));
    await fs.writeFile(pod.at("full/x"), "x");
    assert.equal(await errorCode(fs.rmdir(pod.at("full"))), "ENOTEMPTY");
    assert.equal(await errorCode(fs.rmdir(pod.at("nope"))), "ENOENT");
    assert.equal(await errorCode(fs.mkdir(pod.at("full"))), "EEXIST");
    assert.equal(await errorCode(fs.readFile(pod.at("full"))), "EISDIR");
    assert.equal(await errorCode(fs.readdir(pod.at("full/x"))), "ENOTDIR");
  });

  it("keeps reading a file that was unlinked while open", async () => {
    const data = randomBytes(3 * MiB);
    await fs.writeFile(pod.at("doomed.bin"), data);
    const h = await fs.open(pod.at("doomed.bin"), "r");
    await fs.unlink(pod.at("doomed.bin"));
    assert.equal(await errorCode(fs.stat(pod.at("doomed.bin"))), "ENOENT");
    assert.ok(!(await fs.readdir(pod.mnt)).some((n) => n.startsWith(".fuse_hidden") || n === "doomed.bin"));
    const back = Buffer.alloc(data.length);
    const { bytesRead } = await h.read(back, 0, back.length, 0);
    assert.equal(bytesRead, data.length);
    assert.deepEqual(back, data);
    assert.equal((await h.stat()).size, data.length);
    await h.close();
  });

  it("merges the writes of two handles on one file", async () => {
    const f = pod.at("two-handles.txt");
    await fs.writeFile(f, "..........");
    const a = await fs.open(f, "r+");
    const b = await fs.open(f, "r+");
    await a.write("AAA", 0);
    await b.write("BBB", 7);
    const seen = Buffer.alloc(10);
    await b.read(seen, 0, 10, 0);
    assert.equal(seen.toString(), "AAA....BBB", "each handle sees the other's writes while open");
    await a.close();
    await b.close();
    assert.equal(await fs.readFile(f, "utf8"), "AAA....BBB");
  });

  it("shows what a write-only handle writes past the page cache to the file's other handles", async () => {
    const f = pod.at("write-only.bin");
    await fs.writeFile(f, Buffer.alloc(MiB, "a"));
    // Write-only handles bypass the page cache (direct I/O); a reader's cached pages must not hide their writes.
    const writer = await fs.open(f, constants.O_WRONLY);
    const reader = await fs.open(f, "r");
    await reader.read(Buffer.alloc(MiB), 0, MiB, 0); // now in the kernel's page cache
    const at = async (position: number) => {
      const got = Buffer.alloc(3);
      const { bytesRead } = await reader.read(got, 0, 3, position);
      return got.subarray(0, bytesRead).toString();
    };
    await writer.write("XYZ", 0, "latin1");
    await writer.write("QQQ", 500_000, "latin1");
    assert.deepEqual([await at(0), await at(500_000), await at(4096)], ["XYZ", "QQQ", "aaa"]);
    await writer.write("END", MiB, "latin1"); // past the end the reader cached
    assert.equal(await at(MiB), "END");
    assert.equal((await reader.stat()).size, MiB + 3);
    await writer.close();
    await reader.close();
    const whole = await fs.readFile(f);
    assert.equal(whole.length, MiB + 3);
    assert.deepEqual([whole.subarray(0, 3).toString(), whole.subarray(500_000, 500_003).toString(), whole.subarray(MiB).toString()], ["XYZ", "QQQ", "END"]);
  });

  it("keeps every byte of concurrent out-of-order writes to several files", async () => {
    // Written back to front, so nothing streams: each write is staged after other requests
    // went through the binding's receive buffer, which its payload came in.
    const BLOCK = 128 * 1024;
    const files = Array.from({ length: 6 }, (_, i) => ({ path: pod.at(`backwards-${i}.bin`), content: randomBytes(16 * BLOCK) }));
    await Promise.all(
      files.map(async ({ path, content }) => {
        const h = await fs.open(path, "w");
        for (let at = content.length - BLOCK; at >= 0; at -= BLOCK) await h.write(content, at, BLOCK, at);
        await h.close();
      }),
    );
    for (const { path, content } of files) assert.ok((await fs.readFile(path)).equals(content), `${path} reads back as written`);
  });

  it(`lists a directory of ${DIR_ENTRIES} entries`, async () => {
    const dir = pod.at("many");
    await fs.mkdir(dir);
    const names = Array.from({ length: DIR_ENTRIES }, (_, i) => `entry-${i}`);
    for (let i = 0; i < names.length; i += 64) {
      await Promise.all(names.slice(i, i + 64).map((n) => fs.writeFile(join(dir, n), "")));
    }
    const listed = await fs.readdir(dir);
    assert.equal(listed.length, DIR_ENTRIES);
    assert.deepEqual(new Set(listed), new Set(names));
  });

  it("stores mode, owner and times (utimensat with one time omitted changes the other)", async () => {
    const f = pod.at("attrs.txt");
    await fs.writeFile(f, "a");
    await fs.chmod(f, 0o640);
    await fs.chown(f, 1234, 5678);
    let st = await fs.stat(f);
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.mode & constants.S_IFMT, constants.S_IFREG);
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 5678);

    const mtime = new Date("2005-05-05T05:05:05.123Z");
    await fs.utimes(f, new Date("2001-01-01T00:00:00Z"), mtime);
    st = await fs.stat(f);
    // Times are carried as float milliseconds, and utimes' float seconds may round down by one.
    assert.ok(Math.abs(st.mtimeMs - mtime.getTime()) <= 1, `mtime ${st.mtimeMs} != ${mtime.getTime()}`);
    // `touch -a` sets atime with mtime = UTIME_OMIT: mtime must stay.
    await run("touch", ["-a", "-d", "2010-10-10", f]);
    assert.equal((await fs.stat(f)).mtimeMs, st.mtimeMs);
    // `touch -m` sets mtime with atime = UTIME_OMIT (the setattr then carries no atime).
    await run("touch", ["-m", "-d", "2011-11-11T11:11:11Z", f]);
    assert.equal((await fs.stat(f)).mtimeMs, Date.parse("2011-11-11T11:11:11Z"));
    // UTIME_NOW: `touch -m` without a date.
    const before = Date.now();
    await run("touch", ["-m", f]);
    assert.ok(Math.abs((await fs.stat(f)).mtimeMs - before) < 5_000, "mtime is now");
    // chown with -1 leaves that id alone
    await run("chown", [":4321", f]);
    st = await fs.stat(f);
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 4321);
  });

  it("lets the kernel check each user's rights (allow_other + default_permissions)", async () => {
    const [ALICE, BOB] = [4001, 4002];
    /** Runs a shell command as another user (no account needed: setpriv sets the ids). */
    const as = (uid: number, command: string) => run("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "sh", "-c", `umask 022; ${command}`]);
    const home = pod.at("home-alice");
    await fs.mkdir(home);
    await fs.chown(home, ALICE, ALICE);
    // A file alice creates in her directory is hers.
    await as(ALICE, `echo mine > ${home}/mine.txt && mkdir ${home}/sub`);
    for (const path of ["mine.txt", "sub"]) {
      const st = await fs.stat(join(home, path));
      assert.deepEqual([st.uid, st.gid], [ALICE, ALICE], `${path} belongs to alice`);
    }
    // In a shared directory (root's, mode 1777 like /tmp) each user's entries are their own:
    // the owner is the caller of the request, not the directory's owner.
    const shared = pod.at("shared");
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o1777);
    await as(ALICE, `echo a > ${shared}/alice.txt && ln -s alice.txt ${shared}/alice-link`);
    await as(BOB, `mkdir ${shared}/bob-dir`);
    const owners = async (path: string) => {
      const st = await fs.lstat(join(shared, path));
      return [st.uid, st.gid];
    };
    assert.deepEqual(await owners("alice.txt"), [ALICE, ALICE]);
    assert.deepEqual(await owners("alice-link"), [ALICE, ALICE]);
    assert.deepEqual(await owners("bob-dir"), [BOB, BOB]);
    // The sticky bit: bob may not delete alice's file in the shared directory.
    await assert.rejects(as(BOB, `rm -f ${shared}/alice.txt`), /Operation not permitted/);
    // A set-group-ID directory gives new entries its group, and new directories its bit.
    const team = pod.at("team");
    await fs.mkdir(team);
    await fs.chown(team, 0, 4100);
    await fs.chmod(team, 0o2777);
    await as(BOB, `touch ${team}/bob.txt && mkdir ${team}/bob-sub`);
    assert.deepEqual([(await fs.stat(join(team, "bob.txt"))).uid, (await fs.stat(join(team, "bob.txt"))).gid], [BOB, 4100]);
    const sub = await fs.stat(join(team, "bob-sub"));
    assert.deepEqual([sub.uid, sub.gid, sub.mode & 0o2000], [BOB, 4100, 0o2000]);
    assert.equal((await fs.stat(join(home, "mine.txt"))).mode & 0o777, 0o644);
    // bob may read it (0644), not write it nor create files in her 0755 directory.
    assert.equal((await as(BOB, `cat ${home}/mine.txt`)).stdout, "mine\n");
    await assert.rejects(as(BOB, `echo bob >> ${home}/mine.txt`), /Permission denied/);
    await assert.rejects(as(BOB, `touch ${home}/bobs.txt`), /Permission denied/);
    await assert.rejects(as(BOB, `chmod 666 ${home}/mine.txt`), /Operation not permitted/);
    // The owner may chmod: then bob cannot even read it, alice still can.
    await as(ALICE, `chmod 600 ${home}/mine.txt && echo more >> ${home}/mine.txt`);
    await assert.rejects(as(BOB, `cat ${home}/mine.txt`), /Permission denied/);
    assert.equal((await as(ALICE, `cat ${home}/mine.txt`)).stdout, "mine\nmore\n");
  });

  it("keeps the mtime cp -p sets on a file it just wrote", async () => {
    const src = join(pod.root, "old.txt");
    await fs.writeFile(src, "old content");
    const when = new Date("1999-09-09T09:09:09.000Z");
    await fs.utimes(src, when, when);
    await run("cp", ["-p", src, pod.at("preserved.txt")]);
    assert.equal((await fs.stat(pod.at("preserved.txt"))).mtimeMs, when.getTime());
  });

  it("makes and reads symlinks", async () => {
    await fs.writeFile(pod.at("target.txt"), "pointed at");
    await fs.symlink("target.txt", pod.at("link"));
    assert.equal(await fs.readlink(pod.at("link")), "target.txt");
    assert.equal(await fs.readFile(pod.at("link"), "utf8"), "pointed at");
    const st = await fs.lstat(pod.at("link"));
    assert.ok(st.isSymbolicLink());
    assert.equal(st.size, "target.txt".length);
    assert.equal(await errorCode(fs.readlink(pod.at("target.txt"))), "EINVAL");
  });

  it("reports the pod's disk in statfs", async () => {
    const mount = await fs.statfs(pod.mnt);
    const disk = await fs.statfs(pod.data);
    assert.ok(mount.blocks > 0 && mount.bsize > 0);
    const total = (s: { blocks: number; bsize: number }) => s.blocks * s.bsize;
    assert.ok(Math.abs(total(mount) - total(disk)) <= mount.bsize, `mount ${total(mount)} vs disk ${total(disk)}`);
  });

  it("answers EROFS under a read-only rule, also after `config apply` freezes everything", async () => {
    await fs.mkdir(pod.at("ro"));
    assert.equal(await errorCode(fs.writeFile(pod.at("ro/new.txt"), "x")), "EROFS");
    assert.equal(await errorCode(fs.symlink("x", pod.at("ro/link.txt"))), "EROFS");
    await fs.writeFile(pod.at("ro/new.bin"), "the rule is for *.txt only");
    assert.equal(await errorCode(fs.rename(pod.at("ro/new.bin"), pod.at("ro/new.txt"))), "EROFS");

    await fs.writeFile(pod.at("frozen.txt"), "before");
    const frozenConfig = join(pod.root, "frozen.toml");
    await fs.writeFile(frozenConfig, `${TEST_CLUSTER_CONFIG}\n[[rules]]\npath = "/**"\nreadonly = true\n`);
    await pod.cli(["config", "apply", frozenConfig]);
    try {
      assert.equal(await errorCode(fs.writeFile(pod.at("frozen.txt"), "after")), "EROFS");
      assert.equal(await errorCode(fs.unlink(pod.at("frozen.txt"))), "EROFS");
      assert.equal(await errorCode(fs.rename(pod.at("frozen.txt"), pod.at("f2.txt"))), "EROFS");
      assert.equal(await errorCode(fs.mkdir(pod.at("newdir"))), "EROFS");
      assert.equal(await fs.readFile(pod.at("frozen.txt"), "utf8"), "before", "reads still work");
    } finally {
      const thawed = join(pod.root, "thawed.toml");
      await fs.writeFile(thawed, TEST_CLUSTER_CONFIG);
      await pod.cli(["config", "apply", thawed]);
    }
    await fs.writeFile(pod.at("frozen.txt"), "after");
    assert.equal(await fs.readFile(pod.at("frozen.txt"), "utf8"), "after");
  });

  it("reads fresh content after a same-size, same-mtime replacement made outside the mount", async () => {
    const f = pod.at("remote.txt");
    await fs.writeFile(f, "abcdefgh");
    assert.equal(await fs.readFile(f, "utf8"), "abcdefgh");
    assert.equal(await fs.readFile(f, "utf8"), "abcdefgh"); // now in the kernel's page cache
    const before = await fs.stat(f);
    // Replaced through the admin API (as a write arriving from another pod would be): same
    // size, same mtime, other bytes.
    const local = join(pod.root, "replacement.txt");
    await fs.writeFile(local, "hgfedcba");
    await fs.utimes(local, before.mtime, before.mtime);
    await pod.cli(["rm", "/remote.txt"]);
    await pod.cli(["put", local, "/remote.txt"]);
    assert.equal(await fs.readFile(f, "utf8"), "hgfedcba");
    assert.equal((await fs.stat(f)).size, before.size);
  });

  it("shows a directory changed outside the mount at the very next system call", async () => {
    // The kernel keeps a directory's attributes (src/fs/kernel-cache.ts); a change made
    // outside the mount, as one arriving from another pod, must drop them at once: no
    // waiting here.
    await fs.mkdir(pod.at("outside"));
    await fs.writeFile(pod.at("outside/f.txt"), "written in the mount\n");
    for (let i = 0; i < 3; i++) assert.ok((await fs.stat(pod.at("outside"))).isDirectory());
    await pod.cli(["rm", "-r", "/outside"]);
    assert.equal(await errorCode(fs.stat(pod.at("outside"))), "ENOENT");
    assert.equal(await errorCode(fs.readFile(pod.at("outside/f.txt"))), "ENOENT");

    const file = join(pod.root, "outside-file");
    await fs.writeFile(file, "a file by that name now\n");
    await pod.cli(["put", file, "/outside"]);
    assert.ok((await fs.stat(pod.at("outside"))).isFile(), "the name is a file now");
    await pod.cli(["rm", "/outside"]);

    const dir = join(pod.root, "outside-dir");
    await fs.mkdir(join(dir, "inner"), { recursive: true });
    await fs.writeFile(join(dir, "inner", "g.txt"), "put from outside\n");
    await pod.cli(["put", dir, "/outside"]);
    assert.ok((await fs.stat(pod.at("outside"))).isDirectory(), "a directory again");
    assert.equal(await fs.readFile(pod.at("outside/inner/g.txt"), "utf8"), "put from outside\n");

    // Its mode changed in the mount shows at once too (a local change drops the cache as well).
    await fs.chmod(pod.at("outside/inner"), 0o750);
    assert.equal((await fs.stat(pod.at("outside/inner"))).mode & 0o777, 0o750);
  });

  it("shows a new file's attributes as they change from its first moment", async () => {
    // Right after its create, the kernel keeps the attributes the create's reply carried
    // (kernel-cache.ts) until a request about that file arrives or the namespace changes.
    const fresh = pod.at("fresh.txt");
    const h = await fs.open(fresh, "w", 0o640);
    const created = await fs.stat(fresh);
    assert.equal(created.size, 0);
    assert.equal(created.mode & 0o777, 0o640);
    await h.write("12345");
    assert.equal((await h.stat()).size, 5, "fstat after a write");
    assert.equal((await fs.stat(fresh)).size, 5, "stat after a write");
    await h.truncate(2);
    assert.equal((await fs.stat(fresh)).size, 2, "stat after ftruncate");
    await fs.chmod(fresh, 0o600);
    assert.equal((await fs.stat(fresh)).mode & 0o777, 0o600, "stat after chmod");
    await h.close();
    assert.equal(await fs.readFile(fresh, "utf8"), "12");

    const moved = await fs.open(pod.at("fresh-a.txt"), "w");
    await fs.rename(pod.at("fresh-a.txt"), pod.at("fresh-b.txt"));
    assert.equal(await errorCode(fs.stat(pod.at("fresh-a.txt"))), "ENOENT", "the old name is gone at once");
    assert.ok((await fs.stat(pod.at("fresh-b.txt"))).isFile());
    await moved.close();

    const removed = await fs.open(pod.at("fresh-c.txt"), "w");
    await pod.cli(["rm", "/fresh-c.txt"]); // as a delete arriving from another pod
    assert.equal(await errorCode(fs.stat(pod.at("fresh-c.txt"))), "ENOENT", "removed outside the mount: gone at once");
    await removed.close();
  });

  it("refuses hard links with EPERM", async () => {
    await fs.writeFile(pod.at("solo.txt"), "x");
    assert.equal(await errorCode(fs.link(pod.at("solo.txt"), pod.at("solo2.txt"))), "EPERM");
  });
});
