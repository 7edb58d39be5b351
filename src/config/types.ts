// Value readers for the config schema: each turns one raw TOML value into a typed value, or
// throws a ValueProblem that the validator turns into a located ConfigError.

import type { ConfigErrorCode } from "./errors.js";
import { compileGlob, GLOB_EXPECTED, GlobError } from "./glob.js";
import type { KeyPath } from "./locate.js";
import { closestMatch } from "./suggest.js";
import { DURATION_EXPECTED, parseDuration, parseSize, SIZE_EXPECTED, UnitError } from "./units.js";

/** A problem with one value, not yet located in the file. */
export class ValueProblem extends Error {
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly expected: string,
    readonly extra: {
      help?: string;
      suggestion?: string;
      /** Character offset inside a string value (after the opening quote). */
      offset?: number;
      /** Path below the value (an array index) where the problem is. */
      below?: KeyPath;
    } = {},
  ) {
    super(message);
  }
}

export interface ValueType<T> {
  /** What a valid value is, in words, for error messages and docs. */
  readonly expected: string;
  read(raw: unknown): T;
}

/** The TOML name of a raw value's type, for "expected X, found Y". */
export function tomlTypeOf(raw: unknown): string {
  if (typeof raw === "string") return "string";
  if (typeof raw === "bigint") return "integer";
  if (typeof raw === "number") return Number.isInteger(raw) ? "integer" : "float";
  if (typeof raw === "boolean") return "boolean";
  if (raw instanceof Date) return "datetime";
  if (Array.isArray(raw)) return "array";
  return "table";
}

export function isTable(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) && !(raw instanceof Date);
}

function show(raw: unknown): string {
  if (typeof raw === "string") return JSON.stringify(raw);
  if (raw instanceof Date) return raw.toISOString();
  if (typeof raw === "object") return tomlTypeOf(raw);
  return String(raw);
}

function wrongType(raw: unknown, want: string, expected: string): ValueProblem {
  let help: string | undefined;
  if (typeof raw === "string" && (want === "an integer" || want === "a number") && /^-?\d+(\.\d+)?$/.test(raw.trim())) {
    help = `numbers are written without quotes: ${raw.trim()}`;
  } else if (typeof raw === "string" && want === "a boolean") {
    help = /^(true|false)$/i.test(raw.trim()) ? `booleans are written without quotes: ${raw.trim().toLowerCase()}` : "write true or false, without quotes";
  } else if (want.endsWith("string") && typeof raw !== "object") {
    help = `strings are written in quotes: "${String(raw)}"`;
  } else if (want === "an array") {
    help = `write a list in brackets, even for one item: [${show(raw)}]`;
  }
  return new ValueProblem("wrong-type", `expected ${want}, found ${tomlTypeOf(raw)} ${show(raw)}`, expected, { help });
}

export function text(opts: { pattern?: RegExp; expected?: string } = {}): ValueType<string> {
  const expected = opts.expected ?? "a string";
  return {
    expected,
    read(raw) {
      if (typeof raw !== "string") throw wrongType(raw, "a string", expected);
      if (opts.pattern && !opts.pattern.test(raw)) throw new ValueProblem("bad-value", `invalid value ${show(raw)}`, expected);
      return raw;
    },
  };
}

export function integer(min: number, max: number): ValueType<number> {
  const expected = `an integer from ${min} to ${max}`;
  return {
    expected,
    read(raw) {
      if (typeof raw === "bigint") throw new ValueProblem("out-of-range", `${raw} is out of range`, expected);
      if (typeof raw !== "number" || !Number.isInteger(raw)) throw wrongType(raw, "an integer", expected);
      if (raw < min || raw > max) throw new ValueProblem("out-of-range", `${raw} is out of range`, expected);
      return raw;
    },
  };
}

export function weight(max: number): ValueType<number> {
  const expected = `a number from 0 to ${max}`;
  return {
    expected,
    read(raw) {
      if (typeof raw !== "number" || !Number.isFinite(raw)) throw wrongType(raw, "a number", expected);
      if (raw < 0 || raw > max) throw new ValueProblem("out-of-range", `${raw} is out of range`, expected);
      return raw;
    },
  };
}

export function boolean(): ValueType<boolean> {
  const expected = "true or false";
  return {
    expected,
    read(raw) {
      if (typeof raw !== "boolean") throw wrongType(raw, "a boolean", expected);
      return raw;
    },
  };
}

export function oneOf<const V extends string>(values: readonly V[]): ValueType<V> {
  const expected = `one of ${values.map((v) => `"${v}"`).join(", ")}`;
  return {
    expected,
    read(raw) {
      if (typeof raw !== "string") throw wrongType(raw, "a string", expected);
      if (!(values as readonly string[]).includes(raw)) {
        throw new ValueProblem("invalid-enum", `invalid value ${show(raw)}`, expected, { suggestion: closestMatch(raw, values) });
      }
      return raw as V;
    },
  };
}

