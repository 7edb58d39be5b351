import assert from "node:assert/strict";
import { test } from "node:test";
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
