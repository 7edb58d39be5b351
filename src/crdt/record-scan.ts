// A direct reader for the common stored record: a plain file's slot exactly as
// `encodeSlot` writes it. A cold load meets a million of them; `JSON.parse` built an array,
// boxed numbers and strings for each, and `decodeSlot` a slot object, all garbage a moment
// later (measured: decoding plus the collector were ~40% of a cold load). This reads the
// fields in place. It accepts only the canonical form (no whitespace, escapes, exponents,
// fractions, signs or unsafe integers): anything else returns false and goes through
// `decodeSlot`, which is the reference and decides what is valid.
import { MAX_SLOT_CHARS, NO_BASE } from "./slots.js";

/** A plain file's record fields, in stored form (a stamp of 0 = same as the loc stamp, a null pod = the writer). */
export interface FileRecord {
  par: string;
  nm: string;
  v: string | null;
  b: string[];
  locT: number;
  locP: string | null;
  sz: number;
  headT: number;
  headP: string | null;
  m: number;
  u: number;
  g: number;
  mt: number;
  ct: number | null;
  atT: number;
  atP: string | null;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN = 91;
const CLOSE = 93;
const ZERO = 48;
const NINE = 57;
const MAX_DIGITS = 16;
const FILE_PREFIX = "[0,null,";
const NO_PREV = "null,null,";

/** Reusable: one per reader, so scanning allocates only the strings it keeps. */
export class RecordScanner {
  private s = "";
  private pos = 0;
  /** Bounds of the last string read by `str()`. */
  private a = 0;
  private b = 0;
  /** Last parent seen: records of one directory arrive together; compared in place, not sliced. */
  private lastPar = "";

  /** Fills `out` from `s` if it is a canonical plain-file record; false otherwise (nothing is valid in `out` then). */
  scan(s: string, out: FileRecord, internPar: (p: string) => string): boolean {
    if (s.length > MAX_SLOT_CHARS || !s.startsWith(FILE_PREFIX)) return false;
    this.s = s;
    this.pos = FILE_PREFIX.length;
    if (!this.str() || !this.comma()) return false;
    const len = this.b - this.a;
    out.par = len === this.lastPar.length && s.startsWith(this.lastPar, this.a) ? this.lastPar : (this.lastPar = internPar(s.slice(this.a, this.b)));
    if (!this.str() || !this.comma()) return false;
    out.nm = s.slice(this.a, this.b);
    if (!s.startsWith(NO_PREV, this.pos)) return false;
    this.pos += NO_PREV.length;
    out.locT = this.num();
    if (Number.isNaN(out.locT) || !this.comma()) return false;
    if (!this.podOrNull()) return false;
    out.locP = this.podRead;
    if (this.literalNull()) out.v = null;
    else if (this.str()) out.v = s.slice(this.a, this.b);
    else return false;
    if (!this.comma()) return false;
    out.sz = this.num();
    if (Number.isNaN(out.sz) || !this.comma() || !this.base(out) || !this.comma()) return false;
    out.headT = this.num();
    if (Number.isNaN(out.headT) || !this.comma() || !this.podOrNull()) return false;
    out.headP = this.podRead;
    out.m = this.num();
    if (Number.isNaN(out.m) || !this.comma()) return false;
    out.u = this.num();
    if (Number.isNaN(out.u) || !this.comma()) return false;
    out.g = this.num();
    if (Number.isNaN(out.g) || !this.comma()) return false;
    out.mt = this.num();
    if (Number.isNaN(out.mt) || !this.comma()) return false;
    if (this.literalNull()) out.ct = null;
    else {
      out.ct = this.num();
      if (Number.isNaN(out.ct)) return false;
    }
    if (!this.comma()) return false;
    out.atT = this.num();
    if (Number.isNaN(out.atT) || !this.comma()) return false;
    if (this.literalNull()) out.atP = null;
    else if (this.str()) out.atP = s.slice(this.a, this.b);
    else return false;
    return this.pos === s.length - 1 && s.charCodeAt(this.pos) === CLOSE;
  }

  private podRead: string | null = null;

  /** `null,` or `"pod",` into `podRead`. */
  private podOrNull(): boolean {
    if (this.literalNull()) this.podRead = null;
    else if (this.str()) this.podRead = this.s.slice(this.a, this.b);
    else return false;
    return this.comma();
  }

  private base(out: FileRecord): boolean {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== OPEN) return false;
    this.pos++;
    if (s.charCodeAt(this.pos) === CLOSE) {
      this.pos++;
      out.b = NO_BASE;
      return true;
    }
    const b: string[] = [];
    for (;;) {
      if (!this.str()) return false;
      b.push(s.slice(this.a, this.b));
      const c = s.charCodeAt(this.pos++);
      if (c === CLOSE) break;
      if (c !== COMMA) return false;
    }
    out.b = b;
    return true;
  }

  private comma(): boolean {
    if (this.s.charCodeAt(this.pos) !== COMMA) return false;
    this.pos++;
    return true;
  }

  private literalNull(): boolean {
    if (!this.s.startsWith("null", this.pos)) return false;
    this.pos += 4;
    return true;
  }

  /** A string without escapes or control characters (JSON.parse would reject raw ones). */
  private str(): boolean {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== QUOTE) return false;
    const a = this.pos + 1;
    for (let i = a; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.a = a;
        this.b = i;
        this.pos = i + 1;
        return true;
      }
      if (c === BACKSLASH || c < 0x20) return false;
    }
    return false;
  }

  /** A non-negative safe integer without leading zeros; NaN for anything else. */
  private num(): number {
    const s = this.s;
    const start = this.pos;
    let v = 0;
    let i = start;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      v = v * 10 + (c - ZERO);
    }
    const digits = i - start;
    if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && s.charCodeAt(start) === ZERO) || !Number.isSafeInteger(v)) return NaN;
    this.pos = i;
    return v;
  }
}
