// Reading TOML text into a plain object, with syntax errors turned into ConfigErrors.

import TOML from "@iarna/toml";
import { ConfigError, ProblemList, type Location } from "./errors.js";
import { MAX_NESTING, SourceMap } from "./locate.js";

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

/**
 * Parses TOML, or throws a ConfigError (code "syntax") at the line and column of the error.
 * @iarna/toml only ever sees text whose keys the scanner has checked: where the scanner
 * stops (the text is not TOML there), the parser gets the text up to the end of that line,
 * which is enough for it to report the error precisely.
 */
export function parseToml(sourceText: string, file: string): ParsedToml {
  const map = new SourceMap(sourceText);
  const lines = sourceText.split(/\r?\n/);
  const syntaxError = (headline: string, at: Location, help?: string) =>
    new ConfigError(file, { code: "syntax", key: "", headline, expected: "valid TOML (https://toml.io)", help, at }, lines[at.line - 1]);
  if (map.tooDeep) {
    throw syntaxError(`values nested more than ${MAX_NESTING} levels deep`, map.locationOf(map.stoppedAt!), "no Wormhole setting needs nested arrays or tables");
  }
  refuseReservedNames(map, sourceText, file);
  const stop = map.stoppedAt;
  const checked = stop === undefined ? sourceText : sourceText.slice(0, endOfLine(sourceText, stop));
  let doc: Record<string, unknown>;
  try {
    doc = TOML.parse(checked) as Record<string, unknown>;
  } catch (e) {
    const err = e as IarnaError;
    if (!err.fromTOML || err.line === undefined || err.col === undefined) throw e;
    // @iarna/toml's message is "<what> at row R, col C, pos P:\n<excerpt>"; we show our own excerpt.
    const what = err.message.split(/ at row \d+/)[0];
    const at = { line: err.line + 1, column: err.col + 1, length: 1 };
    if (what.startsWith("Can't redefine existing key")) {
      throw syntaxError("duplicate key or table: it is already defined above", at, "each key may appear once per table, and each [table] header once; use [[name]] for repeated entries");
    }
    throw syntaxError(`TOML syntax error: ${what}`, at);
  }
  // The parser accepted a line the scanner could not follow; refuse rather than guess.
  if (stop !== undefined) throw syntaxError("TOML syntax error: cannot read this line", map.locationOf(stop));
  return { doc, map };
}

function endOfLine(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline === -1 ? text.length : newline;
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
