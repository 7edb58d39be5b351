// Durations and byte sizes as written in config files ("10m", "500GiB") and as shown by the
// CLI. Parsing is strict on purpose: a storage system that silently reads "10G" as GiB when
// the admin meant GB (a 7% difference) is a system that fills disks by surprise.

/** Why a duration or size string was rejected, what was expected, and how to fix it. */
export class UnitError extends Error {
  constructor(
    message: string,
    readonly expected: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "UnitError";
  }
}

const DURATION_UNITS: ReadonlyArray<[string, number]> = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
];
const DURATION_MS = new Map(DURATION_UNITS);
export const DURATION_EXPECTED = 'a duration string such as "500ms", "3s", "10m", "1h30m" or "2d"';

/**
 * Parses "10m", "3s", "1h30m", "1.5h", "250ms" into milliseconds. Units: ms, s, m, h, d.
 * Plain numbers are refused: "grace = 10" could mean seconds or minutes.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "") throw new UnitError("empty duration", DURATION_EXPECTED);
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    throw new UnitError(`duration "${text}" has no unit`, DURATION_EXPECTED, `write "${trimmed}s" for seconds or "${trimmed}m" for minutes`);
  }
  const part = /(\d+(?:\.\d+)?)\s*([a-zA-Zµ]+)/y;
  let total = 0;
  let at = 0;
  while (at < trimmed.length) {
    part.lastIndex = at;
    const m = part.exec(trimmed);
    if (!m) throw new UnitError(`cannot read duration "${text}"`, DURATION_EXPECTED);
    const unit = DURATION_MS.get(m[2]);
    if (unit === undefined) {
      const lower = DURATION_MS.has(m[2].toLowerCase()) ? m[2].toLowerCase() : undefined;
      throw new UnitError(
        `unknown duration unit "${m[2]}" in "${text}"`,
        DURATION_EXPECTED,
        lower ? `units are lower case: "${m[1]}${lower}"` : "units are ms, s, m, h and d",
      );
    }
    total += Number(m[1]) * unit;
    at = part.lastIndex;
    while (trimmed[at] === " ") at++;
  }
  if (!Number.isSafeInteger(Math.round(total))) throw new UnitError(`duration "${text}" is too long`, DURATION_EXPECTED);
  return Math.round(total);
}

/** Exact, parseable form: 5400000 → "1h30m", 1500 → "1s500ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}`);
  let rest = Math.round(ms);
  if (rest === 0) return "0s";
  let out = "";
  for (const [unit, size] of DURATION_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

// SI units are powers of 1000, IEC units powers of 1024, exactly as the disk vendors and `df -H`
// versus `df -h` use them. "KB" is accepted as 1000 like "kB" because that is how it is
// usually meant next to MB/GB; single letters ("G") and lower-case forms are refused.
const SIZE_UNITS: ReadonlyArray<[string, number]> = [
  ["B", 1],
  ["kB", 1e3],
  ["KB", 1e3],
  ["MB", 1e6],
  ["GB", 1e9],
  ["TB", 1e12],
  ["PB", 1e15],
  ["KiB", 2 ** 10],
  ["MiB", 2 ** 20],
  ["GiB", 2 ** 30],
  ["TiB", 2 ** 40],
  ["PiB", 2 ** 50],
];
const SIZE_BYTES = new Map(SIZE_UNITS);
export const SIZE_EXPECTED = 'a size such as "512MiB", "10 GB", "2TiB" (GB = 10^9 bytes, GiB = 2^30 bytes) or a whole number of bytes';

function sizeUnitHint(unit: string, amount: string): string {
  const exact = SIZE_UNITS.find(([u]) => u.toLowerCase() === unit.toLowerCase());
  if (exact) return `units are case-sensitive: did you mean "${amount}${exact[0]}"?`;
  const letter = unit[0]?.toUpperCase();
  if (letter && "KMGTP".includes(letter) && /^[kmgtp]i?$/i.test(unit)) {
    const si = letter === "K" ? "kB" : `${letter}B`;
    return `"${unit}" is ambiguous: write "${amount}${si}" (powers of 1000) or "${amount}${letter}iB" (powers of 1024)`;
  }
  return "units are B, kB, MB, GB, TB, PB (powers of 1000) and KiB, MiB, GiB, TiB, PiB (powers of 1024)";
}

/** Parses "500GiB", "10 GB", "1.5 TiB" or a byte count (number or digit string) into bytes. */
export function parseSize(value: string | number | bigint): number {
  if (typeof value === "bigint") {
    throw new UnitError(`size ${value} is too large`, SIZE_EXPECTED);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UnitError(`size ${value} is not a whole, non-negative number of bytes`, SIZE_EXPECTED);
    }
    return value;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  if (!m) {
    const hint = value.trim().startsWith("-") ? "sizes cannot be negative" : undefined;
    throw new UnitError(`cannot read size "${value}"`, SIZE_EXPECTED, hint);
  }
  const [, amount, unit] = m;
  const factor = unit === "" ? 1 : SIZE_BYTES.get(unit);
  if (factor === undefined) throw new UnitError(`unknown size unit "${unit}" in "${value}"`, SIZE_EXPECTED, sizeUnitHint(unit, amount));
  if (unit === "" && amount.includes(".")) {
    throw new UnitError(`size "${value}" has a fraction of a byte`, SIZE_EXPECTED, `add a unit, such as "${amount}GiB"`);
  }
  const bytes = Math.round(Number(amount) * factor);
  if (!Number.isSafeInteger(bytes)) throw new UnitError(`size "${value}" is too large`, SIZE_EXPECTED);
  return bytes;
}

const BINARY_DISPLAY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Human form for CLI output, binary units, at most 3 significant decimals: 1536 → "1.5 KiB". */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`cannot format size ${bytes}`);
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < BINARY_DISPLAY.length - 1) {
    n /= 1024;
    i++;
  }
  const shown = i === 0 ? String(Math.round(n)) : String(Number(n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)));
  return `${shown} ${BINARY_DISPLAY[i]}`;
}

/** Exact form for writing config files: the largest unit that divides evenly, else bytes. */
export function formatSizeExact(bytes: number): string | number {
  const units = [...SIZE_UNITS].filter(([u]) => u !== "KB" && u !== "B").sort((a, b) => b[1] - a[1]);
  for (const [unit, size] of units) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return bytes;
}
