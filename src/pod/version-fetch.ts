// Fetches a batch of versions from their holders and makes them durable here in one go.
//
// Why a batch: a joining pod fetches thousands of small versions. One at a time, each cost
// two request round trips, two fdatasyncs, two directory fsyncs and its own holdings
// announcement. A batch pulls every manifest, then every missing chunk, through one window
// of requests, writes them all through one bulk commit (a few syncfs rounds, see
// store/filesystem-sync.ts), and is announced once. A large version streams through the
// same window, so memory stays at the window's chunks whatever the file's size.
//
// Durability rule: a version counts as held only once the commit of its manifest and every
// chunk finished; `adopt` (which announces it) runs only after that, and only for the
// versions whose every piece arrived.
import { ChunkStore, decodeManifest, type Manifest, WriteBarrier } from "../store/index.js";
import { runLimited } from "./limiter.js";

/** Requests in flight for one batch (each chunk up to 8 MiB, about 1 MiB on average). */
const PULL_WINDOW = 32;
/** Written chunks waiting for their commit before more are pulled (bounds open temp files). */
const UNCOMMITTED_WRITES = 128;

export interface VersionFetchDeps {
  chunks: ChunkStore;
  /** Pulls one chunk from one of `holders`, verified against its id (ChunkPull.pull). */
  pull: (id: string, holders: readonly string[]) => Promise<Buffer>;
  /** Pods to ask for a version's manifest and chunks. */
  holdersOf: (version: string) => readonly string[];
  /** Called once the fetched versions are durable: make them counted replicas and announce them. */
  adopt: (versions: string[], chunkIds: string[]) => Promise<void>;
}

/** Fetches `versions`; resolves with the ones that failed (and why). The others are durable and adopted. */
export async function fetchVersions(deps: VersionFetchDeps, versions: readonly string[]): Promise<Map<string, Error>> {
  const failed = new Map<string, Error>();
  const fail = (version: string, error: unknown) => {
    if (!failed.has(version)) failed.set(version, error instanceof Error ? error : new Error(String(error)));
  };
  const { chunks } = deps;
  const lease = chunks.lease();
  const barrier = new WriteBarrier(true);
  try {
    // 1. Manifests: read locally when present (a cached or half-fetched version), else pulled.
    const manifests = new Map<string, { bytes: Buffer; manifest: Manifest; stored: boolean }>();
    await runLimited(versions, PULL_WINDOW, async (version) => {
      try {
        lease.hold(version);
        const stored = await chunks.has(version);
        const bytes = stored ? await chunks.get(version) : await deps.pull(version, deps.holdersOf(version));
        manifests.set(version, { bytes, manifest: decodeManifest(bytes), stored });
      } catch (error) {
        fail(version, error);
      }
    });

    // 2. The chunks this pod lacks, each with the versions that need it.
    const neededBy = new Map<string, string[]>();
    for (const [version, { manifest }] of manifests) {
      for (const { id } of manifest.chunks) {
        lease.hold(id);
        const users = neededBy.get(id);
        if (users) {
          if (users[users.length - 1] !== version) users.push(version);
        } else neededBy.set(id, [version]);
      }
    }
    const ids = [...neededBy.keys()];
    const present = await Promise.all(ids.map((id) => chunks.has(id)));
    const missing = ids.filter((_, i) => !present[i]);

    // 3. Pull and write them through one bulk commit; a chunk that cannot be had fails only
    //    the versions that use it.
    let commitError: unknown;
    await runLimited(missing, PULL_WINDOW, async (id) => {
      const users = neededBy.get(id)!;
      if (users.every((v) => failed.has(v))) return;
      let data: Buffer;
      try {
        data = await deps.pull(id, holdersOfAny(deps, users));
      } catch (error) {
        for (const version of users) fail(version, error);
        return;
      }
      try {
        await chunks.putMany([{ id, data }], barrier); // verified by the pull: no second hash
        await barrier.waitBelow(UNCOMMITTED_WRITES);
      } catch (error) {
        commitError ??= error;
      }
    });

    // 4. Manifests last, for the versions whose every chunk arrived.
    const complete = versions.filter((v) => !failed.has(v) && manifests.has(v));
    const newManifests = complete.filter((v) => !manifests.get(v)!.stored).map((v) => ({ id: v, data: manifests.get(v)!.bytes }));
    try {
      if (newManifests.length > 0) await chunks.putMany(newManifests, barrier);
      await barrier.done();
    } catch (error) {
      commitError ??= error;
    }
    if (commitError !== undefined) {
      for (const version of versions) fail(version, commitError);
      return failed;
    }

    // 5. Durable: now, and only now, they count as held here.
    if (complete.length > 0) {
      const chunkIds = complete.flatMap((v) => manifests.get(v)!.manifest.chunks.map((c) => c.id));
      await deps.adopt(complete, [...complete, ...chunkIds]);
    }
    return failed;
  } finally {
    lease.release();
  }
}

/** Every pod holding at least one of `versions` (deduplicated, in first-seen order). */
function holdersOfAny(deps: VersionFetchDeps, versions: readonly string[]): string[] {
  if (versions.length === 1) return [...deps.holdersOf(versions[0]!)];
  return [...new Set(versions.flatMap((v) => deps.holdersOf(v)))];
}
