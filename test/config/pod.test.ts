import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkConfigFile, ConfigError, defaultClusterConfig, defaultPodConfig, loadClusterConfig, loadPodConfig, parseClusterConfig, parsePodConfig, renderClusterConfig, renderPodConfig } from "../../src/config/index.js";

test("pod: defaults for a full pod", () => {
  const cfg = parsePodConfig('[pod]\nname = "nas-1"\ndata_dir = "/srv/wh"\n', "/etc/wormhole/pod.toml");
  assert.deepEqual(cfg, {
    pod: { name: "nas-1", role: "full", listen: { host: "0.0.0.0", port: 7420 }, dataDir: "/srv/wh", peers: [], storageLimitBytes: null, metrics: null },
    mount: { path: null, allowOther: false, defaultPermissions: true, kernelCacheMs: 1000 },
    cache: { maxSizeBytes: 10 * 2 ** 30 },
    affinity: { replicas: 1, new: 1, hot: 1, cold: 1 },
    client: { keep: [], offlineReadTimeoutMs: 2000 },
  });
});

const CLIENT = `[pod]
name = "laptop"
role = "client"
data_dir = "data"
peers = ["nas.lan:7420", "[fe80::1]:7420", "192.168.1.2:7421"]
metrics = "127.0.0.1:0"

[mount]
path = "../mnt"
allow_other = true
default_permissions = false
kernel_cache = "0s"

[cache]
max_size = "512MiB"

[client]
keep = ["/Documents/**", "/Photos/{2024,2025}/**"]
offline_read_timeout = "500ms"
`;

test("pod: a client pod, relative paths resolved against the file's directory", () => {
  const cfg = parsePodConfig(CLIENT, "/home/a/.config/wormhole/pod.toml");
  assert.deepEqual(cfg.pod, {
    name: "laptop",
    role: "client",
    listen: null,
    dataDir: "/home/a/.config/wormhole/data",
    peers: [
      { host: "nas.lan", port: 7420 },
      { host: "fe80::1", port: 7420 },
      { host: "192.168.1.2", port: 7421 },
    ],
    storageLimitBytes: null,
    metrics: { host: "127.0.0.1", port: 0 },
  });
  assert.deepEqual(cfg.mount, { path: "/home/a/.config/mnt", allowOther: true, defaultPermissions: false, kernelCacheMs: 0 });
  assert.equal(cfg.cache.maxSizeBytes, 512 * 2 ** 20);
  assert.deepEqual(cfg.client, { keep: ["/Documents/**", "/Photos/{2024,2025}/**"], offlineReadTimeoutMs: 500 });
});

test("pod: a full pod with every key", () => {
  const cfg = parsePodConfig(
    '[pod]\nname = "n"\nlisten = "127.0.0.1:0"\ndata_dir = "/d"\nstorage_limit = 1000000\nmetrics = "[::1]:9420"\n[affinity]\nreplicas = 0\nnew = 2.5\nhot = 100\ncold = 0.1\n',
    "pod.toml",
  );
  assert.deepEqual(cfg.pod.listen, { host: "127.0.0.1", port: 0 });
  assert.equal(cfg.pod.storageLimitBytes, 1_000_000);
  assert.deepEqual(cfg.pod.metrics, { host: "::1", port: 9420 });
  assert.deepEqual(cfg.affinity, { replicas: 0, new: 2.5, hot: 100, cold: 0.1 });
});

test("pod: addresses are strict", () => {
  const bad = ["nas", "nas:", ":7420", "nas:http", "ws://nas:7420", "::1:7420", "300.1.1.1:7420", "1.2.3:7420", "-nas:7420", "nas:0", "[zz]:7420", "nas lan:7420"];
  for (const address of bad) {
    assert.throws(() => parsePodConfig(`[pod]\nname = "n"\ndata_dir = "/d"\npeers = [${JSON.stringify(address)}]\n`, "pod.toml"), (e: unknown) => e instanceof ConfigError && e.code === "bad-address", address);
  }
});

test("render: a rendered pod config parses back to the same config", () => {
  for (const [source, file] of [
    [CLIENT, "/home/a/.config/wormhole/pod.toml"],
    ['[pod]\nname = "nas-1"\ndata_dir = "/srv/wh"\n', "/etc/pod.toml"],
    ['[pod]\nname = "n"\nlisten = "[::]:7000"\ndata_dir = "/d"\nstorage_limit = "3TB"\nmetrics = "0.0.0.0:9000"\npeers = ["a:1"]\n[affinity]\nhot = 3\n[mount]\npath = "/m"\n[cache]\nmax_size = 12345\n', "/etc/pod.toml"],
  ]) {
    const cfg = parsePodConfig(source, file);
    const rendered = renderPodConfig(cfg);
    assert.deepEqual(parsePodConfig(rendered, "/elsewhere/pod.toml"), cfg, rendered);
  }
});

