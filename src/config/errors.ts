// ConfigError: one problem in a config file, shown the way rustc shows a compile error, so
// that an admin sees the file, the line, the offending text and the fix in one glance.

export type ConfigErrorCode =
  | "io"
  | "syntax"
  | "unknown-key"
  | "unknown-table"
  | "wrong-type"
  | "out-of-range"
  | "invalid-enum"
  | "bad-duration"
  | "bad-size"
  | "bad-glob"
  | "bad-address"
  | "bad-value"
  | "missing-key"
  | "duplicate-rule"
  | "contradiction"
  | "unknown-kind";

/** Where in a file a problem is. Lines and columns are 1-based; line 0 means "the file". */
export interface Location {
  line: number;
  column: number;
  /** How many characters to underline (at least 1). */
  length: number;
}

export interface ConfigProblem {
  code: ConfigErrorCode;
  /** Dotted key path, e.g. `cluster.redundancy`, `rules[2].path`; "" for the whole file. */
  key: string;
  /** First line of the message, without the "error: " prefix. */
  headline: string;
  /** What a valid value or file looks like. */
  expected: string;
  /** A close match for a misspelt key, table or value. */
  suggestion?: string;
  /** Any other advice ("remove the quotes", "this belongs in pod.toml"). */
  help?: string;
  at: Location;
}

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly key: string;
  readonly expected: string;
  readonly suggestion?: string;
  readonly help?: string;
  /** The problems found in the file (at most 20), this one first; the message shows them all. */
  readonly errors: ConfigError[];

  /**
   * `sourceLine` is the text of line `problem.at.line`, shown under the location; `others`
   * are the file's further problems; `unshown` counts problems left out of the list.
   */
  constructor(file: string, problem: ConfigProblem, sourceLine?: string, others: ConfigError[] = [], unshown = 0) {
    super(renderProblem(file, problem, sourceLine) + renderOthers(others, unshown));
    this.name = "ConfigError";
    this.code = problem.code;
    this.file = file;
    this.line = problem.at.line;
    this.column = problem.at.column;
    this.key = problem.key;
    this.expected = problem.expected;
    this.suggestion = problem.suggestion;
    this.help = problem.help;
    this.errors = [this, ...others];
  }
}

function renderOthers(others: ConfigError[], unshown: number): string {
  if (others.length === 0) return "";
  const rest = others.map((e) => `\n\n${e.message}`).join("");
  const total = others.length + 1 + unshown;
  const more = unshown > 0 ? ` (the first ${others.length + 1} are shown)` : "";
  return `${rest}\n\nerror: ${total} problems found${more}; fix them all and check again`;
}

/**
 * Control characters from a file (which may come from a peer) would be interpreted by the
 * admin's terminal when the message is printed: show them as U+FFFD instead.
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "\ufffd");
}

/** Renders one problem in rustc style (see docs/config.md for an example). */
function renderProblem(file: string, p: ConfigProblem, sourceLine: string | undefined): string {
  return printable(renderLines(file, p, sourceLine));
}

function renderLines(file: string, p: ConfigProblem, sourceLine: string | undefined): string {
  const lines = [`error: ${p.headline}`];
  const gutter = " ".repeat(String(p.at.line).length);
  lines.push(p.at.line > 0 ? `${gutter}--> ${file}:${p.at.line}:${p.at.column}` : `${gutter}--> ${file}`);
  if (sourceLine !== undefined && p.at.line > 0) {
    const shown = sourceLine.replace(/\t/g, " ");
    const maxLength = Math.max(1, shown.length - (p.at.column - 1));
    const underline = "^".repeat(Math.max(1, Math.min(p.at.length, maxLength)));
    lines.push(`${gutter} |`, `${p.at.line} | ${shown}`, `${gutter} | ${" ".repeat(p.at.column - 1)}${underline}`);
  }
  // For a misspelt key the suggestion says it all; a bad value also lists what is valid.
  const misspeltName = p.suggestion !== undefined && (p.code === "unknown-key" || p.code === "unknown-table");
  if (!misspeltName) lines.push(`${gutter} = expected: ${p.expected}`);
  if (p.suggestion !== undefined) lines.push(`${gutter} = help: did you mean \`${p.suggestion}\`?`);
  if (p.help !== undefined) lines.push(`${gutter} = help: ${p.help}`);
  return lines.join("\n");
}

/** Past this many, problems are counted but not rendered: a hostile or garbled file must not make a huge message. */
const MAX_SHOWN_PROBLEMS = 20;

/** Collects the problems found while validating one file, then throws them together. */
export class ProblemList {
  private readonly problems: ConfigProblem[] = [];
  private readonly lines: string[];

  constructor(
    readonly file: string,
    readonly sourceText: string,
  ) {
    this.lines = sourceText.split(/\r?\n/);
  }

  add(problem: ConfigProblem): void {
    this.problems.push(problem);
  }

  /** Throws a ConfigError carrying every problem, ordered by position, if there is any. */
  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const sorted = [...this.problems].sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
    const shown = sorted.slice(0, MAX_SHOWN_PROBLEMS).map((p) => new ConfigError(this.file, p, this.lines[p.at.line - 1]));
    throw new ConfigError(this.file, sorted[0], this.lines[sorted[0].at.line - 1], shown.slice(1), sorted.length - shown.length);
  }
}
