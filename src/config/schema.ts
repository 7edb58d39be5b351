// The schema engine shared by wormhole.toml and pod.toml: tables of typed fields with
// defaults, unknown-key and unknown-table detection with "did you mean", and problems
// located in the source through SourceMap.

import type { ConfigErrorCode, Location } from "./errors.js";
import { ProblemList } from "./errors.js";
import type { KeyPath, SourceMap } from "./locate.js";
import { closestMatch } from "./suggest.js";
import { parseToml, stripBom } from "./toml.js";
import { isTable, tomlTypeOf, ValueProblem, type ValueType } from "./types.js";

export interface Field<T> {
  readonly type: ValueType<T>;
  readonly required: boolean;
  /** Used when the key is absent (never read for a required field). */
  readonly fallback: T;
}

export function required<T>(type: ValueType<T>): Field<T> {
  return { type, required: true, fallback: undefined as T };
}

export function optional<T>(type: ValueType<T>, fallback: T): Field<T> {
  return { type, required: false, fallback };
}

/** A key with no default: `undefined` when absent, so the caller can tell "not written". */
export function ifWritten<T>(type: ValueType<T>): Field<T | undefined> {
  return optional<T | undefined>(type, undefined);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table mixes field types
export type TableSpec = Record<string, Field<any>>;
export type TableOut<S extends TableSpec> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export interface FileSchema {
  /** Plain tables, `[name]`. */
  readonly tables: Record<string, TableSpec>;
  /** Arrays of tables, `[[name]]`. */
  readonly arrays: Record<string, TableSpec>;
  readonly requiredTables: readonly string[];
  /** Tables and keys that belong in the other config file, with where they go. */
  readonly elsewhere: Record<string, string>;
}

/** Where a table or key of the other config file belongs (own properties only: a key named "constructor" is just unknown). */
function elsewhere(schema: FileSchema, name: string): string | undefined {
  return Object.hasOwn(schema.elsewhere, name) ? schema.elsewhere[name] : undefined;
}

/** `["rules", 2, "path"]` → `rules[2].path`; a name that is not a bare TOML key is quoted. */
export function keyName(path: KeyPath): string {
  return path
    .map((p, i) => {
      if (typeof p === "number") return `[${p}]`;
      const name = /^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p);
      return i === 0 ? name : `.${name}`;
    })
    .join("");
}

export interface ReportExtra {
  help?: string;
  suggestion?: string;
  /** Point at the key (default) or at its value. */
  at?: "key" | "value";
  offset?: number;
}

/**
 * Parses a config file's text (a syntax error throws at once) and checks its top level
 * against `schema`. The caller reads its tables with `v.readTable`, adds its own cross-key
 * checks, then calls `v.finish()`.
 */
export function beginValidation(sourceText: string, file: string, schema: FileSchema): { doc: Record<string, unknown>; v: Validator } {
  const text = stripBom(sourceText);
  const { doc, map } = parseToml(text, file);
  const v = new Validator(new ProblemList(file, text), schema, map);
  v.checkTopLevel(doc);
  return { doc, v };
}

/** Validates one parsed document, collecting located problems. */
export class Validator {
  private readonly lines: string[];

  constructor(
    private readonly problems: ProblemList,
    private readonly schema: FileSchema,
    readonly map: SourceMap,
  ) {
    this.lines = problems.sourceText.split(/\r?\n/);
  }

  /** Throws every problem found so far as one ConfigError, if there is any. */
  finish(): void {
    this.problems.throwIfAny();
  }

  report(path: KeyPath, code: ConfigErrorCode, headline: string, expected: string, extra: ReportExtra = {}): void {
    this.problems.add({
      code,
      key: keyName(path),
      headline,
      expected,
      suggestion: extra.suggestion,
      help: extra.help,
      at: this.locate(path, extra),
    });
  }

  private locate(path: KeyPath, extra: ReportExtra): Location {
    const hit = this.map.find(path);
    if (!hit) return this.map.nearest(path);
    if (extra.at !== "value") return hit.key;
    const value = hit.value;
    const opening = this.lines[value.line - 1]?.[value.column - 1];
    const singleQuoted = (opening === '"' || opening === "'") && this.lines[value.line - 1][value.column] !== opening;
    if (extra.offset !== undefined && singleQuoted) return { line: value.line, column: value.column + 1 + extra.offset, length: 1 };
    return value;
  }

