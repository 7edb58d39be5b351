// Placement: which full pods should hold the replicas of an inode.
//
// Weighted rendezvous hashing (highest random weight). Every pod scores every (inode, pod)
// pair with `score = -weight / ln(u)`, u = hash01(inode, pod) in (0, 1), and the n highest
// scores win. With this logarithmic form a pod wins the first place with probability
// weight / sum(weights), so weights are proportional shares (Schindelhauer & Schomaker,
// "Weighted distributed hash tables"). Because each pair is scored independently:
// - every pod computes the same answer from the same pod list (no coordination);
// - a pod joining only takes keys onto itself, a pod leaving only gives its own keys away
//   (minimal movement); lowering one pod's weight only moves keys off that pod.
//
// The hash below is part of the cluster protocol: changing it moves every file.
// It is a pure-JS 32-bit mix (murmur3 finaliser) on two lanes giving 53 bits, because a
// cryptographic hash per (inode, pod) pair would dominate the cost (placement runs for
// every inode on every membership change).

/** A candidate pod: a live full pod and its placement weight (see podWeight). */
export interface WeightedPod {
  id: string;
  weight: number;
}

/** Per-pod affinities from pod.toml, each a multiplier >= 0; 0 means "never". */
export interface Affinity {
  /** Holding any counted replica at all. */
  replicas: number;
  /** Files written recently. */
  new_files: number;
  /** Files read often. */
  hot_files: number;
  /** Files rarely read. */
  cold_files: number;
}

export type FileClass = "new" | "hot" | "cold";

export const DEFAULT_AFFINITY: Readonly<Affinity> = Object.freeze({ replicas: 1, new_files: 1, hot_files: 1, cold_files: 1 });

/** Disk use above which a pod's weight starts to fall (it sheds new placements). */
export const FULLNESS_KNEE = 0.9;
/** Fullness is rounded to this step so that ordinary writes do not shift placement. */
export const FULLNESS_STEP = 0.01;

export interface PodCapacity {
  capacityBytes: number;
  usedBytes: number;
  affinity?: Partial<Affinity>;
}

/**
 * The placement weight of one pod for a file of class `fileClass` (or any file if omitted):
 *
 *   weight = capacityGiB × affinity.replicas × affinity[class] × room
 *   room   = 1                                   while used/capacity <= 0.9
 *          = (1 - used/capacity) / (1 - 0.9)     above, falling to 0 when full
 *
 * Capacity, not free space, is the share: using free space directly would move placement
 * on every write. Free space only matters near full, so a pod that is filling up stops
 * taking new targets; fullness is rounded to 1 % steps so the weight changes rarely.
 * (A daemon should still recompute targets on a timer, not on each write.)
 */
export function podWeight(pod: PodCapacity, fileClass?: FileClass): number {
  const { capacityBytes, usedBytes } = pod;
  if (!Number.isFinite(capacityBytes) || capacityBytes < 0) throw new RangeError(`capacityBytes must be a finite number >= 0, got ${capacityBytes}`);
  if (!Number.isFinite(usedBytes) || usedBytes < 0) throw new RangeError(`usedBytes must be a finite number >= 0, got ${usedBytes}`);
  if (capacityBytes === 0) return 0;
  const affinity = { ...DEFAULT_AFFINITY, ...pod.affinity };
  for (const [key, value] of Object.entries(affinity)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`affinity ${key} must be a finite number >= 0, got ${value}`);
  }
  const classFactor = fileClass === undefined ? 1 : affinity[`${fileClass}_files`];
  const fullness = Math.min(1, Math.round(usedBytes / capacityBytes / FULLNESS_STEP) * FULLNESS_STEP);
  const room = fullness <= FULLNESS_KNEE ? 1 : Math.max(0, (1 - fullness) / (1 - FULLNESS_KNEE));
  return (capacityBytes / 2 ** 30) * affinity.replicas * classFactor * room;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Two independent 32-bit murmur3-style hashes of a string (UTF-16 code units). */
function hashString(s: string): [number, number] {
  let a = 0x9747b28c ^ s.length;
  let b = 0x5bd1e995 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ c, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    b = Math.imul(b, 5) + 0xe6546b64;
  }
  return [fmix32(a), fmix32(b)];
}

const TWO_POW_32 = 2 ** 32;

/** Uniform in the open interval (0, 1), 53 bits, from the pair's hashes. */
function pairHash01(ia: number, ib: number, pa: number, pb: number): number {
  const hi = fmix32(Math.imul(ia ^ pa, 0x85ebca6b) ^ pb);
  const lo = fmix32(Math.imul(ib ^ pb, 0xc2b2ae35) ^ hi ^ pa);
  // 32 + 21 bits; +0.5 keeps it strictly inside (0, 1) so ln() is finite and negative.
  return ((hi * 2 ** 21) + (lo >>> 11) + 0.5) / (TWO_POW_32 * 2 ** 21);
}

interface PreparedPod {
  id: string;
  weight: number;
  ha: number;
  hb: number;
}

/**
 * Placement over a fixed set of pods: prepares the pods' hashes once, then places many
 * inodes. Build a new one when membership or weights change.
 */
export class Placement {
  private readonly pods: PreparedPod[];

  constructor(pods: readonly WeightedPod[]) {
    const seen = new Set<string>();
    this.pods = [];
    for (const pod of pods) {
      if (typeof pod.id !== "string" || pod.id === "") throw new TypeError("every pod needs a non-empty string id");
      if (seen.has(pod.id)) throw new RangeError(`pod ${pod.id} is listed twice`);
      seen.add(pod.id);
      if (!Number.isFinite(pod.weight) || pod.weight < 0) throw new RangeError(`pod ${pod.id}: weight must be a finite number >= 0, got ${pod.weight}`);
      if (pod.weight === 0) continue; // weight 0 = never a target
      const [ha, hb] = hashString(pod.id);
      this.pods.push({ id: pod.id, weight: pod.weight, ha, hb });
    }
    // Sorted so that exact score ties break the same way whatever order pods were given in.
    this.pods.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  }

  /** Number of pods with a weight above zero. */
  get eligible(): number {
    return this.pods.length;
  }

  /** The min(n, eligible) target pods for `inode`, best first. */
  place(inode: string, n: number): string[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`replica count must be an integer >= 0, got ${n}`);
    const k = Math.min(n, this.pods.length);
    if (k === 0) return [];
    const [ia, ib] = hashString(inode);
    // Partial selection: keep the k best in a small sorted array (k is the redundancy, ~3).
    const bestScores: number[] = [];
    const bestIds: string[] = [];
    for (const pod of this.pods) {
      const score = -pod.weight / Math.log(pairHash01(ia, ib, pod.ha, pod.hb));
      if (bestScores.length === k && score <= bestScores[k - 1]) continue;
      let at = bestScores.length === k ? k - 1 : bestScores.length;
      while (at > 0 && bestScores[at - 1] < score) {
        bestScores[at] = bestScores[at - 1];
        bestIds[at] = bestIds[at - 1];
        at--;
      }
      bestScores[at] = score;
      bestIds[at] = pod.id;
    }
    return bestIds;
  }
}

/** One-off form of `new Placement(pods).place(inode, n)`. */
export function placeReplicas(inode: string, pods: readonly WeightedPod[], n: number): string[] {
  return new Placement(pods).place(inode, n);
}
