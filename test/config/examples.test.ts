// Every shipped example validates, and is recognised as the right kind of file.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkConfigFile, compileRules, loadClusterConfig, loadPodConfig } from "../../src/config/index.js";

const EXAMPLES = new URL("../../../examples/", import.meta.url).pathname;

function tomlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tomlFiles(path);
    return name.endsWith(".toml") ? [path] : [];
  });
}

const files = tomlFiles(EXAMPLES);

test("examples: the four setups are all there", () => {
  for (const setup of ["small-company", "lab-scratch", "web-uploads", "home"]) {
    assert.ok(files.some((f) => f.endsWith(`${setup}/wormhole.toml`)), `${setup}/wormhole.toml`);
    assert.ok(files.some((f) => f.includes(`/${setup}/`) && f.endsWith("pod.toml")), `${setup} has a pod.toml`);
  }
});

for (const file of files) {
  test(`examples: ${file.slice(EXAMPLES.length)} validates`, () => {
    const checked = checkConfigFile(file);
    const expectedKind = file.endsWith("wormhole.toml") ? "cluster" : "pod";
    assert.equal(checked.kind, expectedKind);
    if (checked.kind === "cluster") assert.deepEqual(checked.config, loadClusterConfig(file));
    else assert.deepEqual(checked.config, loadPodConfig(file));
  });
}

test("examples: the home setup behaves as its comments say", () => {
  const cluster = loadClusterConfig(join(EXAMPLES, "home/wormhole.toml"));
  const rule = compileRules(cluster);
  assert.deepEqual(rule("/Documents/taxes/2025.pdf"), { redundancy: 1, conflict: "keep-both", readonly: false, nocache: false, keep: true });
  assert.equal(rule("/Videos/holiday.mkv").nocache, true);
  assert.equal(cluster.failure.unavailable, "continue");
  const alice = loadPodConfig(join(EXAMPLES, "home/laptop-alice/pod.toml"));
  assert.equal(alice.pod.role, "client");
  assert.equal(alice.pod.listen, null);
  assert.equal(alice.cache.maxSizeBytes, 50 * 2 ** 30);
  assert.equal(alice.client.offlineReadTimeoutMs, 2000);
  const nas = loadPodConfig(join(EXAMPLES, "home/nas/pod.toml"));
  assert.deepEqual(nas.pod.listen, { host: "0.0.0.0", port: 7420 });
});

test("examples: web uploads wait for 3 copies and lower redundancy only when at risk", () => {
  const cluster = loadClusterConfig(join(EXAMPLES, "web-uploads/wormhole.toml"));
  assert.equal(cluster.cluster.redundancy, 3);
  assert.equal(cluster.cluster.writeAck, "redundancy");
  assert.equal(cluster.cluster.maxSizeBytes, 2 * 2 ** 30);
  assert.deepEqual(cluster.failure, { degraded: "continue", atRisk: "lower-redundancy", unavailable: "read-only" });
});
