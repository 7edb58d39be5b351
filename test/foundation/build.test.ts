import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

test("package.json exposes the wormhole binary", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.name, "wormhole");
  assert.equal(pkg.bin.wormhole, "dist/src/cli/main.js");
});
