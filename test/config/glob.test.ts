import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { compileGlob, GlobError } from "../../src/config/index.js";
import { compileWith } from "../../src/config/glob.js";

const matches = (glob: string, path: string) => compileGlob(glob).test(path);

test("glob: * stays within one segment, ** spans any depth", () => {
  assert.ok(matches("/photos/*.jpg", "/photos/a.jpg"));
  assert.ok(!matches("/photos/*.jpg", "/photos/2024/a.jpg"));
  assert.ok(matches("/photos/*.jpg", "/photos/.hidden.jpg"), "dotfiles are matched");
  assert.ok(matches("/photos/**", "/photos/2024/05/a.jpg"));
  assert.ok(matches("/photos/**", "/photos"), "trailing /** includes the directory itself");
  assert.ok(!matches("/photos/**", "/photosx/a"));
  assert.ok(matches("/**/*.tmp", "/a.tmp"));
  assert.ok(matches("/**/*.tmp", "/x/y/z/a.tmp"));
  assert.ok(!matches("/**/*.tmp", "/x/a.tmpx"));
  assert.ok(matches("/a/**/b", "/a/b"));
  assert.ok(matches("/a/**/b", "/a/x/y/b"));
  assert.ok(!matches("/a/**/b", "/a/xb"));
  assert.ok(matches("/**", "/anything/at/all"));
});

test("glob: ?, classes, ranges, negation, braces and escapes", () => {
  assert.ok(matches("/a?c", "/abc"));
  assert.ok(!matches("/a?c", "/a/c"));
  assert.ok(matches("/log[0-9]", "/log7"));
  assert.ok(!matches("/log[0-9]", "/logx"));
  assert.ok(matches("/[!a]x", "/bx"));
  assert.ok(!matches("/[!a]x", "/ax"));
  assert.ok(!matches("/[!a]x", "//x"), "a negated class never matches /");
  assert.ok(!matches("/a[+-0]b", "/a/b"), "a range spanning / still never matches it");
  assert.ok(matches("/*.{jpg,png}", "/a.png"));
  assert.ok(!matches("/*.{jpg,png}", "/a.gif"));
  assert.ok(matches("/{src,lib/{a,b}}/x", "/lib/b/x"));
  assert.ok(matches("/{a,}x", "/x"));
  assert.ok(matches("/a\\*b", "/a*b"));
  assert.ok(!matches("/a\\*b", "/axb"));
  assert.ok(matches("/a.b+c(d)", "/a.b+c(d)"), "regex characters are literal");
  assert.ok(!matches("/a.b", "/axb"));
});

test("glob: invalid globs are rejected with the offset of the problem", () => {
  const bad: Array<[string, number, RegExp]> = [
    ["photos/**", 0, /start with `\/`/],
    ["/photos/", 7, /end with `\/`/],
    ["/a**", 2, /whole path segment/],
    ["/a/***", 3, /whole path segment/],
    ["/[abc", 1, /never closed/],
    ["/a]", 2, /without a matching `\[`/],
    ["/{a,b", 1, /never closed/],
    ["/a}", 2, /without a matching `\{`/],
    ["/[z-a]", 2, /backwards/],
    ["/[a/b]", 3, /inside/],
    ["/a\\", 2, /lone/],
    ["/[]", 1, /never closed/],
  ];
  for (const [glob, offset, message] of bad) {
    assert.throws(
      () => compileGlob(glob),
      (e: unknown) => e instanceof GlobError && e.offset === offset && message.test(e.message),
      `${glob} should fail at ${offset} with ${message}`,
    );
  }
});

test("glob: repeated ** and a ** at the end", () => {
  assert.ok(matches("/a/**/**/b", "/a/b"));
  assert.ok(matches("/a/**/**/b", "/a/x/y/b"));
  assert.ok(matches("/a/**/**", "/a"));
  assert.ok(matches("/a/**/**", "/a/x/y"));
  assert.ok(!matches("/a/**/**", "/ab"));
  assert.ok(matches("/**", "/"));
  assert.ok(matches("/😀?.txt", "/😀é.txt"), "? matches one character, even outside the BMP");
  assert.ok(matches("/[😀-😂]", "/😁"));
});

test("glob: matching cost is bounded whatever the glob (no backtracking blow-up)", () => {
  const cases: Array<[string, string]> = [
    ["/" + "*a".repeat(12) + "b", "/" + "a".repeat(200)],
    ["/**/**/**/**/**/**/**/**/b", "/" + Array(200).fill("a").join("/")],
    [Array(10).fill("/**/a").join("") + "/**/b", "/" + Array(200).fill("a").join("/")],
    ["/" + "{a,a*,*a}".repeat(10) + "b", "/" + "a".repeat(200)],
  ];
  for (const [glob, path] of cases) {
    const matcher = compileGlob(glob);
    const started = process.hrtime.bigint();
    assert.equal(matcher.test(path), false);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 200, `${glob} took ${ms.toFixed(1)} ms`);
  }
});

test("glob: agrees with a reference regex on simple globs", () => {
  // For globs without ** the classic translation has no semantic subtleties: compare them.
  const toRegex = (g: string) => new RegExp(`^${g.replace(/[.+^$()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
  const globs = ["/a*", "/*.txt", "/a?c/*", "/*/*/x", "/x*y*z"];
  const paths = ["/a", "/abc", "/a.txt", "/abc/d", "/q/r/x", "/xyz", "/x/y/z", "/xaybz", "/.txt", "/a/b.txt"];
  for (const g of globs) for (const p of paths) assert.equal(compileGlob(g).test(p), toRegex(g).test(p), `${g} on ${p}`);
});

test("glob: the RegExp and the automaton agree on random globs and paths", () => {
  const globArb = fc
    .array(fc.constantFrom("/", "a", "b", ".", "*", "?", "**", "/**/", "[ab]", "[!a]", "[a-c]", "{a,b*}", "{,x/}", "\\*"), { minLength: 1, maxLength: 8 })
    .map((parts) => "/" + parts.join(""));
  const pathArb = fc.array(fc.constantFrom("/", "a", "b", "c", ".", "x", "*"), { maxLength: 12 }).map((parts) => "/" + parts.join(""));
  let compared = 0;
  fc.assert(
    fc.property(globArb, fc.array(pathArb, { minLength: 1, maxLength: 10 }), (glob, paths) => {
      let regex, automaton;
      try {
        regex = compileWith(glob, "regex");
        automaton = compileWith(glob, "automaton");
      } catch (e) {
        if (e instanceof GlobError) return;
        throw e;
      }
      for (const path of paths) {
        compared++;
        assert.equal(automaton.test(path), regex.test(path), `${glob} on ${path}`);
      }
    }),
    { numRuns: 2000 },
  );
  assert.ok(compared > 5000, `only ${compared} comparisons`);
});

test("glob: typical globs take the fast RegExp path", () => {
  const paths = Array.from({ length: 20_000 }, (_, i) => `/projects/p${i % 50}/src/dir${i % 7}/file-${i}.${i % 3 ? "c" : "tmp"}`);
  const glob = compileGlob("/**/*.{tmp,swp}");
  const started = process.hrtime.bigint();
  let hits = 0;
  for (const p of paths) if (glob.test(p)) hits++;
  const perPathUs = Number(process.hrtime.bigint() - started) / 1e3 / paths.length;
  assert.equal(hits, Math.ceil(paths.length / 3));
  assert.ok(perPathUs < 5, `${perPathUs.toFixed(2)} µs per path`);
});