export function duration(): ValueType<number> {
  return {
    expected: DURATION_EXPECTED,
    read(raw) {
      if (typeof raw === "number") {
        throw new ValueProblem("bad-duration", `duration ${raw} has no unit`, DURATION_EXPECTED, { help: `write it as a string with a unit, such as "${raw}s" or "${raw}m"` });
      }
      if (typeof raw !== "string") throw wrongType(raw, "a duration string", DURATION_EXPECTED);
      try {
        return parseDuration(raw);
      } catch (e) {
        throw fromUnitError(e, "bad-duration");
      }
    },
  };
}

export function size(min: number): ValueType<number> {
  return {
    expected: SIZE_EXPECTED,
    read(raw) {
      if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "bigint") throw wrongType(raw, "a size", SIZE_EXPECTED);
      let bytes: number;
      try {
        bytes = parseSize(raw);
      } catch (e) {
        throw fromUnitError(e, "bad-size");
      }
      if (bytes < min) throw new ValueProblem("out-of-range", `${show(raw)} is too small`, `a size of at least ${min} byte${min === 1 ? "" : "s"}`);
      return bytes;
    },
  };
}

function fromUnitError(e: unknown, code: ConfigErrorCode): ValueProblem {
  if (!(e instanceof UnitError)) throw e;
  return new ValueProblem(code, e.message, e.expected, { help: e.hint });
}

/** A path glob, kept as text; compiled here only to reject bad ones at load time. */
export function glob(): ValueType<string> {
  return {
    expected: GLOB_EXPECTED,
    read(raw) {
      if (typeof raw !== "string") throw wrongType(raw, "a glob string", GLOB_EXPECTED);
      try {
        compileGlob(raw);
      } catch (e) {
        if (!(e instanceof GlobError)) throw e;
        throw new ValueProblem("bad-glob", `invalid glob ${show(raw)}: ${e.message}`, GLOB_EXPECTED, { help: e.hint, offset: e.offset });
      }
      return raw;
    },
  };
}

export interface HostPort {
  host: string;
  port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?$/;

/** Reads "host:port", "192.168.1.10:7420" or "[::1]:7420". Port 0 ("any free port") only if allowed. */
export function parseHostPort(textValue: string, allowPortZero: boolean): HostPort {
  const expected = `"host:port", such as "nas-1.lan:7420", "192.168.1.10:7420" or "[::1]:7420"${allowPortZero ? "" : " (port 1 to 65535)"}`;
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(textValue);
  if (!m) {
    const help = !textValue.includes(":") ? `add the port, such as "${textValue}:7420"` : /^\w+:\/\//.test(textValue) ? "write the address without a scheme such as ws://" : textValue.split(":").length > 2 && !textValue.startsWith("[") ? `put an IPv6 address in brackets: "[${textValue.replace(/:\d+$/, "")}]:7420"` : undefined;
    throw new ValueProblem("bad-address", `invalid address ${JSON.stringify(textValue)}`, expected, { help });
  }
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  const hostOk = m[1] !== undefined ? m[1].includes(":") && IPV6.test(m[1]) : IPV4.test(host) || (HOSTNAME.test(host) && !/^[\d.]+$/.test(host));
  if (!hostOk) throw new ValueProblem("bad-address", `invalid host ${JSON.stringify(host)} in address ${JSON.stringify(textValue)}`, expected);
  if (port > 65535 || (port === 0 && !allowPortZero)) throw new ValueProblem("bad-address", `invalid port ${port} in address ${JSON.stringify(textValue)}`, expected);
  return { host, port };
}

export function formatHostPort(a: HostPort): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function address(allowPortZero: boolean): ValueType<HostPort> {
  const expected = '"host:port", such as "nas-1.lan:7420" or "[::1]:7420"';
  return {
    expected,
    read(raw) {
      if (typeof raw !== "string") throw wrongType(raw, "an address string", expected);
      return parseHostPort(raw, allowPortZero);
    },
  };
}

/** A list of `item`s; with `unique`, a repeated item is an error pointing at the repeat. */
export function list<T>(item: ValueType<T>, unique: boolean): ValueType<T[]> {
  const expected = `a list, each item ${item.expected}`;
  return {
    expected,
    read(raw) {
      if (!Array.isArray(raw)) throw wrongType(raw, "an array", expected);
      const seen = new Map<string, number>();
      return raw.map((element, index) => {
        try {
          const value = item.read(element);
          const id = JSON.stringify(value);
          if (unique && seen.has(id)) {
            throw new ValueProblem("bad-value", `${show(element)} is listed twice (items ${seen.get(id)! + 1} and ${index + 1})`, `a list without repeats`, { help: "remove one of them" });
          }
          seen.set(id, index);
          return value;
        } catch (e) {
          if (!(e instanceof ValueProblem)) throw e;
          throw new ValueProblem(e.code, e.message, e.expected, { ...e.extra, below: [index, ...(e.extra.below ?? [])] });
        }
      });
    },
  };
}
