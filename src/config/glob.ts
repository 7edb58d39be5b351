// Path globs for [[rules]] and client `keep` lists, compiled once into a small automaton.
// Syntax: `*` (within one path segment), `**` (any number of whole segments), `?`,
// `[abc]` / `[a-z]` / `[!abc]`, `{a,b}` (nestable), `\x` for a literal character.
// Globs are anchored cluster paths: they start with `/` and must match the whole path.
// Unlike a shell, `*` also matches names starting with a dot: cluster rules are about data,
// and hiding dotfiles from a rule would be a surprise.
//
// Two ways to match. Most globs become a RegExp (fast: about 0.1 µs a path). But a glob
// such as "/*a*a*a*a*a*a*a*ab" makes a backtracking RegExp take 40 s on one 60-character
// name, and wormhole.toml comes from peers. Globs that could backtrack like that (two
// `*` in one segment, or more than one `**`) run on an automaton that simulates all its
// states at once (Thompson): at most (path length × glob length) steps whatever the glob.
// Both come from the same parse; a test checks that they agree.

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

/** A compiled glob; `test` answers whether a cluster path matches it. */
export interface GlobMatcher {
  readonly glob: string;
  test(path: string): boolean;
}

type Node =
  | { kind: "char"; ch: string }
  | { kind: "any" } // ?
  | { kind: "star" } // *
  | { kind: "segments" } // "**/": zero or more whole segments
  | { kind: "tail" } // trailing "/**": nothing, or "/" and anything
  | { kind: "class"; ranges: Array<[number, number]>; negate: boolean }
  | { kind: "alt"; options: Node[][] };

/** Parses a glob into nodes, throwing GlobError at the first problem. */
class GlobParser {
  private i = 0;
  private readonly chars: string[];

  constructor(private readonly glob: string) {
    // Code points, so that "?" matches one emoji and not half of one.
    this.chars = Array.from(glob);
  }

  /** UTF-16 offset of code point `index`, for error positions. */
  private offset(index: number): number {
    return this.chars.slice(0, index).join("").length;
  }

  private fail(message: string, index: number, hint?: string): never {
    throw new GlobError(message, this.offset(index), hint);
  }

  parse(): Node[] {
    const { glob, chars } = this;
    if (chars[0] !== "/") this.fail("glob must start with `/`", 0, `cluster paths are absolute: write "/${glob}", or "/**/${glob}" to match at any depth`);
    if (chars.length > 1 && chars[chars.length - 1] === "/") this.fail("glob must not end with `/`", chars.length - 1, `write "${glob}**" to match everything under that directory`);
    return this.sequence(false);
  }

  /** Nodes up to the end, or (inside braces) up to the next unescaped `,` or `}`. */
  private sequence(inBraces: boolean): Node[] {
    const c = this.chars;
    const out: Node[] = [];
    while (this.i < c.length) {
      const ch = c[this.i];
      if (inBraces && (ch === "," || ch === "}")) return out;
      if (ch === "*" && c[this.i + 1] === "*") {
        const segmentStart = c[this.i - 1] === "/";
        const atEnd = this.i + 2 === c.length;
        if (!segmentStart || !(atEnd || c[this.i + 2] === "/")) this.fail("`**` must be a whole path segment", this.i, 'use "/a/**/b" for any depth, or "*" within one name');
        // "/**/**" means the same as "/**": repeats would only add states.
        while (out[out.length - 1]?.kind === "segments") out.pop();
        if (atEnd) {
          out.pop(); // the "/" before "**" becomes part of the optional tail
          out.push({ kind: "tail" });
          this.i += 2;
        } else {
          out.push({ kind: "segments" });
          this.i += 3;
        }
        continue;
      }
      this.i++;
      if (ch === "*") out.push({ kind: "star" });
      else if (ch === "?") out.push({ kind: "any" });
      else if (ch === "[") out.push(this.charClass(this.i - 1));
      else if (ch === "]") this.fail("`]` without a matching `[`", this.i - 1, "write `\\]` for a literal bracket");
      else if (ch === "{") out.push(this.alternatives(this.i - 1));
      else if (ch === "}") this.fail("`}` without a matching `{`", this.i - 1, "write `\\}` for a literal brace");
      else if (ch === "\\") {
        if (this.i >= c.length) this.fail("glob ends with a lone `\\`", this.i - 1, "write `\\\\` for a literal backslash");
        out.push({ kind: "char", ch: c[this.i++] });
      } else out.push({ kind: "char", ch });
    }
    return out;
  }

