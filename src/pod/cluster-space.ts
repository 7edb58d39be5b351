// What `df` on a mount shows: the space of the cluster's full pods, not the local disk. Every
// file is stored `redundancy` times, so the raw figures are divided by it: the size and the
// free space are what fits in the cluster (as GlusterFS does for a replicated volume).
// Presence states come from peers, so they are untrusted: a figure that is not a finite,
// non-negative number leaves that pod out.

/** One full pod's space, as its presence reports it. */
export interface PodSpace {
  /** Its storage_limit, else its disk's size. */
  capacityBytes: number;
  /** What Wormhole stores there. */
  usedBytes: number;
  /** Free space on its disk (what other programs leave). */
  freeBytes: number;
}

export interface ClusterSpace {
  totalBytes: number;
  usedBytes: number;
  /** What new files can still take, after redundancy. */
  availableBytes: number;
}

/** Undefined when no full pod's space is known (a client pod while offline). */
export function clusterSpace(pods: readonly unknown[], redundancy: number): ClusterSpace | undefined {
  const known = pods.filter(isPodSpace);
  if (known.length === 0) return undefined;
  let total = 0;
  let used = 0;
  let available = 0;
  for (const pod of known) {
    total += pod.capacityBytes;
    used += Math.min(pod.usedBytes, pod.capacityBytes);
    available += Math.max(0, Math.min(pod.freeBytes, pod.capacityBytes - pod.usedBytes));
  }
  // Fewer pods than the redundancy: each file has only as many copies as there are pods.
  const copies = Math.max(1, Math.min(redundancy, known.length));
  return { totalBytes: total / copies, usedBytes: used / copies, availableBytes: available / copies };
}

function isPodSpace(value: unknown): value is PodSpace {
  const v = value as Partial<Record<keyof PodSpace, unknown>> | null;
  const figure = (x: unknown) => typeof x === "number" && Number.isFinite(x) && x >= 0;
  return typeof v === "object" && v !== null && figure(v.capacityBytes) && figure(v.usedBytes) && figure(v.freeBytes) && (v.capacityBytes as number) > 0;
}
