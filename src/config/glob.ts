// Path globs for [[rules]] and client `keep` lists, compiled once to a RegExp.
// Syntax: `*` (within one path segment), `**` (any number of whole segments), `?`,
// `[abc]` / `[a-z]` / `[!abc]`, `{a,b}` (nestable), `\x` for a literal character.
// Globs are anchored cluster paths: they start with `/` and must match the whole path.
// Unlike a shell, `*` also matches names starting with a dot: cluster rules are about data,
// and hiding dotfiles from a rule would be a surprise.

/** A glob that cannot be compiled; `offset` is the index in the glob where the problem is. */
export class GlobError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "GlobError";
  }
}

export const GLOB_EXPECTED = 'a path glob starting with "/", such as "/photos/**" or "/**/*.{tmp,bak}"';

const REGEX_SPECIAL = /[.+^$|()\\{}[\]*?]/;

function literal(ch: string): string {
  return REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch;
}

/** Compiles `glob` to an anchored RegExp, or throws GlobError pointing at the bad character. */
export function compileGlob(glob: string): RegExp {
  if (!glob.startsWith("/")) {
    throw new GlobError("glob must start with `/`", 0, `cluster paths are absolute: write "/${glob}", or "/**/${glob}" to match at any depth`);
  }
  if (glob.length > 1 && glob.endsWith("/")) {
    throw new GlobError("glob must not end with `/`", glob.length - 1, `write "${glob}**" to match everything under that directory`);
  }
  let out = "";
  let i = 0;
  const braces: number[] = [];
  while (i < glob.length) {
    const ch = glob[i];
    if (ch === "*" && glob[i + 1] === "*") {
      const segmentStart = i === 0 || glob[i - 1] === "/";
      const segmentEnd = i + 2 === glob.length || glob[i + 2] === "/";
      if (!segmentStart || !segmentEnd || glob[i + 2] === "*") {
        throw new GlobError("`**` must be a whole path segment", i, 'use "/a/**/b" for any depth, or "*" within one name');
      }
      if (i + 2 === glob.length) {
        // Trailing "/**": the directory itself and everything below it. The "/" before was
        // already emitted; make it optional together with the rest.
        out = out.slice(0, -1) + "(?:/.*)?";
        i += 2;
      } else {
        // "/**/": zero or more whole segments. The leading "/" was emitted already.
        out += "(?:[^/]*/)*";
        i += 3;
      }
      continue;
    }
    if (ch === "*") {
      out += "[^/]*";
    } else if (ch === "?") {
      out += "[^/]";
    } else if (ch === "[") {
      const close = classEnd(glob, i);
      out += compileClass(glob.slice(i + 1, close), i + 1);
      i = close + 1;
      continue;
    } else if (ch === "]") {
      throw new GlobError("`]` without a matching `[`", i, "write `\\]` for a literal bracket");
    } else if (ch === "{") {
      braces.push(i);
      out += "(?:";
    } else if (ch === "}") {
      if (braces.length === 0) throw new GlobError("`}` without a matching `{`", i, "write `\\}` for a literal brace");
      braces.pop();
      out += ")";
    } else if (ch === "," && braces.length > 0) {
      out += "|";
    } else if (ch === "\\") {
      if (i + 1 >= glob.length) throw new GlobError("glob ends with a lone `\\`", i, "write `\\\\` for a literal backslash");
      out += literal(glob[i + 1]);
      i += 2;
      continue;
    } else {
      out += literal(ch);
    }
    i++;
  }
  if (braces.length > 0) throw new GlobError("`{` is never closed", braces[braces.length - 1], "close it with `}`, as in {jpg,png}");
  return new RegExp(`^${out}$`, "s");
}

function classEnd(glob: string, open: number): number {
  let j = open + 1;
  if (glob[j] === "!" || glob[j] === "^") j++;
  if (glob[j] === "]") j++; // a leading "]" is a literal member, as in shells
  while (j < glob.length && glob[j] !== "]") {
    if (glob[j] === "/") throw new GlobError("`/` cannot appear inside `[...]`", j, "a character class matches one character of a name");
    if (glob[j] === "\\") j++;
    j++;
  }
  if (j >= glob.length) throw new GlobError("`[` is never closed", open, "close it with `]`, or write `\\[` for a literal bracket");
  return j;
}

function compileClass(body: string, bodyOffset: number): string {
  let negate = false;
  let k = 0;
  if (body[0] === "!" || body[0] === "^") {
    negate = true;
    k = 1;
  }
  let members = "";
  while (k < body.length) {
    let ch = body[k];
    if (ch === "\\") ch = body[++k];
    if (body[k + 1] === "-" && k + 2 < body.length) {
      const escapedHi = body[k + 2] === "\\" && k + 3 < body.length;
      const hi = escapedHi ? body[k + 3] : body[k + 2];
      const next = escapedHi ? k + 4 : k + 3;
      if (hi < ch) throw new GlobError(`range \`${ch}-${hi}\` is backwards`, bodyOffset + k, `write \`${hi}-${ch}\``);
      members += `${escapeInClass(ch)}-${escapeInClass(hi)}`;
      k = next;
      continue;
    }
    members += escapeInClass(ch);
    k++;
  }
  // A class never matches "/" even when negated: it matches one character of a name.
  return negate ? `[^/${members}]` : `(?!/)[${members}]`;
}

function escapeInClass(ch: string): string {
  return /[\\\]^-]/.test(ch) ? `\\${ch}` : ch;
}

/** True if `path` (a cluster path starting with "/") matches one of `globs`. */
export function matchesAny(patterns: readonly RegExp[], path: string): boolean {
  return patterns.some((re) => re.test(path));
}
