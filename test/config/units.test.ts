import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { formatDuration, formatSize, parseDuration, parseSize, UnitError } from "../../src/config/index.js";
import { formatSizeExact } from "../../src/config/units.js";

test("parseDuration reads single and compound units", () => {
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("3s"), 3_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1h 30m"), 5_400_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("2d"), 172_800_000);
  assert.equal(parseDuration("0s"), 0);
});

test("parseDuration refuses missing, unknown and wrong-case units with a hint", () => {
  assert.throws(() => parseDuration("10"), (e: unknown) => e instanceof UnitError && /no unit/.test(e.message) && /"10s"/.test(e.hint ?? ""));
  assert.throws(() => parseDuration("10 minutes"), /unknown duration unit "minutes"/);
  assert.throws(() => parseDuration("10M"), (e: unknown) => e instanceof UnitError && /lower case: "10m"/.test(e.hint ?? ""));
  assert.throws(() => parseDuration(""), /empty/);
  assert.throws(() => parseDuration("-5s"), /cannot read/);
  assert.throws(() => parseDuration("5s 3x"), /unknown duration unit "x"/);
  assert.throws(() => parseDuration("5s garbage"), /cannot read duration/);
});

test("formatDuration is exact and parses back", () => {
  assert.equal(formatDuration(600_000), "10m");
  assert.equal(formatDuration(5_400_000), "1h30m");
  assert.equal(formatDuration(1_500), "1s500ms");
  assert.equal(formatDuration(0), "0s");
  fc.assert(fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => parseDuration(formatDuration(ms)) === ms));
});

test("parseSize distinguishes SI and IEC units strictly", () => {
  assert.equal(parseSize("500GiB"), 500 * 2 ** 30);
  assert.equal(parseSize("10 GB"), 10e9);
  assert.equal(parseSize("512MiB"), 512 * 2 ** 20);
  assert.equal(parseSize("1kB"), 1000);
  assert.equal(parseSize("1KB"), 1000);
  assert.equal(parseSize("1KiB"), 1024);
  assert.equal(parseSize("1.5 TiB"), 1.5 * 2 ** 40);
  assert.equal(parseSize("123"), 123);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize("7 B"), 7);
});

test("parseSize refuses ambiguous, mis-cased, fractional and negative sizes with a hint", () => {
  const hint = (input: string | number | bigint) => {
    try {
      parseSize(input);
    } catch (e) {
      assert.ok(e instanceof UnitError);
      return `${e.message} / ${e.hint ?? ""}`;
    }
    assert.fail(`${String(input)} was accepted`);
  };
  assert.match(hint("10G"), /ambiguous: write "10GB" .* or "10GiB"/);
  assert.match(hint("10Gi"), /ambiguous/);
  assert.match(hint("10gb"), /did you mean "10GB"/);
  assert.match(hint("10 gib"), /did you mean "10GiB"/);
  assert.match(hint("10 bananas"), /unknown size unit "bananas"/);
  assert.match(hint("1.5"), /fraction of a byte/);
  assert.match(hint("-5GB"), /negative/);
  assert.match(hint(-1), /non-negative/);
  assert.match(hint(1.5), /whole/);
  assert.match(hint(2n ** 70n), /too large/);
  assert.match(hint("99999999 PiB"), /too large/);
});

test("formatSize shows binary units; formatSizeExact round-trips", () => {
  assert.equal(formatSize(0), "0 B");
  assert.equal(formatSize(1023), "1023 B");
  assert.equal(formatSize(1536), "1.5 KiB");
  assert.equal(formatSize(500 * 2 ** 30), "500 GiB");
  assert.equal(formatSize(10e9), "9.31 GiB");
  assert.equal(formatSizeExact(10e9), "10GB");
  assert.equal(formatSizeExact(512 * 2 ** 20), "512MiB");
  assert.equal(formatSizeExact(1001), 1001);
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 52 }), (n) => parseSize(formatSizeExact(n)) === n));
});
