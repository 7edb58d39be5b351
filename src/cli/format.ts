// Human output helpers: aligned tables, byte sizes, durations, shell quoting.
import { parseDuration as parseConfigDuration } from "../config/index.js";
import { UserError } from "../pod/user-error.js";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** 1536 → "1.5 KiB"; one decimal below 10 units, none above. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  let value = bytes;
  let unit = 0;
  // Compare the rounded value, so 1048575 B reads "1.0 MiB", not "1024 KiB".
  const rounded = (v: number) => (v < 10 ? Number(v.toFixed(1)) : Math.round(v));
  while (rounded(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value < 9.95 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/** Left-aligned columns separated by two spaces; `rightAlign` lists numeric column indexes. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], rightAlign: readonly number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (rightAlign.includes(i) ? cell.padStart(widths[i]) : i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * A duration option ("90s", "15m", "24h", "7d", "1d12h") → whole seconds, rounded up. The
 * same grammar as durations in the config files, so a value means one thing everywhere.
 */
export function parseDuration(text: string): number {
  let ms: number;
  try {
    ms = parseConfigDuration(text);
  } catch (error) {
    throw new UserError(`"${text}" is not a duration: ${(error as Error).message}`, "write it like 30m, 24h, 7d or 1d12h (units: ms, s, m, h, d)");
  }
  if (ms <= 0) throw new UserError(`"${text}" is not a duration: it must be longer than zero`, "write it like 30m, 24h, 7d or 1d12h");
  return Math.ceil(ms / 1000);
}

/** ISO time → "2026-11-22 02:48" in local time; the input unchanged if it is not a date. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Quotes a word for a POSIX shell only when it needs it, for copy-pasteable hints. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
