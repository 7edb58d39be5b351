// The README's first command must keep working: run the demo non-interactively (no TTY, so
// it cleans up by itself) in a scratch directory and check what it showed and left behind.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const DEMO = join(import.meta.dirname, "..", "..", "src", "demo", "demo.js");

test("npm run demo: four pods, files everywhere, a conflict shown and resolved, everything cleaned up", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "wormhole-demo-"));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [DEMO], { cwd, timeout: 180_000 });
    assert.match(stdout, /laptop +client +up/);
    assert.match(stdout, /beach\.raw/);
    assert.match(stdout, /notes\.conflict-[0-9a-f]{8}-\d{8}-\d{6}\.txt/, "keep-both shows the conflict copy");
    assert.match(stdout, /\/notes\.txt +content +keep-both +2/);
    assert.match(stdout, /no conflicts/, "resolved everywhere");
    assert.ok(!readFileSync("/proc/mounts", "utf8").includes(join(cwd, "demo")), "every mount is gone");
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
