import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { asText, unifiedDiff } from "../../src/pod/text-diff.js";

/** Applies a unified diff with patch(1)'s rules, by hand: checks the hunks really transform a into b. */
function applyDiff(a: string, diff: string): string {
  const lines = a === "" ? [] : a.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let pos = 0;
  for (const hunk of diff.split(/^@@ /m).slice(1)) {
    const [header, ...body] = hunk.replace(/\n$/, "").split("\n");
    const start = Number(/^-(\d+)/.exec(header!)![1]);
    const from = Math.max(0, start - 1);
    const aCount = Number(/^-\d+,(\d+)/.exec(header!)![1]);
    const begin = aCount === 0 ? start : from;
    while (pos < begin) out.push(lines[pos++]!);
    for (const line of body) {
      if (line.startsWith("+")) out.push(line.slice(1));
      else {
        assert.equal(lines[pos], line.slice(1), "context and removed lines match the original");
        if (line.startsWith(" ")) out.push(line.slice(1));
        pos++;
      }
    }
  }
  while (pos < lines.length) out.push(lines[pos++]!);
  return out.length ? `${out.join("\n")}\n` : "";
}

test("a unified diff of two versions of a shopping list", () => {
  const diff = unifiedDiff("list\n- milk\n- bread\n", "list\n- oat milk\n- bread\n- coffee\n", "nas2", "laptop");
  assert.equal(diff, "--- nas2\n+++ laptop\n@@ -1,3 +1,4 @@\n list\n-- milk\n+- oat milk\n - bread\n+- coffee\n");
  assert.equal(unifiedDiff("same\n", "same\n", "a", "b"), "");
});

test("the diff agrees with diff(1) on what changed, and always turns a into b", () => {
  const dir = mkdtempSync(join(tmpdir(), "wormhole-diff-"));
  try {
    const text = fc.array(fc.constantFrom("a", "b", "c", "d", ""), { maxLength: 30 }).map((l) => (l.length ? `${l.join("\n")}\n` : ""));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const diff = unifiedDiff(a, b, "a", "b");
        assert.equal(applyDiff(a, diff), b);
        writeFileSync(join(dir, "a"), a);
        writeFileSync(join(dir, "b"), b);
        let changed: boolean;
        try {
          execFileSync("diff", ["-q", join(dir, "a"), join(dir, "b")]);
          changed = false;
        } catch {
          changed = true; // diff exits 1 when the files differ
        }
        assert.equal(diff !== "", changed);
      }),
      { numRuns: 150 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("binary content is not shown as text", () => {
  assert.equal(asText(Buffer.from([0x66, 0, 0x67])), undefined);
  assert.equal(asText(Buffer.from([0xff, 0xfe, 0x41])), undefined);
  assert.equal(asText(Buffer.from("héllo\n")), "héllo\n");
});