test("load and check: kinds are told apart, unreadable and ambiguous files are clear errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "wormhole-config-"));
  try {
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const cluster = write("a.toml", '[cluster]\nname = "acme"\n');
    const pod = write("b.toml", '[pod]\nname = "p"\ndata_dir = "d"\n');
    const rulesOnly = write("c.toml", '[[rules]]\npath = "/a"\nkeep = true\n');
    const mixed = write("d.toml", '[cluster]\nname = "acme"\n[pod]\nname = "p"\n');
    const empty = write("e.toml", "# nothing\n");
    assert.deepEqual(checkConfigFile(cluster), { kind: "cluster", config: loadClusterConfig(cluster) });
    const checkedPod = checkConfigFile(pod);
    assert.equal(checkedPod.kind, "pod");
    assert.equal(loadPodConfig(pod).pod.dataDir, join(dir, "d"));
    assert.throws(() => checkConfigFile(rulesOnly), (e: unknown) => e instanceof ConfigError && e.code === "missing-key" && /missing table \[cluster\]/.test(e.message));
    assert.throws(() => checkConfigFile(mixed), (e: unknown) => e instanceof ConfigError && e.code === "unknown-kind" && /mixes cluster tables \(\[cluster\]\) and pod tables \(\[pod\]\)/.test(e.message));
    assert.throws(() => checkConfigFile(empty), (e: unknown) => e instanceof ConfigError && e.code === "unknown-kind" && e.file === empty);
    assert.throws(() => loadPodConfig(join(dir, "missing.toml")), (e: unknown) => e instanceof ConfigError && e.code === "io" && /ENOENT/.test(e.message) && e.message.includes("missing.toml"));
    mkdirSync(join(dir, "sub"));
    assert.throws(() => loadClusterConfig(join(dir, "sub")), (e: unknown) => e instanceof ConfigError && e.code === "io" && /not of its directory/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("untrusted input: random bytes give a ConfigError, never another exception", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = ['[', ']', '"', "'", "=", ".", "\n", " ", "#", "{", "}", ",", "a", "pod", "cluster", "name", "1", "rules", "[[rules]]", "path", '"/x"', "keep", "true", "\\", '"""'];
  for (let i = 0; i < 1000; i++) {
    const text = Array.from({ length: 1 + Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    for (const parse of [parsePodConfig, parseClusterConfig]) {
      try {
        parse(text, "fuzz.toml");
      } catch (e) {
        assert.ok(e instanceof ConfigError, `${JSON.stringify(text)} threw ${String(e)}`);
        assert.ok(e.line >= 1, `${JSON.stringify(text)} gave line ${e.line}`);
      }
    }
  }
});

test("defaults for init and join: built with the same checks as a file", () => {
  const cluster = defaultClusterConfig("acme");
  assert.equal(cluster.cluster.redundancy, 2);
  assert.deepEqual(parseClusterConfig(renderClusterConfig(cluster), "w.toml"), cluster);
  assert.throws(() => defaultClusterConfig("my cluster"), (e: unknown) => e instanceof ConfigError && e.key === "cluster.name" && e.file === "<command line>");
  const laptop = defaultPodConfig({ name: "laptop", role: "client", dataDir: "/home/a/.wormhole", peers: ["nas:7420"], mount: "/home/a/W" });
  assert.equal(laptop.pod.listen, null);
  assert.deepEqual(laptop.pod.peers, [{ host: "nas", port: 7420 }]);
  assert.equal(laptop.mount.path, "/home/a/W");
  assert.deepEqual(parsePodConfig(renderPodConfig(laptop), "/x/pod.toml"), laptop);
  assert.throws(() => defaultPodConfig({ name: "laptop", role: "client", dataDir: "/d" }), (e: unknown) => e instanceof ConfigError && e.key === "pod.peers");
  assert.throws(() => defaultPodConfig({ name: "n", dataDir: "/d", peers: ["nas"] }), (e: unknown) => e instanceof ConfigError && e.code === "bad-address" && /"nas:7420"/.test(e.message));
});
