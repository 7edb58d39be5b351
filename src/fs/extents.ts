// The byte ranges of a file that were written since it was opened (they live in the staging
// file; everything else comes from the base version or is a hole). Kept as sorted, disjoint,
// non-adjacent [start, end) pairs. Sequential writes extend the last range in O(1).
export interface Segment {
  start: number;
  end: number;
  /** True when the bytes are in the staging file, false when they come from elsewhere. */
  staged: boolean;
}

export class ExtentSet {
  private starts: number[] = [];
  private ends: number[] = [];

  get count(): number {
    return this.starts.length;
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const n = this.starts.length;
    // Fast path: appending to (or past) the last range, the shape of every sequential write.
    if (n === 0 || start > this.ends[n - 1]!) {
      this.starts.push(start);
      this.ends.push(end);
      return;
    }
    if (start >= this.starts[n - 1]!) {
      this.ends[n - 1] = Math.max(this.ends[n - 1]!, end);
      return;
    }
    // General case: merge every range touching [start, end].
    const first = this.firstEndingAtOrAfter(start);
    let last = first;
    let newStart = start;
    let newEnd = end;
    while (last < n && this.starts[last]! <= end) {
      newStart = Math.min(newStart, this.starts[last]!);
      newEnd = Math.max(newEnd, this.ends[last]!);
      last++;
    }
    this.starts.splice(first, last - first, newStart);
    this.ends.splice(first, last - first, newEnd);
  }

  /** Forgets everything at or after `offset` (a truncate). */
  cut(offset: number): void {
    let keep = 0; // ranges starting before offset (binary search: starts are sorted)
    let hi = this.starts.length;
    while (keep < hi) {
      const mid = (keep + hi) >>> 1;
      if (this.starts[mid]! < offset) keep = mid + 1;
      else hi = mid;
    }
    this.starts.length = keep;
    this.ends.length = keep;
    if (keep > 0 && this.ends[keep - 1]! > offset) this.ends[keep - 1] = offset;
  }

  /** [start, end) split into staged and not-staged segments, in order. */
  segments(start: number, end: number): Segment[] {
    const out: Segment[] = [];
    let pos = start;
    for (let i = this.firstEndingAtOrAfter(start + 1); i < this.starts.length && pos < end; i++) {
      const s = this.starts[i]!;
      if (s >= end) break;
      if (s > pos) out.push({ start: pos, end: s, staged: false });
      const e = Math.min(this.ends[i]!, end);
      out.push({ start: Math.max(pos, s), end: e, staged: true });
      pos = e;
    }
    if (pos < end) out.push({ start: pos, end, staged: false });
    return out;
  }

  /** Index of the first range whose end is >= offset (binary search). */
  private firstEndingAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
