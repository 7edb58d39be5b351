import assert from "node:assert/strict";
import { test } from "node:test";
import { compileRules, ConfigError, parseClusterConfig, renderClusterConfig, type ClusterConfig } from "../../src/config/index.js";

const FILE = "wormhole.toml";

test("cluster: defaults are filled, numbers in bytes and milliseconds", () => {
  const cfg = parseClusterConfig('[cluster]\nname = "acme"\n', FILE);
  assert.deepEqual(cfg, {
    cluster: { name: "acme", redundancy: 2, conflict: "keep-both", join: "invite", maxSizeBytes: null, admins: [], graceMs: 600_000, writeAck: "local" },
    failure: { degraded: "continue", atRisk: "throttle", unavailable: "read-only" },
    rules: [],
  });
});

test("cluster: every key is read", () => {
  const cfg = parseClusterConfig(
    `[cluster]
name = "web"
redundancy = 3
conflict = "overwrite"
join = "closed"
max_size = "10 GB"
admins = ["podA1234", "podB5678"]
grace = "3s"
write_ack = "redundancy"

[failure]
degraded = "throttle"
at_risk = "lower-redundancy"
unavailable = "stop"

[[rules]]
path = "/tmp/**"
redundancy = 1
conflict = "keep-both"
readonly = false
nocache = true
keep = false
`,
    FILE,
  );
  assert.deepEqual(cfg.cluster, { name: "web", redundancy: 3, conflict: "overwrite", join: "closed", maxSizeBytes: 10e9, admins: ["podA1234", "podB5678"], graceMs: 3000, writeAck: "redundancy" });
  assert.deepEqual(cfg.failure, { degraded: "throttle", atRisk: "lower-redundancy", unavailable: "stop" });
  assert.deepEqual(cfg.rules, [{ path: "/tmp/**", line: 16, redundancy: 1, conflict: "keep-both", readonly: false, nocache: true, keep: false }]);
});

test("cluster: an unknown key inside an inline table is located on its line and column", () => {
  assert.throws(
    () => parseClusterConfig('cluster.name = "acme"\nfailure = { degradd = "stop" }\n', FILE),
    (e: unknown) => e instanceof ConfigError && e.line === 2 && e.column === 13 && e.key === "failure.degradd" && /did you mean `degraded`/.test(e.message),
  );
  const ok = parseClusterConfig('cluster.name = "acme"\ncluster.redundancy = 3\nfailure = { degraded = "stop" }\n', FILE);
  assert.equal(ok.cluster.redundancy, 3);
  assert.equal(ok.failure.degraded, "stop");
});

const RULES = `[cluster]
name = "acme"
redundancy = 2
conflict = "keep-both"

[[rules]]
path = "/projects/**"
redundancy = 3
conflict = "overwrite"

[[rules]]
path = "/projects/*/build/**"
redundancy = 1
nocache = true

[[rules]]
path = "/projects/secret/**"
readonly = true
keep = true

[[rules]]
path = "/**/*.{tmp,swp}"
redundancy = 1
`;

test("rules: cluster defaults, then every matching rule in order, the last one winning per key", () => {
  const effective = compileRules(parseClusterConfig(RULES, FILE));
  assert.deepEqual(effective("/home/a.txt"), { redundancy: 2, conflict: "keep-both", readonly: false, nocache: false, keep: false });
  assert.deepEqual(effective("/projects/x/a.c"), { redundancy: 3, conflict: "overwrite", readonly: false, nocache: false, keep: false });
  assert.deepEqual(effective("/projects/x/build/a.o"), { redundancy: 1, conflict: "overwrite", readonly: false, nocache: true, keep: false });
  // keep and nocache are one caching choice: the later rule's keep clears the earlier nocache.
  assert.deepEqual(effective("/projects/secret/build/k.o"), { redundancy: 1, conflict: "overwrite", readonly: true, nocache: false, keep: true });
  assert.equal(effective("/projects/secret/notes.swp").redundancy, 1);
  assert.equal(effective("/projects/secret/notes.txt").redundancy, 3);
});

test("rules: the lookup does not share state between calls", () => {
  const effective = compileRules(parseClusterConfig(RULES, FILE));
  effective("/projects/x/a.c").redundancy = 99;
  assert.equal(effective("/projects/x/a.c").redundancy, 3);
  const none = compileRules(parseClusterConfig('[cluster]\nname = "a"\n', FILE));
  none("/a").keep = true;
  assert.equal(none("/a").keep, false);
});

function withoutLines(cfg: ClusterConfig) {
  return { ...cfg, rules: cfg.rules.map(({ line: _line, ...rest }) => rest) };
}

test("render: a rendered cluster config parses back to the same config", () => {
  for (const source of [RULES, '[cluster]\nname = "acme"\n', '[cluster]\nname = "x"\nmax_size = 1001\nadmins = ["idA12345"]\ngrace = "1h30m5s"\n[failure]\nat_risk = "stop"\n']) {
    const cfg = parseClusterConfig(source, FILE);
    const rendered = renderClusterConfig(cfg);
    assert.deepEqual(withoutLines(parseClusterConfig(rendered, "rendered.toml")), withoutLines(cfg), rendered);
    assert.match(rendered, /^# wormhole\.toml/);
  }
});
