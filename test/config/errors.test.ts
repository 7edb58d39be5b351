// Every class of config error names the file, the line and the key, and shows the line.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseClusterConfig, parsePodConfig, type ConfigErrorCode } from "../../src/config/index.js";

const CLUSTER_FILE = "/etc/wormhole/wormhole.toml";
const POD_FILE = "/etc/wormhole/pod.toml";

interface Case {
  name: string;
  kind: "cluster" | "pod";
  text: string;
  code: ConfigErrorCode;
  line: number;
  column?: number;
  key: string;
  /** Text the message must contain besides the location (the key as the user wrote it, a hint). */
  mentions: string[];
}

const POD_HEAD = '[pod]\nname = "nas-1"\ndata_dir = "/srv/wormhole"\n';

const cases: Case[] = [
  { name: "TOML syntax error", kind: "cluster", text: '[cluster]\nname = "acme"\nredundancy = \n', code: "syntax", line: 3, column: 14, key: "", mentions: ["redundancy = "] },
  { name: "duplicate key (syntax)", kind: "cluster", text: '[cluster]\nname = "a"\nname = "b"\n', code: "syntax", line: 3, key: "", mentions: ["duplicate key", 'name = "b"'] },
  { name: "unknown key with close match", kind: "cluster", text: '[cluster]\nname = "acme"\nredundancy = 2\nredundancy2 = 3\n', code: "unknown-key", line: 4, column: 1, key: "cluster.redundancy2", mentions: ["`redundancy2`", "[cluster]", "did you mean `redundancy`?", "^^^^^^^^^^^"] },
  { name: "unknown key with hyphen for underscore", kind: "cluster", text: '[cluster]\nname = "acme"\nwrite-ack = "local"\n', code: "unknown-key", line: 3, key: "cluster.write-ack", mentions: ["did you mean `write_ack`?"] },
  { name: "unknown key from the other file", kind: "pod", text: POD_HEAD + "redundancy = 3\n", code: "unknown-key", line: 4, key: "pod.redundancy", mentions: ["`redundancy`", "wormhole.toml"] },
  { name: "key in the wrong table", kind: "pod", text: POD_HEAD + "[mount]\nmax_size = \"1GiB\"\n", code: "unknown-key", line: 5, key: "mount.max_size", mentions: ["[cache]"] },
  { name: "key outside any table", kind: "cluster", text: 'redundancy = 2\n[cluster]\nname = "acme"\n', code: "unknown-key", line: 1, key: "redundancy", mentions: ["outside of any table", "[cluster]"] },
  { name: "unknown table", kind: "cluster", text: '[cluster]\nname = "acme"\n[falure]\ndegraded = "stop"\n', code: "unknown-table", line: 3, key: "falure", mentions: ["[falure]", "did you mean `[failure]`?"] },
  { name: "unknown sub-table", kind: "cluster", text: '[cluster]\nname = "acme"\n[cluster.extra]\na = 1\n', code: "unknown-table", line: 3, key: "cluster.extra", mentions: ["[cluster.extra]"] },
  { name: "table of the other file", kind: "pod", text: POD_HEAD + "[failure]\ndegraded = \"stop\"\n", code: "unknown-table", line: 4, key: "failure", mentions: ["[failure]", "wormhole.toml"] },
  { name: "wrong type: quoted number", kind: "cluster", text: '[cluster]\nname = "acme"\nredundancy = "3"\n', code: "wrong-type", line: 3, column: 14, key: "cluster.redundancy", mentions: ["`cluster.redundancy`", "expected an integer, found string", "without quotes"] },
  { name: "wrong type: string for boolean", kind: "pod", text: POD_HEAD + "[mount]\nallow_other = \"yes\"\n", code: "wrong-type", line: 5, key: "mount.allow_other", mentions: ["`mount.allow_other`", "true or false"] },
  { name: "wrong type: table written as key", kind: "cluster", text: 'cluster = 3\n', code: "wrong-type", line: 1, key: "cluster", mentions: ["must be a table"] },
  { name: "wrong type: [rules] instead of [[rules]]", kind: "cluster", text: '[cluster]\nname = "acme"\n[rules]\npath = "/a"\n', code: "wrong-type", line: 3, key: "rules", mentions: ["[[rules]]"] },
  { name: "wrong type: string for list", kind: "pod", text: '[pod]\nname = "nas-1"\ndata_dir = "/srv/w"\npeers = "nas-2:7420"\n', code: "wrong-type", line: 4, key: "pod.peers", mentions: ["`pod.peers`", '["nas-2:7420"]'] },
  { name: "out of range", kind: "cluster", text: '[cluster]\nname = "acme"\nredundancy = 0\n', code: "out-of-range", line: 3, column: 14, key: "cluster.redundancy", mentions: ["`cluster.redundancy`", "from 1 to 16"] },
  { name: "out of range weight", kind: "pod", text: POD_HEAD + "[affinity]\nhot = -1\n", code: "out-of-range", line: 5, key: "affinity.hot", mentions: ["`affinity.hot`", "from 0 to 100"] },
  { name: "invalid enum lists valid values", kind: "cluster", text: '[cluster]\nname = "acme"\nconflict = "keep_both"\n', code: "invalid-enum", line: 3, column: 12, key: "cluster.conflict", mentions: ['"keep-both", "overwrite"', "did you mean `keep-both`?"] },
  { name: "invalid enum in failure", kind: "cluster", text: '[cluster]\nname = "acme"\n[failure]\nat_risk = "panic"\n', code: "invalid-enum", line: 4, key: "failure.at_risk", mentions: ['"continue", "throttle", "read-only", "lower-redundancy", "stop"'] },
  { name: "bad duration unit", kind: "cluster", text: '[cluster]\nname = "acme"\ngrace = "10 minutes"\n', code: "bad-duration", line: 3, column: 9, key: "cluster.grace", mentions: ["`cluster.grace`", '"minutes"', "ms, s, m, h and d"] },
  { name: "duration without unit", kind: "pod", text: '[pod]\nname = "l"\nrole = "client"\ndata_dir = "/d"\npeers = ["nas:7420"]\n[client]\noffline_read_timeout = 5\n', code: "bad-duration", line: 7, key: "client.offline_read_timeout", mentions: ["no unit", '"5s"'] },
  { name: "bad size: ambiguous unit", kind: "pod", text: POD_HEAD + "[cache]\nmax_size = \"10G\"\n", code: "bad-size", line: 5, column: 12, key: "cache.max_size", mentions: ["`cache.max_size`", '"10GB"', '"10GiB"'] },
  { name: "bad size: wrong case", kind: "cluster", text: '[cluster]\nname = "acme"\nmax_size = "5gib"\n', code: "bad-size", line: 3, key: "cluster.max_size", mentions: ['"5GiB"'] },
  { name: "bad glob points into the glob", kind: "cluster", text: '[cluster]\nname = "acme"\n[[rules]]\npath = "/a/**b"\nredundancy = 1\n', code: "bad-glob", line: 4, column: 12, key: "rules[0].path", mentions: ["`rules[0].path`", "whole path segment"] },
  { name: "bad glob in a list", kind: "pod", text: '[pod]\nname = "l"\nrole = "client"\ndata_dir = "/d"\npeers = ["nas:7420"]\n[client]\nkeep = ["/ok/**", "/x/{a,b"]\n', code: "bad-glob", line: 7, key: "client.keep[1]", mentions: ["`client.keep[1]`", "never closed"] },
  { name: "bad address", kind: "pod", text: POD_HEAD + 'peers = ["nas-2.lan"]\n', code: "bad-address", line: 4, column: 10, key: "pod.peers[0]", mentions: ["`pod.peers[0]`", '"nas-2.lan:7420"'] },
  { name: "bad address port", kind: "pod", text: POD_HEAD + 'metrics = "127.0.0.1:70000"\n', code: "bad-address", line: 4, key: "pod.metrics", mentions: ["invalid port 70000"] },
  { name: "bad value pattern", kind: "cluster", text: '[cluster]\nname = "my cluster"\n', code: "bad-value", line: 2, key: "cluster.name", mentions: ["`cluster.name`", "letters, digits"] },
  { name: "missing required key", kind: "cluster", text: '[cluster]\nredundancy = 2\n', code: "missing-key", line: 1, key: "cluster.name", mentions: ["`cluster.name`", "add `name = ...`"] },
  { name: "missing required table", kind: "pod", text: '[cache]\nmax_size = "1GiB"\n', code: "missing-key", line: 1, key: "pod", mentions: ["missing table [pod]"] },
  { name: "missing rule path", kind: "cluster", text: '[cluster]\nname = "acme"\n\n[[rules]]\nredundancy = 1\n', code: "missing-key", line: 4, key: "rules[0].path", mentions: ["`rules[0].path`"] },
  { name: "client without peers", kind: "pod", text: '[pod]\nname = "l"\nrole = "client"\ndata_dir = "/d"\n', code: "missing-key", line: 1, key: "pod.peers", mentions: ["at least one peer"] },
  { name: "duplicate rule", kind: "cluster", text: '[cluster]\nname = "acme"\n[[rules]]\npath = "/a/**"\nredundancy = 1\n[[rules]]\npath = "/a/**"\nreadonly = true\n', code: "duplicate-rule", line: 7, key: "rules[1].path", mentions: ["line 3", '"/a/**"'] },
  { name: "contradictory rule", kind: "cluster", text: '[cluster]\nname = "acme"\n[[rules]]\npath = "/a/**"\nkeep = true\nnocache = true\n', code: "contradiction", line: 6, key: "rules[0].nocache", mentions: ["keep", "nocache"] },
  { name: "lower-redundancy where it cannot help", kind: "cluster", text: '[cluster]\nname = "acme"\n[failure]\nunavailable = "lower-redundancy"\n', code: "contradiction", line: 4, key: "failure.unavailable", mentions: ["`failure.unavailable`", "at_risk"] },
  { name: "client pod with listen", kind: "pod", text: '[pod]\nname = "l"\nrole = "client"\nlisten = "0.0.0.0:7420"\ndata_dir = "/d"\npeers = ["nas:7420"]\n', code: "contradiction", line: 4, key: "pod.listen", mentions: ["`pod.listen`", "client"] },
  { name: "full pod with [client]", kind: "pod", text: POD_HEAD + '[client]\nkeep = ["/a"]\n', code: "contradiction", line: 4, key: "client", mentions: ["[client]", 'role = "client"'] },
  { name: "mount inside data dir", kind: "pod", text: POD_HEAD + '[mount]\npath = "/srv/wormhole/mnt"\n', code: "contradiction", line: 5, key: "mount.path", mentions: ["`mount.path`", "`pod.data_dir`"] },
];

