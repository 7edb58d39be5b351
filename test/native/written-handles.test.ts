// The binding's set of handles written through since their last flush (written-handles.h):
// a wrong answer would skip the flush that must commit a file's bytes. The mount tests
// (test/fs/two-pods.test.ts) check the rule with a few handles; the table's growth and its
// deletions over long probe runs need thousands, so the C code itself runs here, compiled
// with the machine's C compiler (which `npm ci` needs for the binding anyway), against a
// plain reference.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = new URL("../../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "wormhole-native-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the written-handles set answers like a plain array over 200,000 random marks and takes", async () => {
  const binary = join(dir, "written-handles-check");
  await run("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-I", join(repo, "native/fuse-native"), "-o", binary, join(repo, "test/native/written-handles-check.c"), "-lpthread"]);
  const { stdout } = await run(binary);
  assert.match(stdout, /^ok: \d+ handles left in \d+ slots/);
});
