// Finds where each key and value of an already-parsed TOML document is written.
// @iarna/toml returns plain objects without positions, so error messages could not name a
// line. This is a small scanner for the TOML structure only (headers, keys, string, array
// and inline-table extents); the real parse has already succeeded, so it may assume valid
// input and never has to report a syntax error itself.
//
// It handles: [table] and [[array]] headers (nested, including [a.b] under an [[a]]),
// dotted and quoted keys, multi-line strings and arrays, inline tables, array elements
// (so `keep[2]` can be pointed at). Limits: a key defined only implicitly (the `a` of
// `a.b = 1`) is located at its first mention; an inline table's keys are located in the
// line where they are written, which TOML 1.0 requires to be a single line anyway.

import type { Location } from "./errors.js";

/** A path to a value: table and key names, and array indexes. */
export type KeyPath = ReadonlyArray<string | number>;

export interface Located {
  /** The key (or the header, for tables; the element, for array items). */
  key: Location;
  /** The value after `=`; for tables, the header again. */
  value: Location;
}

const BARE_KEY = /[A-Za-z0-9_-]/;

export function pathId(path: KeyPath): string {
  return JSON.stringify(path);
}

/** Index of every key, table header and array element in a TOML text. */
export class SourceMap {
  private readonly spots = new Map<string, Located>();
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.lineStarts.push(i + 1);
    new Scanner(text, (path, key, value) => {
      const id = pathId(path);
      if (!this.spots.has(id)) this.spots.set(id, { key: this.location(key), value: this.location(value) });
    }).document();
  }

  /** Where `path` is written, or undefined if it is not in the text. */
  find(path: KeyPath): Located | undefined {
    return this.spots.get(pathId(path));
  }

  /** The closest written ancestor of `path` (for a missing key: its table's header). */
  nearest(path: KeyPath): Location {
    for (let n = path.length; n > 0; n--) {
      const hit = this.find(path.slice(0, n));
      if (hit) return hit.key;
    }
    return { line: 1, column: 1, length: 1 };
  }

  private location([start, end]: Span): Location {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= start) lo = mid;
      else hi = mid - 1;
    }
    const lineEnd = this.text.indexOf("\n", start);
    const stop = Math.min(end, lineEnd === -1 ? this.text.length : lineEnd);
    return { line: lo + 1, column: start - this.lineStarts[lo] + 1, length: Math.max(1, stop - start) };
  }
}

type Span = [start: number, end: number];
type Record = (path: KeyPath, key: Span, value: Span) => void;

class Scanner {
  private pos = 0;
  /** Current element index of each array of tables, by the path of the array. */
  private readonly arrayIndex = new Map<string, number>();

  constructor(
    private readonly s: string,
    private readonly record: Record,
  ) {}

  document(): void {
    let table: KeyPath = [];
    for (;;) {
      this.skipBlank(true);
      if (this.pos >= this.s.length) return;
      if (this.s[this.pos] === "[") table = this.header();
      else this.keyValue(table);
    }
  }

  private header(): KeyPath {
    const start = this.pos;
    const isArray = this.s[this.pos + 1] === "[";
    this.pos += isArray ? 2 : 1;
    const names = this.key().map(([name]) => name);
    this.skipSpaces();
    this.pos += isArray ? 2 : 1;
    const span: Span = [start, this.pos];
    const path = this.resolve(names);
    if (isArray) {
      const id = pathId(path);
      const index = (this.arrayIndex.get(id) ?? -1) + 1;
      this.arrayIndex.set(id, index);
      this.record(path, span, span);
      this.record([...path, index], span, span);
      return [...path, index];
    }
    this.record(path, span, span);
    return path;
  }

  /**
   * Inserts the current index after every parent that names an array of tables:
   * after [[rules]], a header [rules.extra] means rules[<last>].extra.
   */
  private resolve(names: string[]): KeyPath {
    const out: (string | number)[] = [];
    names.forEach((name, i) => {
      out.push(name);
      const index = this.arrayIndex.get(pathId(out));
      if (index !== undefined && i < names.length - 1) out.push(index);
    });
    return out;
  }