for (const c of cases) {
  test(`error: ${c.name}`, () => {
    const file = c.kind === "cluster" ? CLUSTER_FILE : POD_FILE;
    const parse = c.kind === "cluster" ? parseClusterConfig : parsePodConfig;
    let caught: unknown;
    try {
      parse(c.text, file);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
    const err = caught.errors.find((e) => e.code === c.code) ?? caught;
    assert.equal(err.code, c.code, err.message);
    assert.equal(err.file, file);
    assert.equal(err.key, c.key, err.message);
    assert.equal(err.line, c.line, err.message);
    if (c.column !== undefined) assert.equal(err.column, c.column, err.message);
    assert.match(err.message, /^error: /);
    assert.ok(err.message.includes(`--> ${file}:${c.line}:${err.column}`), err.message);
    const sourceLine = c.text.split("\n")[c.line - 1];
    assert.ok(err.message.includes(`${c.line} | ${sourceLine}`), `message shows the line:\n${err.message}`);
    for (const m of c.mentions) assert.ok(err.message.includes(m), `message mentions ${JSON.stringify(m)}:\n${err.message}`);
    assert.ok(err.expected.length > 0);
    assert.ok(caught.message.includes(err.message), "the thrown error's message lists every problem");
  });
}

test("error: the rustc-style layout of the brief, exactly", () => {
  const text = '[cluster]\nname = "acme"\nredundancy = 2\nredundancy2 = 3\n';
  assert.throws(
    () => parseClusterConfig(text, CLUSTER_FILE),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(
        e.message,
        [
          "error: unknown key `redundancy2` in table [cluster]",
          " --> /etc/wormhole/wormhole.toml:4:1",
          "  |",
          "4 | redundancy2 = 3",
          "  | ^^^^^^^^^^^",
          "  = help: did you mean `redundancy`?",
        ].join("\n"),
      );
      assert.equal(e.suggestion, "redundancy");
      return true;
    },
  );
});