  /** Reports keys and tables at the top level that the schema does not know. */
  checkTopLevel(doc: Record<string, unknown>): void {
    const schema = this.schema;
    const tableNames = [...Object.keys(schema.tables), ...Object.keys(schema.arrays)];
    for (const [name, raw] of Object.entries(doc)) {
      if (Object.hasOwn(schema.tables, name)) {
        if (!isTable(raw)) this.report([name], "wrong-type", `\`${name}\` must be a table, found ${tomlTypeOf(raw)}`, `a table header [${name}] followed by its keys`, { help: `write [${name}] on its own line and put its keys below it` });
      } else if (Object.hasOwn(schema.arrays, name)) {
        if (!Array.isArray(raw) || !raw.every(isTable)) {
          this.report([name], "wrong-type", `\`${name}\` must be an array of tables, found ${tomlTypeOf(raw)}`, `one [[${name}]] header (double brackets) per entry`, { help: `start each entry with [[${name}]]` });
        }
      } else if (isTable(raw) || (Array.isArray(raw) && raw.length > 0 && raw.every(isTable))) {
        const suggestion = closestMatch(name, tableNames);
        this.report([name], "unknown-table", `unknown table [${keyName([name])}]`, `one of the tables ${tableNames.map((t) => `[${t}]`).join(", ")}`, {
          suggestion: suggestion && `[${suggestion}]`,
          help: suggestion ? undefined : elsewhere(schema, name),
        });
      } else {
        const owner = tableNames.find((t) => Object.hasOwn(schema.tables[t] ?? schema.arrays[t], name));
        this.report([name], "unknown-key", `unknown key \`${keyName([name])}\` outside of any table`, "keys written below a table header", {
          help: owner ? `move it below the [${owner}] header` : (elsewhere(schema, name) ?? `keys belong to a table: ${tableNames.map((t) => `[${t}]`).join(", ")}`),
        });
      }
    }
    for (const name of schema.requiredTables) {
      if (!Object.hasOwn(doc, name)) this.report([name], "missing-key", `missing table [${name}]`, `a [${name}] table`, { help: `add a [${name}] header with its required keys` });
    }
  }

  /**
   * Reads the fields of `spec` from `raw` (absent table = all defaults), reporting unknown
   * keys, missing required keys and bad values. Fields with problems get their fallback.
   */
  readTable<S extends TableSpec>(raw: unknown, spec: S, path: KeyPath): TableOut<S> {
    const schema = this.schema;
    const out: Record<string, unknown> = {};
    if (raw !== undefined && !isTable(raw)) {
      // Already reported by checkTopLevel as the wrong type; a second wave of "missing key"
      // errors for the same mistake would only bury the first one.
      for (const [key, field] of Object.entries(spec)) out[key] = field.fallback;
      return out as TableOut<S>;
    }
    const table = raw ?? {};
    const last = path[path.length - 1];
    const label = typeof last === "number" ? `[[${keyName(path.slice(0, -1))}]] entry ${last + 1}` : `table [${keyName(path)}]`;
    for (const [key, value] of Object.entries(table)) {
      if (Object.hasOwn(spec, key)) continue;
      const suggestion = closestMatch(key, Object.keys(spec));
      const otherTable = Object.keys(schema.tables).find((t) => t !== path[0] && Object.hasOwn(schema.tables[t], key));
      const help = suggestion ? undefined : otherTable ? `\`${key}\` belongs in table [${otherTable}]` : elsewhere(schema, key);
      const what = isTable(value) ? `unknown table [${keyName([...path, key])}]` : `unknown key \`${keyName([key])}\` in ${label}`;
      this.report([...path, key], isTable(value) ? "unknown-table" : "unknown-key", what, `one of the keys of ${label}: ${Object.keys(spec).join(", ")}`, { suggestion, help });
    }
    for (const [key, field] of Object.entries(spec)) {
      const keyPath = [...path, key];
      if (!Object.hasOwn(table, key)) {
        if (field.required) {
          this.report(keyPath, "missing-key", `missing required key \`${keyName(keyPath)}\``, field.type.expected, { help: `add \`${key} = ...\` to ${label}` });
        }
        out[key] = field.fallback;
        continue;
      }
      try {
        out[key] = field.type.read(table[key]);
      } catch (e) {
        if (!(e instanceof ValueProblem)) throw e;
        const where = [...keyPath, ...(e.extra.below ?? [])];
        this.report(where, e.code, `\`${keyName(where)}\`: ${e.message}`, e.expected, { help: e.extra.help, suggestion: e.extra.suggestion, at: "value", offset: e.extra.offset });
        out[key] = field.fallback;
      }
    }
    return out as TableOut<S>;
  }
}
