// "Did you mean ...?" for misspelt keys and enum values.

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("redudnancy"). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Folds the differences people make without meaning to: case, and `-` versus `_`. */
function fold(s: string): string {
  return s.toLowerCase().replace(/-/g, "_");
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo: at most one
 * edit for short words, about a third of the length for longer ones.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const folded = fold(word);
  for (const candidate of candidates) {
    const distance = fold(candidate) === folded ? 0 : editDistance(folded, fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}
