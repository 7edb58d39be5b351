// "Did you mean ...?" for misspelt keys and enum values.

/**
 * Optimal-string-alignment distance: Levenshtein plus adjacent transpositions
 * ("redudnancy"). Three rolling rows: config files from peers are untrusted and may carry
 * thousands of unknown keys, so no matrix per call.
 */
export function editDistance(a: string, b: string): number {
  let before = new Int32Array(b.length + 1);
  let previous = Int32Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      current[j] = d;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length];
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
  const allowed = Math.max(1, Math.floor(word.length / 3));
  const folded = fold(word);
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    const other = fold(candidate);
    // The length difference is a lower bound of the distance: skip hopeless candidates cheaply.
    if (Math.abs(other.length - folded.length) >= bestDistance) continue;
    const distance = editDistance(folded, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
