// Finds where each key and value of an already-parsed TOML document is written.
// @iarna/toml returns plain objects without positions, so error messages could not name a
// line. This is a small scanner for the TOML structure only (headers, keys, string, array
// and inline-table extents); the real parse has already succeeded, so it may assume valid
// input and never has to report a syntax error itself.
//
// It also runs BEFORE @iarna/toml, to refuse key names that would make that parser write
// into JavaScript built-ins (see toml.ts), so it must terminate on any input: on text that
// is not valid TOML it simply stops where it loses track (StopScan).
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
const ESCAPES: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", '"': '"', "\\": "\\" };

export function pathId(path: KeyPath): string {
  return JSON.stringify(path);
}

/** Index of every key, table header and array element in a TOML text. */
export class SourceMap {
  private readonly spots = new Map<string, Located>();
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.lineStarts.push(i + 1);
    try {
      new Scanner(text, (path, key, value) => {
        const id = pathId(path);
        if (!this.spots.has(id)) {
          this.spots.set(id, { key: this.location(key), value: this.location(value) });
          this.paths.push(path);
        }
      }).document();
    } catch (e) {
      if (!(e instanceof StopScan)) throw e;
      this.stoppedAt = Math.min(e.at, text.length);
      this.tooDeep = e.tooDeep;
    }
  }

  /** Where the text stopped being TOML the scanner can follow; undefined if it read it all. */
  stoppedAt: number | undefined;
  /** True if it stopped because values nest more than MAX_NESTING levels. */
  tooDeep = false;

  /** Line and column of a character offset. */
  locationOf(offset: number): Location {
    return this.location([offset, offset + 1]);
  }

  /** Every path found, in file order. */
  readonly paths: KeyPath[] = [];

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

/** The text is not valid TOML from `at` on (or nests too deeply): stop, keep what was found. */
class StopScan extends Error {
  constructor(
    readonly at: number,
    readonly tooDeep = false,
  ) {
    super("stop");
  }
}

/** Arrays and inline tables nested deeper than this are refused (the scanner recurses). */
export const MAX_NESTING = 64;

type Span = [start: number, end: number];
type Recorder = (path: KeyPath, key: Span, value: Span) => void;

class Scanner {
  private pos = 0;
  /** Current element index of each array of tables, by the path of the array. */
  private readonly arrayIndex = new Map<string, number>();

  constructor(
    private readonly s: string,
    private readonly record: Recorder,
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

  /**
   * Called by the array and inline-table loops, which would otherwise spin at the end of an
   * unclosed "[" or "{". Every other step consumes a character or throws StopScan.
   */
  private notAtEnd(): void {
    if (this.pos >= this.s.length) throw new StopScan(this.pos);
  }

  private header(): KeyPath {
    const start = this.pos;
    const isArray = this.s[this.pos + 1] === "[";
    this.pos += isArray ? 2 : 1;
    const names = this.key().map(([name]) => name);
    this.skipSpaces();
    if (!this.s.startsWith(isArray ? "]]" : "]", this.pos)) throw new StopScan(this.pos);
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
    if (this.s[this.pos] !== "=") throw new StopScan(this.pos);
    this.pos++;
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
        if (name === "") throw new StopScan(this.pos);
      }
      parts.push([name, start, this.pos]);
      this.skipSpaces();
      if (this.s[this.pos] !== ".") return parts;
      this.pos++;
    }
  }

  private unquote(quoted: string): string {
    if (quoted.startsWith("'")) return quoted.slice(1, -1);
    // Decoded exactly as TOML does: "\u0063onstructor" must be seen as "constructor".
    return quoted.slice(1, -1).replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/gs, (_, u4: string, u8: string, c: string) => {
      if (u4 || u8) {
        const code = parseInt(u4 ?? u8, 16);
        return code <= 0x10ffff ? String.fromCodePoint(code) : "";
      }
      return ESCAPES[c] ?? c;
    });
  }

  private value(path: KeyPath): Span {
    const start = this.pos;
    if (path.length > MAX_NESTING) throw new StopScan(this.pos, true);
    const c = this.s[this.pos];
    if (c === '"' || c === "'") {
      this.skipString();
    } else if (c === "[") {
      this.pos++;
      for (let index = 0; ; index++) {
        this.skipBlank(true);
        if (this.s[this.pos] === "]") break;
        const itemStart = this.pos;
        this.notAtEnd();
        const itemSpan = this.value([...path, index]);
        this.record([...path, index], [itemStart, itemSpan[1]], itemSpan);
        this.skipBlank(true);
        if (this.s[this.pos] === ",") this.pos++;
        else if (this.s[this.pos] !== "]") throw new StopScan(this.pos);
      }
      this.pos++;
    } else if (c === "{") {
      this.pos++;
      for (;;) {
        this.skipBlank(false);
        if (this.s[this.pos] === "}") break;
        this.notAtEnd();
        this.keyValue(path);
        this.skipBlank(false);
        if (this.s[this.pos] === ",") this.pos++;
        else if (this.s[this.pos] !== "}") throw new StopScan(this.pos);
      }
      this.pos++;
    } else {
      while (this.pos < this.s.length && !",]}#\r\n".includes(this.s[this.pos])) this.pos++;
      let end = this.pos;
      while (end > start && /\s/.test(this.s[end - 1])) end--;
      if (end === start) throw new StopScan(this.pos);
      return [start, end];
    }
    return [start, this.pos];
  }

  private skipString(): void {
    const q = this.s[this.pos];
    if (this.s.startsWith(q.repeat(3), this.pos)) {
      let j = this.pos + 3;
      while (j < this.s.length && !this.s.startsWith(q.repeat(3), j)) j += q === '"' && this.s[j] === "\\" ? 2 : 1;
      if (j >= this.s.length) throw new StopScan(this.pos);
      // Up to two quotes may directly precede the closing delimiter ('a""""' is valid TOML).
      let end = j + 3;
      while (this.s[end] === q && end - j < 5) end++;
      this.pos = end;
      return;
    }
    this.pos++;
    while (this.pos < this.s.length && this.s[this.pos] !== q && this.s[this.pos] !== "\n") this.pos += q === '"' && this.s[this.pos] === "\\" ? 2 : 1;
    if (this.s[this.pos] !== q) throw new StopScan(this.pos);
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
