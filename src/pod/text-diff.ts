// Unified diffs of two texts, for `wormhole conflicts show`: Myers' O(ND) shortest edit
// script over lines, printed as hunks with three lines of context, like `diff -u`.

type Edit = { op: " " | "-" | "+"; line: string };

/** The shortest edit script turning `a` into `b` (Myers 1986, greedy forward pass). */
function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, offset, d);
    }
  }
  return [];
}

function backtrack(trace: Int32Array[], a: readonly string[], b: readonly string[], offset: number, depth: number): Edit[] {
  const edits: Edit[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = depth; d > 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ op: " ", line: a[--x]! });
      y--;
    }
    if (x === prevX) edits.push({ op: "+", line: b[--y]! });
    else edits.push({ op: "-", line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    edits.push({ op: " ", line: a[--x]! });
    y--;
  }
  return edits.reverse();
}

const CONTEXT = 3;

/** `diff -u` of two texts; empty when they are equal. */
export function unifiedDiff(before: string, after: string, beforeName: string, afterName: string): string {
  const a = splitLines(before);
  const b = splitLines(after);
  const edits = editScript(a, b);
  if (edits.every((e) => e.op === " ")) return "";
  const out = [`--- ${beforeName}`, `+++ ${afterName}`];
  // Positions (in a and b) of each edit, then group changes with their context into hunks.
  let ai = 0;
  let bi = 0;
  const positioned = edits.map((e) => {
    const at = { ...e, a: ai, b: bi };
    if (e.op !== "+") ai++;
    if (e.op !== "-") bi++;
    return at;
  });
  let i = 0;
  while (i < positioned.length) {
    while (i < positioned.length && positioned[i]!.op === " ") i++;
    if (i >= positioned.length) break;
    const start = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend while the next change is within 2×CONTEXT unchanged lines.
    for (;;) {
      while (end < positioned.length && positioned[end]!.op !== " ") end++;
      let gap = end;
      while (gap < positioned.length && positioned[gap]!.op === " ") gap++;
      if (gap < positioned.length && gap - end <= 2 * CONTEXT) end = gap;
      else break;
    }
    const stop = Math.min(positioned.length, end + CONTEXT);
    const hunk = positioned.slice(start, stop);
    const aCount = hunk.filter((e) => e.op !== "+").length;
    const bCount = hunk.filter((e) => e.op !== "-").length;
    const first = hunk[0]!;
    out.push(`@@ -${first.a + (aCount ? 1 : 0)},${aCount} +${first.b + (bCount ? 1 : 0)},${bCount} @@`);
    for (const e of hunk) out.push(`${e.op}${e.line}`);
    i = stop;
  }
  return `${out.join("\n")}\n`;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Content we show as text: valid UTF-8 without NUL bytes. */
export function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  const text = bytes.toString("utf8");
  return Buffer.byteLength(text) === bytes.length && !text.includes("\uFFFD") ? text : undefined;
}