  private keyValue(table: KeyPath): void {
    const parts = this.key();
    this.skipSpaces();
    this.pos++; // "="
    this.skipSpaces();
    const keySpan: Span = [parts[0][1], parts[parts.length - 1][2]];
    const path = [...table];
    for (const [name, start, end] of parts.slice(0, -1)) {
      path.push(name);
      this.record([...path], [start, end], [start, end]);
    }
    path.push(parts[parts.length - 1][0]);
    const valueSpan = this.value(path);
    this.record(path, keySpan, valueSpan);
  }

  /** A possibly dotted key: each part's name and span. */
  private key(): Array<[string, number, number]> {
    const parts: Array<[string, number, number]> = [];
    for (;;) {
      this.skipSpaces();
      const start = this.pos;
      const quote = this.s[this.pos];
      let name: string;
      if (quote === '"' || quote === "'") {
        this.skipString();
        name = this.unquote(this.s.slice(start, this.pos));
      } else {
        while (this.pos < this.s.length && BARE_KEY.test(this.s[this.pos])) this.pos++;
        name = this.s.slice(start, this.pos);
      }
      parts.push([name, start, this.pos]);
      this.skipSpaces();
      if (this.s[this.pos] !== ".") return parts;
      this.pos++;
    }
  }

  private unquote(quoted: string): string {
    if (quoted.startsWith("'")) return quoted.slice(1, -1);
    try {
      return JSON.parse(quoted) as string;
    } catch {
      return quoted.slice(1, -1); // TOML-only escapes such as \U0001F600: close enough for locating
    }
  }

  private value(path: KeyPath): Span {
    const start = this.pos;
    const c = this.s[this.pos];
    if (c === '"' || c === "'") {
      this.skipString();
    } else if (c === "[") {
      this.pos++;
      for (let index = 0; ; index++) {
        this.skipBlank(true);
        if (this.s[this.pos] === "]") break;
        const itemStart = this.pos;
        const itemSpan = this.value([...path, index]);
        this.record([...path, index], [itemStart, itemSpan[1]], itemSpan);
        this.skipBlank(true);
        if (this.s[this.pos] === ",") this.pos++;
      }
      this.pos++;
    } else if (c === "{") {
      this.pos++;
      for (;;) {
        this.skipBlank(false);
        if (this.s[this.pos] === "}") break;
        this.keyValue(path);
        this.skipBlank(false);
        if (this.s[this.pos] === ",") this.pos++;
      }
      this.pos++;
    } else {
      while (this.pos < this.s.length && !",]}#\r\n".includes(this.s[this.pos])) this.pos++;
      let end = this.pos;
      while (end > start && /\s/.test(this.s[end - 1])) end--;
      return [start, end];
    }
    return [start, this.pos];
  }

  private skipString(): void {
    const q = this.s[this.pos];
    if (this.s.startsWith(q.repeat(3), this.pos)) {
      let j = this.pos + 3;
      while (j < this.s.length && !this.s.startsWith(q.repeat(3), j)) j += q === '"' && this.s[j] === "\\" ? 2 : 1;
      // Up to two quotes may directly precede the closing delimiter ('a""""' is valid TOML).
      let end = j + 3;
      while (this.s[end] === q && end - j < 5) end++;
      this.pos = end;
      return;
    }
    this.pos++;
    while (this.pos < this.s.length && this.s[this.pos] !== q) this.pos += q === '"' && this.s[this.pos] === "\\" ? 2 : 1;
    this.pos++;
  }

  private skipSpaces(): void {
    while (this.s[this.pos] === " " || this.s[this.pos] === "\t") this.pos++;
  }

  /** Skips spaces, comments and (if allowed) newlines. */
  private skipBlank(newlines: boolean): void {
    for (;;) {
      const c = this.s[this.pos];
      if (c === " " || c === "\t" || (newlines && (c === "\n" || c === "\r"))) this.pos++;
      else if (c === "#") while (this.pos < this.s.length && this.s[this.pos] !== "\n") this.pos++;
      else return;
    }
  }
}