test("error: all problems are reported at once, in file order", () => {
  const text = '[cluster]\nname = "acme"\nredundancy = 99\nconflict = "merge"\n[failure]\ndegraded = "panic"\n';
  assert.throws(
    () => parseClusterConfig(text, CLUSTER_FILE),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(
        e.errors.map((x) => [x.code, x.line]),
        [
          ["out-of-range", 3],
          ["invalid-enum", 4],
          ["invalid-enum", 6],
        ],
      );
      assert.match(e.message, /3 problems found/);
      return true;
    },
  );
});

test("error: a BOM and CRLF line endings do not shift lines", () => {
  const text = '\ufeff[cluster]\r\nname = "acme"\r\nredundancy = 0\r\n';
  assert.throws(
    () => parseClusterConfig(text, CLUSTER_FILE),
    (e: unknown) => e instanceof ConfigError && e.line === 3 && e.column === 14 && e.message.includes("3 | redundancy = 0\n"),
  );
});

test("error: a file with thousands of problems gives a bounded message, quickly", () => {
  const text = '[cluster]\nname = "acme"\n' + Array.from({ length: 5000 }, (_, i) => `bogus_${i} = ${i}\n`).join("");
  const started = Date.now();
  assert.throws(
    () => parseClusterConfig(text, CLUSTER_FILE),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.errors.length, 20);
      assert.match(e.message, /5000 problems found \(the first 20 are shown\)/);
      assert.ok(e.message.length < 20_000, `message is ${e.message.length} characters`);
      return true;
    },
  );
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test("error: control characters from the file never reach the terminal", () => {
  // eslint-disable-next-line no-control-regex -- asserting their absence
  const noControl = /[\u0000-\u0008\u000b-\u001f\u007f]/;
  // A raw ESC is a TOML syntax error; the echoed line must not carry it.
  assert.throws(
    () => parseClusterConfig('[cluster]\nname = "\u001b[2Jacme"\n', CLUSTER_FILE),
    (e: unknown) => e instanceof ConfigError && e.code === "syntax" && !noControl.test(e.message) && e.message.includes("\ufffd[2Jacme"),
  );
  // Escaped in the file, the control characters reach the key and value: they are quoted.
  assert.throws(
    () => parseClusterConfig('[cluster]\nname = "acme"\nconflict = "\\u001b[31mred"\n"evil\\u001bkey" = 1\n', CLUSTER_FILE),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.errors.map((x) => x.key), ["cluster.conflict", 'cluster."evil\\u001bkey"']);
      assert.doesNotMatch(e.message, noControl);
      return true;
    },
  );
});

