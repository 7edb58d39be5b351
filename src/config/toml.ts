// Reading TOML text into a plain object, with syntax errors turned into ConfigErrors.

import TOML from "@iarna/toml";
import { ConfigError, ProblemList } from "./errors.js";
import { SourceMap } from "./locate.js";

interface IarnaError extends Error {
  fromTOML?: boolean;
  line?: number;
  col?: number;
}

/**
 * Key names that @iarna/toml 3.0 resolves through Object.prototype: `[constructor]` makes it
 * write the table's keys onto the global `Object` function, `a.toString.x = 1` onto
 * `Object.prototype.toString`. A wormhole.toml arrives from peers, so such names are refused
 * before that parser sees the text.
 */
const RESERVED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

export interface ParsedToml {
  doc: Record<string, unknown>;
  /** Positions of every key, table and value, for error messages. */
  map: SourceMap;
}

/** Parses TOML, or throws a ConfigError (code "syntax") at the line and column of the error. */
export function parseToml(sourceText: string, file: string): ParsedToml {
  const map = new SourceMap(sourceText);
  refuseReservedNames(map, sourceText, file);
  try {
    return { doc: TOML.parse(sourceText) as Record<string, unknown>, map };
  } catch (e) {
    const err = e as IarnaError;
    if (!err.fromTOML || err.line === undefined || err.col === undefined) throw e;
    // @iarna/toml's message is "<what> at row R, col C, pos P:\n<excerpt>"; we show our own excerpt.
    const what = err.message.split(/ at row \d+/)[0];
    const redefined = what.startsWith("Can't redefine existing key");
    throw new ConfigError(
      file,
      {
        code: "syntax",
        key: "",
        headline: redefined ? "duplicate key or table: it is already defined above" : `TOML syntax error: ${what}`,
        expected: "valid TOML (https://toml.io)",
        help: redefined ? "each key may appear once per table, and each [table] header once; use [[name]] for repeated entries" : undefined,
        at: { line: err.line + 1, column: err.col + 1, length: 1 },
      },
      sourceText.split(/\r?\n/)[err.line],
    );
  }
}

function refuseReservedNames(map: SourceMap, sourceText: string, file: string): void {
  const problems = new ProblemList(file, sourceText);
  for (const path of map.paths) {
    const name = path[path.length - 1];
    if (typeof name !== "string" || !RESERVED_NAMES.has(name)) continue;
    problems.add({
      code: "unknown-key",
      key: path.map(String).join("."),
      headline: `key name \`${name}\` is not allowed`,
      expected: "the keys and tables described in docs/config.md",
      help: "names of JavaScript built-ins such as `constructor` or `toString` cannot be used as keys",
      at: map.find(path)!.key,
    });
  }
  problems.throwIfAny();
}

/** Removes a UTF-8 byte order mark, which some Windows editors add and TOML rejects. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