  private alternatives(open: number): Node {
    const options: Node[][] = [];
    for (;;) {
      options.push(this.sequence(true));
      if (this.i >= this.chars.length) this.fail("`{` is never closed", open, "close it with `}`, as in {jpg,png}");
      if (this.chars[this.i++] === "}") return { kind: "alt", options };
    }
  }

  private charClass(open: number): Node {
    const c = this.chars;
    let negate = false;
    if (c[this.i] === "!" || c[this.i] === "^") {
      negate = true;
      this.i++;
    }
    const ranges: Array<[number, number]> = [];
    let first = true;
    for (;;) {
      if (this.i >= c.length) this.fail("`[` is never closed", open, "close it with `]`, or write `\\[` for a literal bracket");
      if (c[this.i] === "]" && !first) {
        this.i++;
        return { kind: "class", ranges, negate };
      }
      first = false; // a leading "]" is a member, as in shells
      const lo = this.classChar();
      if (c[this.i] === "-" && this.i + 1 < c.length && c[this.i + 1] !== "]") {
        const at = this.i - 1;
        this.i++;
        const hi = this.classChar();
        if (hi < lo) this.fail(`range \`${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}\` is backwards`, at, `write \`${String.fromCodePoint(hi)}-${String.fromCodePoint(lo)}\``);
        ranges.push([lo, hi]);
      } else {
        ranges.push([lo, lo]);
      }
    }
  }

  private classChar(): number {
    const c = this.chars;
    if (c[this.i] === "/") this.fail("`/` cannot appear inside `[...]`", this.i, "a character class matches one character of a name");
    if (c[this.i] === "\\" && this.i + 1 < c.length) this.i++;
    return c[this.i++].codePointAt(0)!;
  }
}

// The automaton: instructions that consume one character, or jump without consuming.
type Op =
  | { op: "char"; ch: string }
  | { op: "name" } // any character but "/"
  | { op: "anything" } // any character
  | { op: "class"; ranges: Array<[number, number]>; negate: boolean }
  | { op: "split"; to: [number, number] }
  | { op: "jump"; to: number }
  | { op: "match" };

function emit(nodes: Node[], prog: Op[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case "char":
        prog.push({ op: "char", ch: node.ch });
        break;
      case "any":
        prog.push({ op: "name" });
        break;
      case "class":
        prog.push({ op: "class", ranges: node.ranges, negate: node.negate });
        break;
      case "star":
        loop(prog, { op: "name" });
        break;
      case "tail": {
        const split = prog.push({ op: "split", to: [0, 0] }) - 1;
        prog.push({ op: "char", ch: "/" });
        loop(prog, { op: "anything" });
        (prog[split] as { to: [number, number] }).to = [split + 1, prog.length];
        break;
      }
      case "segments": {
        const top = prog.push({ op: "split", to: [0, 0] }) - 1;
        loop(prog, { op: "name" });
        prog.push({ op: "char", ch: "/" }, { op: "jump", to: top });
        (prog[top] as { to: [number, number] }).to = [top + 1, prog.length];
        break;
      }
      case "alt": {
        const exits: number[] = [];
        node.options.forEach((option, k) => {
          const last = k === node.options.length - 1;
          const split = last ? -1 : prog.push({ op: "split", to: [0, 0] }) - 1;
          emit(option, prog);
          if (!last) {
            exits.push(prog.push({ op: "jump", to: 0 }) - 1);
            (prog[split] as { to: [number, number] }).to = [split + 1, prog.length];
          }
        });
        for (const exit of exits) (prog[exit] as { to: number }).to = prog.length;
        break;
      }
    }
  }
}

/** Zero or more of `step`. */
function loop(prog: Op[], step: Op): void {
  const split = prog.push({ op: "split", to: [0, 0] }) - 1;
  prog.push(step, { op: "jump", to: split });
  (prog[split] as { to: [number, number] }).to = [split + 1, prog.length];
}

