import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterPath } from "../../src/cli/context.js";
import { formatBytes, formatTable, parseDuration, shellQuote } from "../../src/cli/format.js";

test("formatBytes: binary units, one decimal below 10, no 1024 of a unit", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(10 * 1024), "10 KiB");
  assert.equal(formatBytes(10 * 1024 - 1), "10 KiB");
  assert.equal(formatBytes(1024 * 1024 - 1), "1.0 MiB");
  assert.equal(formatBytes(4 * 2 ** 40), "4.0 TiB");
  assert.equal(formatBytes(-1), "?");
});

test("parseDuration: units and combinations; nonsense is a UserError with an example", () => {
  assert.equal(parseDuration("90s"), 90);
  assert.equal(parseDuration("15m"), 900);
  assert.equal(parseDuration("24h"), 86400);
  assert.equal(parseDuration("1d12h"), 129600);
  assert.equal(parseDuration("1.5h"), 5400, "the config files' grammar: decimals");
  assert.equal(parseDuration("1500ms"), 2, "rounded up to whole seconds");
  for (const bad of ["", "0h", "10", "h", "1x", "2w", "-1h"]) {
    assert.throws(() => parseDuration(bad), (err: Error & { hint?: string }) => /is not a duration/.test(err.message) && /24h/.test(err.hint ?? ""), bad);
  }
});

test("formatTable aligns columns, right-aligns numeric ones, trims line ends", () => {
  assert.equal(formatTable(["NAME", "SIZE", "NOTE"], [["a", "1 B", ""], ["longer", "10 KiB", "x"]], [1]), "NAME      SIZE  NOTE\na          1 B\nlonger  10 KiB  x");
});

test("clusterPath normalises to an absolute path without a trailing slash", () => {
  assert.equal(clusterPath("/"), "/");
  assert.equal(clusterPath("photos"), "/photos");
  assert.equal(clusterPath("/photos/2024/"), "/photos/2024");
  assert.equal(clusterPath("a/../b/./c"), "/b/c");
  assert.equal(clusterPath("../../etc"), "/etc", "cannot climb above the cluster root");
  assert.throws(() => clusterPath(""), /is not a cluster path/);
  assert.throws(() => clusterPath("a\0b"), /is not a cluster path/);
});

test("shellQuote quotes only when needed", () => {
  assert.equal(shellQuote("/srv/wh-data"), "/srv/wh-data");
  assert.equal(shellQuote("/tmp/a b"), "'/tmp/a b'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
});
