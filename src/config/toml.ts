// Reading TOML text into a plain object, with syntax errors turned into ConfigErrors.

import TOML from "@iarna/toml";
import { ConfigError } from "./errors.js";

interface IarnaError extends Error {
  fromTOML?: boolean;
  line?: number;
  col?: number;
}

/** Parses TOML, or throws a ConfigError (code "syntax") at the line and column of the error. */
export function parseToml(sourceText: string, file: string): Record<string, unknown> {
  try {
    return TOML.parse(sourceText) as Record<string, unknown>;
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

/** Removes a UTF-8 byte order mark, which some Windows editors add and TOML rejects. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
