import assert from "node:assert/strict";
import { test } from "node:test";
import TOML from "@iarna/toml";
import fc from "fast-check";
import { SourceMap } from "../../src/config/locate.js";

const text = [
  "# comment [not a table]", // 1
  "top = 1", // 2
  "[cluster]", // 3
  'name = "a # not a comment"  # comment', // 4
  "a.b.c = 1", // 5
  '"quoted key" = 2', // 6
  'inline = { x = 1, y = { z = "}" } }', // 7
  "list = [", // 8
  '  "one",  # c', // 9
  "  'two',", // 10
  "]", // 11
  'multi = """', // 12
  'redundancy = "inside a string" \\"""', // 13
  '"""', // 14
  "after = true", // 15
  "[[rules]]", // 16
  'path = "/a"', // 17
  "[[rules]]", // 18
  "path = '/b'", // 19
  "[rules.extra]", // 20
  "k = 1", // 21
  "[ cluster . sub ]", // 22
  "deep = 1", // 23
].join("\n");

const map = new SourceMap(text);
const at = (...path: Array<string | number>) => {
  const hit = map.find(path);
  assert.ok(hit, `found ${JSON.stringify(path)}`);
  return [hit.key.line, hit.key.column, hit.value.line, hit.value.column];
};

test("locate: keys, headers and values", () => {
  assert.deepEqual(at("top"), [2, 1, 2, 7]);
  assert.deepEqual(at("cluster"), [3, 1, 3, 1]);
  assert.deepEqual(at("cluster", "name"), [4, 1, 4, 8]);
  assert.equal(map.find(["cluster", "name"])!.value.length, '"a # not a comment"'.length);
  assert.equal(map.find(["not a table"]), undefined);
});

test("locate: dotted, quoted and inline-table keys", () => {
  assert.deepEqual(at("cluster", "a", "b", "c"), [5, 1, 5, 9]);
  assert.deepEqual(at("cluster", "a", "b").slice(0, 2), [5, 3]);
  assert.deepEqual(at("cluster", "quoted key"), [6, 1, 6, 16]);
  assert.deepEqual(at("cluster", "inline", "y", "z"), [7, 25, 7, 29]);
  assert.deepEqual(at("cluster", "inline", "x").slice(0, 2), [7, 12]);
});

test("locate: multi-line arrays and strings do not confuse the scanner", () => {
  assert.deepEqual(at("cluster", "list", 0).slice(2), [9, 3]);
  assert.deepEqual(at("cluster", "list", 1).slice(2), [10, 3]);
  assert.equal(map.find(["cluster", "redundancy"]), undefined, "text inside a multi-line string is not a key");
  assert.deepEqual(at("cluster", "after"), [15, 1, 15, 9]);
});

test("locate: arrays of tables and their sub-tables", () => {
  assert.deepEqual(at("rules", 0).slice(0, 2), [16, 1]);
  assert.deepEqual(at("rules", 0, "path"), [17, 1, 17, 8]);
  assert.deepEqual(at("rules", 1, "path"), [19, 1, 19, 8]);
  assert.deepEqual(at("rules", 1, "extra", "k").slice(0, 2), [21, 1]);
  assert.deepEqual(at("cluster", "sub", "deep").slice(0, 2), [23, 1]);
});

test("locate: a missing key falls back to its nearest written ancestor", () => {
  assert.deepEqual(map.nearest(["rules", 1, "redundancy"]), map.find(["rules", 1])!.key);
  assert.deepEqual(map.nearest(["nothing", "here"]), { line: 1, column: 1, length: 1 });
});

test("locate: property — every key of a generated document is found on the line it was written", () => {
  const key = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)));
  const scalar = fc.oneof(
    fc.integer().map(String),
    fc.boolean().map(String),
    fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)),
    fc.string({ maxLength: 10 }).filter((s) => !s.includes("'") && !/[\r\n]/.test(s)).map((s) => `'${s}'`),
    fc.constant('"""\nline [x]\nkey = 1 \\""""'),
    fc.constant("[\n  1, # one\n  2,\n]"),
    fc.constant('{ a = 1, b = "}" }'),
    fc.constant("1979-05-27T07:32:00Z"),
  );
  const table = fc.record({
    header: fc.oneof(fc.constant(null), key),
    array: fc.boolean(),
    entries: fc.uniqueArray(fc.tuple(key, scalar, fc.boolean()), { maxLength: 5, selector: ([k]) => k }),
  });
  fc.assert(
    fc.property(fc.uniqueArray(table, { maxLength: 5, selector: (t) => t.header }), (tables) => {
      const lines: string[] = [];
      const expected: Array<[Array<string | number>, number]> = [];
      const arrayCount = new Map<string, number>();
      tables.sort((a, b) => (a.header === null ? -1 : b.header === null ? 1 : 0));
      for (const t of tables) {
        let base: Array<string | number> = [];
        if (t.header !== null) {
          const name = t.header.startsWith('"') ? (JSON.parse(t.header) as string) : t.header;
          if (t.array) {
            const index = arrayCount.get(name) ?? 0;
            arrayCount.set(name, index + 1);
            lines.push(`[[${t.header}]]  # array`);
            base = [name, index];
          } else {
            lines.push(`[${t.header}]`);
            base = [name];
          }
        }
        for (const [k, value, comment] of t.entries) {
          const name = k.startsWith('"') ? (JSON.parse(k) as string) : k;
          expected.push([[...base, name], lines.length + 1]);
          lines.push(...`${k} = ${value}${comment ? " # c = [" : ""}`.split("\n"));
          if (comment) lines.push("", "# [not.a.table]");
        }
      }
      const source = lines.join("\n");
      let parsed = true;
      try {
        TOML.parse(source);
      } catch {
        parsed = false; // duplicate keys between a table and an array of the same name, etc.
      }
      fc.pre(parsed);
      const map = new SourceMap(source);
      for (const [path, line] of expected) assert.equal(map.find(path)?.key.line, line, `${JSON.stringify(path)} in\n${source}`);
    }),
    { numRuns: 300 },
  );
});

test("locate: the scanner terminates on any text, valid TOML or not", () => {
  const tomlish = fc.array(fc.constantFrom("[", "]", "[[", "]]", "{", "}", "=", ",", ".", '"', "'", '"""', "'''", "\\", "#", "\n", " ", "a", "1", "x.y"), { maxLength: 40 }).map((parts) => parts.join(""));
  fc.assert(
    fc.property(fc.oneof(tomlish, fc.string({ unit: "binary", maxLength: 60 })), (text) => {
      const map = new SourceMap(text);
      for (const path of map.paths) assert.ok(map.find(path));
    }),
    { numRuns: 1000 },
  );
});