function consumes(op: Op, ch: string): boolean {
  switch (op.op) {
    case "char":
      return op.ch === ch;
    case "name":
      return ch !== "/";
    case "anything":
      return true;
    case "class": {
      if (ch === "/") return false;
      const code = ch.codePointAt(0)!;
      return op.ranges.some(([lo, hi]) => code >= lo && code <= hi) !== op.negate;
    }
    default:
      return false;
  }
}

class Automaton implements GlobMatcher {
  constructor(
    readonly glob: string,
    private readonly prog: Op[],
  ) {}

  test(path: string): boolean {
    const prog = this.prog;
    const seen = new Int32Array(prog.length).fill(-1);
    let current: number[] = [];
    let step = 0;
    const add = (list: number[], pc: number) => {
      // Follow jumps and splits now, so `list` holds only consuming ops and "match".
      const stack = [pc];
      while (stack.length > 0) {
        const at = stack.pop()!;
        if (seen[at] === step) continue;
        seen[at] = step;
        const op = prog[at];
        if (op.op === "jump") stack.push(op.to);
        else if (op.op === "split") stack.push(op.to[1], op.to[0]);
        else list.push(at);
      }
    };
    add(current, 0);
    for (const ch of path) {
      step++;
      const next: number[] = [];
      for (const pc of current) if (consumes(prog[pc], ch)) add(next, pc + 1);
      if (next.length === 0) return false;
      current = next;
    }
    return current.some((pc) => prog[pc].op === "match");
  }
}

/**
 * Could a backtracking RegExp for these nodes take super-linear time? Yes when one path
 * segment holds two unbounded `*` (they can split a name many ways) or when more than one
 * `**` exists (they can split the directories many ways). Stars inside braces count.
 */
function couldBacktrack(nodes: Node[]): boolean {
  let globstars = 0;
  let starsInSegment = 0;
  const visit = (list: Node[]): boolean => {
    for (const node of list) {
      if (node.kind === "segments" || node.kind === "tail") {
        globstars++;
        starsInSegment = 0;
      } else if (node.kind === "char" && node.ch === "/") starsInSegment = 0;
      else if (node.kind === "star") starsInSegment++;
      else if (node.kind === "alt") {
        for (const option of node.options) if (visit(option)) return true;
      }
      if (globstars > 1 || starsInSegment > 1) return true;
    }
    return false;
  };
  return visit(nodes);
}

function regexSource(nodes: Node[]): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case "char":
          return node.ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        case "any":
          return "[^/]";
        case "star":
          return "[^/]*";
        case "segments":
          return "(?:[^/]*/)*";
        case "tail":
          return "(?:/.*)?";
        case "class": {
          const members = node.ranges.map(([lo, hi]) => (lo === hi ? `\\u{${lo.toString(16)}}` : `\\u{${lo.toString(16)}}-\\u{${hi.toString(16)}}`)).join("");
          // A class never matches "/", even negated: it matches one character of a name.
          return node.negate ? `[^/${members}]` : `(?!/)[${members}]`;
        }
        case "alt":
          return `(?:${node.options.map(regexSource).join("|")})`;
      }
    })
    .join("");
}

/** Compiles `glob` (see the top of this file), or throws GlobError pointing at the bad character. */
export function compileGlob(glob: string): GlobMatcher {
  return compileWith(glob, "auto");
}

/** For tests: force one of the two matchers. */
export function compileWith(glob: string, engine: "auto" | "regex" | "automaton"): GlobMatcher {
  const nodes = new GlobParser(glob).parse();
  if (engine === "regex" || (engine === "auto" && !couldBacktrack(nodes))) {
    const re = new RegExp(`^${regexSource(nodes)}$`, "su");
    return { glob, test: (path) => re.test(path) };
  }
  const prog: Op[] = [];
  emit(nodes, prog);
  prog.push({ op: "match" });
  return new Automaton(glob, prog);
}

/** True if `path` (a cluster path starting with "/") matches one of the compiled globs. */
export function matchesAny(globs: readonly GlobMatcher[], path: string): boolean {
  return globs.some((g) => g.test(path));
}
