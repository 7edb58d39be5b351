// Mount lifecycle: clean unmount on stop, a crashed pod's dead mount cleared at the next
// start, a live mount never taken over; the durability contract across a SIGKILL.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { startMountedPod, type MountedPod } from "../helpers/mount-harness.js";

const pods: MountedPod[] = [];
after(async () => {
  for (const pod of pods.reverse()) await pod.dispose();
});

async function listed(mnt: string): Promise<boolean> {
  return (await fs.readFile("/proc/mounts", "utf8")).split("\n").some((line) => line.split(" ")[1] === mnt);
}

describe("mount lifecycle", () => {
  it("unmounts cleanly on stop", async () => {
    const pod = await startMountedPod();
    pods.push(pod);
    assert.ok(await listed(pod.mnt));
    await fs.writeFile(pod.at("x"), "x");
    await pod.stop("SIGTERM");
    assert.equal(pod.child.exitCode, 0, pod.output());
    assert.ok(!(await listed(pod.mnt)), "mount gone after stop");
    assert.deepEqual(await fs.readdir(pod.mnt), [], "the bare mountpoint directory is back");
  });

  it("clears the dead mount of a killed pod at the next start, and refuses a live one", async () => {
    const first = await startMountedPod();
    pods.push(first);
    await fs.writeFile(first.at("before-crash"), "x");
    await first.stop("SIGKILL");
    await assert.rejects(fs.stat(first.mnt), (err: NodeJS.ErrnoException) => err.code === "ENOTCONN");
    assert.ok(await listed(first.mnt), "the dead mount is still listed");

    const second = await startMountedPod({ root: first.root });
    pods.push(second);
    assert.match(second.output(), /stale mount/);
    assert.equal(await fs.readFile(second.at("before-crash"), "utf8"), "x", "a file closed before the crash survives it");
    await fs.writeFile(second.at("after-restart"), "fine");
    assert.equal(await fs.readFile(second.at("after-restart"), "utf8"), "fine");

    await assert.rejects(startMountedPod({ mountpoint: second.mnt }), /already mounted and answering/);
    assert.equal(await fs.readFile(second.at("after-restart"), "utf8"), "fine", "the live mount was left alone");
  });

  it("keeps what fsync returned for across a SIGKILL, and every change made before it", async () => {
    const first = await startMountedPod();
    pods.push(first);
    await fs.mkdir(first.at("dir"));
    await fs.writeFile(first.at("dir/closed"), "closed, never fsync'ed");
    await fs.rename(first.at("dir/closed"), first.at("dir/renamed"));
    const handle = await fs.open(first.at("dir/synced"), "w");
    await handle.write("fsync'ed, never closed");
    await handle.sync();
    // A create with no content to commit: only the metadata flush covers it, and the pod may
    // still hold it back from its documents (write-behind for creates) when fsync comes.
    const empty = await fs.open(first.at("dir/empty"), "w");
    await empty.sync();
    await first.stop("SIGKILL"); // at once: no close, no time for a background flush to matter
    await handle.close().catch(() => {}); // the mount is dead (ENOTCONN)
    await empty.close().catch(() => {});

    const second = await startMountedPod({ root: first.root });
    pods.push(second);
    assert.equal(await fs.readFile(second.at("dir/synced"), "utf8"), "fsync'ed, never closed");
    assert.equal(await fs.readFile(second.at("dir/renamed"), "utf8"), "closed, never fsync'ed", "fsync is a barrier for earlier changes too");
    assert.deepEqual((await fs.readdir(second.at("dir"))).sort(), ["empty", "renamed", "synced"]);
  });

  it("keeps a file whose close returned across a SIGKILL right after, without fsync", async () => {
    const first = await startMountedPod();
    pods.push(first);
    await fs.mkdir(first.at("closed"));
    // Metadata traffic alongside keeps the group commit busy with fsyncs, so a close lands
    // while one is in flight: its record would wait for the next one.
    let busy = true;
    const traffic = (async () => {
      for (let i = 0; busy; i++) await fs.mkdir(first.at(`traffic-${i}`)).catch(() => {});
    })();
    const written = new Map<string, Buffer>();
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(4096 + i);
      await fs.writeFile(first.at(`closed/f${i}`), data);
      written.set(`f${i}`, data);
    }
    await first.stop("SIGKILL"); // the moment the last close returned
    busy = false;
    await traffic;

    const second = await startMountedPod({ root: first.root });
    pods.push(second);
    for (const [name, data] of written) assert.ok((await fs.readFile(second.at(`closed/${name}`))).equals(data), `${name} has its content`);
  });
});
