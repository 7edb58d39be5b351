// Joining, on real pod processes: a fourth pod joins with an invite and takes its share;
// an expired invite, a forged invite and an unknown key are refused, and the refused pod
// received no namespace data at all.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Cluster, PodProcess, waitFor, wormholeOk } from "../helpers/cluster.js";

const cluster = new Cluster();
let a: PodProcess;
const FILES = 60;

before(async () => {
  const source = join(cluster.root, "source");
  mkdirSync(source);
  for (let i = 0; i < FILES; i++) writeFileSync(join(source, `f${i}`), randomBytes(1000 + i));
  a = await cluster.seed("a", ["--redundancy", "2"]);
  await cluster.join("b", a);
  await cluster.join("c", a);
  await a.cli(["put", source, "/data"]);
});

after(() => cluster.dispose());

/** A pod prepared with `prepare`, started, given time to try, and checked to hold nothing of the cluster. */
async function assertRefused(
  name: string,
  prepare: (data: string) => Promise<void>,
  ownMembers: string[] = [],
  refusal = /refused by peer/,
): Promise<void> {
  const pod = new PodProcess(name, cluster.dataDir(name));
  await prepare(pod.data);
  cluster.pods.push(pod);
  await pod.start();
  await waitFor(`${name} to be refused`, () => refusal.test(pod.output), 10_000);
  const status = await pod.status();
  assert.equal(status.files.total, 0, `${name} must not have received any file`);
  assert.deepEqual(
    status.pods.map((p) => p.name),
    ownMembers,
    `${name} must not have received the membership list`,
  );
  const ls = JSON.parse(await pod.cli(["ls", "/", "--json"])) as { entries: unknown[] };
  assert.deepEqual(ls.entries, []);
  assert.ok(!(await a.status()).pods.some((p) => p.name === name), `${name} must not have become a member`);
  await pod.kill();
}

test("a fourth pod joins with an invite and receives its share", async () => {
  const d = await cluster.join("d", a);
  await waitFor("d to see every file", async () => (await d.status()).files.total === FILES);
  await waitFor("d to hold its share", async () => (await d.status()).pods.find((p) => p.name === "d")!.usedBytes > 10_000, 20_000);
  const out = join(cluster.root, "from-d");
  await d.cli(["get", "/data", out]);
  assert.equal(readFileSync(join(out, "f7")).length, 1007);
  await waitFor("every pod to list d as up", async () => (await a.status()).pods.find((p) => p.name === "d")?.state === "up");
});

test("an expired invite is refused", async () => {
  const invite = (await a.cli(["invite", "--expires", "2s"])).trim();
  await assertRefused("expired", async (data) => {
    await wormholeOk(["join", invite, "--data", data, "--listen", "127.0.0.1:0", "--name", "expired"]);
    await new Promise((r) => setTimeout(r, 2_500)); // valid at join, expired by the first dial
  });
});

test("a forged invite is refused", async () => {
  const invite = (await a.cli(["invite", "--expires", "10m"])).trim();
  // Same claims, someone else's signature: flip the last character of the signature.
  const forged = invite.slice(0, -2) + (invite.at(-2) === "A" ? "B" : "A") + invite.at(-1);
  await assertRefused("forged", async (data) => {
    await wormholeOk(["join", forged, "--data", data, "--listen", "127.0.0.1:0", "--name", "forged"]);
  });
});

test("an unknown key without an invite is refused", async () => {
  const aAddress = (await a.status()).pods.find((p) => p.name === "a")?.address;
  assert.ok(aAddress, "A advertises its address");
  await assertRefused(
    "stranger",
    async (data) => {
      // A pod of its own one-pod cluster with the same name, pointed at A.
      await wormholeOk(["init", "--cluster", "test", "--data", data, "--listen", "127.0.0.1:0", "--name", "stranger"]);
      const podToml = join(data, "pod.toml");
      writeFileSync(podToml, readFileSync(podToml, "utf8").replace(/^peers = \[\]/m, `peers = ["${aAddress}"]`));
    },
    ["stranger"],
    // Each side is a stranger to the other, so both refuse at once: the stranger reports
    // A's refusal or its own, whichever verdict lands first.
    /refused by peer|is not a member of cluster/,
  );
});

test("a removed pod is refused from then on and its files keep their copies elsewhere", async () => {
  const c = cluster.pods.find((p) => p.name === "c")!;
  assert.match(await a.cli(["remove", "c"]), /removed c/);
  await waitFor("c to be cut off", () => /was removed from cluster/.test(c.output), 15_000);
  await waitFor("every file on 2 remaining pods", async () => {
    const entries = (JSON.parse(await a.cli(["ls", "/data", "--json"])) as { entries: { replicas?: number }[] }).entries;
    return entries.length === FILES && entries.every((e) => e.replicas === 2);
  }, 20_000);
  assert.equal((await a.status()).pods.find((p) => p.name === "c")?.state, "left");
  await c.kill();
});

test("a pinned directory is kept whole on the pod that pinned it: readable with every other pod gone", async () => {
  const d = cluster.pods.find((p) => p.name === "d")!;
  assert.match(await d.cli(["pin", "/data"]), /pinned \/data/);
  const ls = JSON.parse(await d.cli(["ls", "/data", "--json"])) as { entries: { pinned?: boolean }[] };
  assert.ok(ls.entries.every((e) => e.pinned), "ls marks pinned entries");
  await waitFor("d to fetch every pinned file", async () => (await d.status()).pendingFetches === 0 && (await d.status()).pods.find((p) => p.self)!.usedBytes >= 60 * 1000, 20_000);
  for (const pod of cluster.pods.filter((p) => p !== d)) await pod.kill("SIGKILL");
  const out = join(cluster.root, "pinned-copy");
  await d.cli(["get", "/data", out]);
  for (let i = 0; i < FILES; i++) assert.equal(readFileSync(join(out, `f${i}`)).length, 1000 + i);
});