test("error: key names that would reach JavaScript built-ins are refused before parsing", () => {
  const before = Object.getOwnPropertyNames(Object).length;
  const attacks = [
    '[constructor]\nsmuggled = 1\n',
    '[cluster]\nname = "a"\n[cluster.constructor]\nsmuggled = 1\n',
    'constructor.smuggled = 1\n',
    'a.toString.smuggled = 1\n',
    '"\\u0063onstructor".smuggled = 1\n',
    'x = { constructor = { smuggled = 1 } }\n',
    '[[rules]]\nhasOwnProperty = 1\n',
  ];
  for (const text of attacks) {
    assert.throws(
      () => parseClusterConfig(text, CLUSTER_FILE),
      (e: unknown) => e instanceof ConfigError && e.code === "unknown-key" && /is not allowed/.test(e.message) && e.line >= 1,
      text,
    );
  }
  assert.equal(Object.getOwnPropertyNames(Object).length, before, "the global Object was not touched");
  assert.equal((Object as unknown as Record<string, unknown>).smuggled, undefined);
  assert.equal((Object.prototype.toString as unknown as Record<string, unknown>).smuggled, undefined);
  assert.throws(() => parsePodConfig('[pod]\nname = "n"\ndata_dir = "/d"\nvalueOf = 1\n', POD_FILE), (e: unknown) => e instanceof ConfigError && e.key === "pod.valueOf" && e.line === 4);
});

test("error: deeply nested values are a clear error, not a stack overflow", () => {
  for (const text of ["a = " + "[".repeat(100_000) + "]".repeat(100_000) + "\n", '[cluster]\nname = "a"\nx = ' + "{b=".repeat(100_000) + "1" + "}".repeat(100_000) + "\n"]) {
    assert.throws(
      () => parseClusterConfig(text, CLUSTER_FILE),
      (e: unknown) => e instanceof ConfigError && e.code === "syntax" && /nested more than 64 levels/.test(e.message) && e.line >= 1,
    );
  }
});

test("error: syntax errors are still reported at the parser's exact position", () => {
  const cases: Array<[string, number]> = [
    ['[cluster]\nname = "acme"\nredundancy = 2 3\nx = 1\n', 3],
    ['[cluster]\nname = "acme\n', 2],
    ['[cluster]\nname = "acme"\nadmins = ["a",\n', 4],
    ['[cluster\nname = "acme"\n', 1],
    ["[cluster]\nname = '''never closed\n", 2],
  ];
  for (const [text, line] of cases) {
    assert.throws(
      () => parseClusterConfig(text, CLUSTER_FILE),
      (e: unknown) => e instanceof ConfigError && e.code === "syntax" && e.line === line && e.message.startsWith("error: TOML syntax error"),
      JSON.stringify(text),
    );
  }
});
