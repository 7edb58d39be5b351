// The pod daemon: opens one data directory, loads the namespace from disk, joins the mesh,
// and keeps this pod's share of the cluster's content in place. Everything here is wiring
// and policy; the mechanisms live in the layers below (crdt, store, net, config).
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import {
  type ClusterConfig,
  compileGlob,
  compileRules,
  type EffectiveRule,
  type GlobMatcher,
  loadClusterConfig,
  loadPodConfig,
  matchesAny,
  parseClusterConfig,
  type PodConfig,
} from "../config/index.js";
import { Namespace } from "../crdt/index.js";
import { ChunkPull, DocSync, formatAddress, type Identity, type InviteClaims, Mesh, parseIdentity, parseInviteUrl, Rpc } from "../net/index.js";
import { ChunkCache, ChunkNotFoundError, ChunkStore, collectLiveChunks, decodeManifest, EMPTY_VERSION, HashPool, MetaStore, readManifest } from "../store/index.js";
import { admit } from "./admission.js";
import { ClientQueue } from "./client-queue.js";
import { type ClusterSpace, clusterSpace, type PodSpace } from "./cluster-space.js";
import { pullBounded } from "./client-reads.js";
import { FileService } from "./file-service.js";
import { type DataDirLayout, dataDirLayout } from "./data-dir.js";
import { assessHealth, type FileReplicas, type HealthState, type Reaction, reactionFor } from "./health.js";
import { HoldingsExchange } from "./holdings-exchange.js";
import { LiveVersions } from "./live-versions.js";
import { Liveness } from "./liveness.js";
import { createLogger, type Logger } from "./log.js";
import { type MemberRecord, Membership } from "./membership.js";
import { type Affinity, type FileClass, Placement, podWeight } from "./placement.js";
import type { LiveVersionRef, PlanInput } from "./replication-plan.js";
import { Replicator } from "./replicator.js";
import { fetchVersions } from "./version-fetch.js";
import { UserError } from "./user-error.js";

export interface PodStartOptions {
  dataDir: string;
  log?: Logger;
}

/** Registry key of the replicated cluster configuration (the text of wormhole.toml). */
export const CLUSTER_CONFIG_KEY = "config";
/** How often replication re-plans even without a trigger (grace expiry, missed events). */
const REPLAN_INTERVAL_MS = 1_000;
/** How often unreferenced chunks are collected. */
const GC_INTERVAL_MS = 30_000;
/** Redial delays of a client pod (full pods use the net layer's default, up to 10 s). */
const CLIENT_BACKOFF = { initialMs: 100, maxMs: 2_000 };
/** Local state key of the pinned paths. */
const PINS_KEY = "pins";
/** A file modified this recently is placed by the pods' `new` affinity, older ones by `cold`. */
const NEW_FILE_AGE_MS = 24 * 3600 * 1000;
/** How long a `write_ack = "redundancy"` write waits for its replicas before failing. */
const WRITE_ACK_TIMEOUT_MS = 120_000;
/**
 * How long a create may wait for company before it goes into the namespace's documents
 * (Namespace `createBatchMs`): one Yjs transaction then serves a burst of creates, off their
 * path. Short beside the metadata's own lazy write (20 ms) and a peer's propagation.
 */
const CREATE_BATCH_MS = 2;

export interface HealthReport {
  state: HealthState;
  reaction: Reaction;
  counts: { total: number; underReplicated: number; unavailable: number; awaitingUpload: number };
}

export class Pod {
  readonly layout: DataDirLayout;
  readonly podConfig: PodConfig;
  readonly identity: Identity;
  readonly log: Logger;
  readonly meta: MetaStore;
  readonly chunks: ChunkStore;
  readonly cache: ChunkCache;
  readonly pool: HashPool;
  readonly namespace: Namespace;
  readonly membership: Membership;
  readonly liveness: Liveness;
  readonly mesh: Mesh;
  readonly rpc: Rpc;
  readonly chunkPull: ChunkPull;
  readonly holdings: HoldingsExchange;
  readonly replicator: Replicator;
  private readonly liveVersions: LiveVersions;
  /** A client pod's work not yet handed to full pods (for status); undefined on a full pod. */
  clientQueue: ClientQueue | undefined;
  /** Local-first file operations: the mount and the CLI's put/get/ls/rm go through here. */
  readonly files: FileService;
  private readonly docSync: DocSync;
  private clusterConfig: ClusterConfig;
  private rules: (path: string) => EffectiveRule;
  private pendingInvite: PendingInvite | undefined;
  private readonly placementCache = new Map<string, Placement>();
  private health: HealthReport = { state: "healthy", reaction: "continue", counts: { total: 0, underReplicated: 0, unavailable: 0, awaitingUpload: 0 } };
  /** What the last health computation read (see refreshHealthIfChanged). */
  private healthBasis: HealthBasis | undefined;
  /** Counts changes of membership, connections and config. */
  private topologyChanges = 0;
  private timers: NodeJS.Timeout[] = [];
  private ackWaiters = new Set<() => void>();
  private stopped = false;
  /** When this pod last had a connection (its start counts as one: it is about to connect). */
  private lastContactMs = Date.now();
  /** Working offline on purpose (`wormhole offline`): no connections, writes queue locally. */
  private offline = false;

  private constructor(parts: {
    layout: DataDirLayout;
    podConfig: PodConfig;
    clusterConfig: ClusterConfig;
    identity: Identity;
    log: Logger;
    meta: MetaStore;
    chunks: ChunkStore;
    cache: ChunkCache;
    pool: HashPool;
    pendingInvite: PendingInvite | undefined;
  }) {
    this.layout = parts.layout;
    this.podConfig = parts.podConfig;
    this.clientKeep = parts.podConfig.client.keep.map((glob) => compileGlob(glob));
    this.clusterConfig = parts.clusterConfig;
    this.rules = compileRules(parts.clusterConfig);
    this.identity = parts.identity;
    this.log = parts.log;
    this.meta = parts.meta;
    this.chunks = parts.chunks;
    this.cache = parts.cache;
    this.pool = parts.pool;
    this.pendingInvite = parts.pendingInvite;
    this.namespace = new Namespace({
      podId: this.identity.podId,
      emptyVersion: EMPTY_VERSION,
      // Read through `this.rules` at call time, so an applied config takes effect.
      policyFor: (path) => this.rules(path).conflict,
      createBatchMs: CREATE_BATCH_MS,
    });
    this.meta.beforeFlush(() => this.namespace.applyHeldCreates());
    this.membership = new Membership(this.namespace.registry);
    this.liveness = new Liveness(this.identity.podId, this.clusterConfig.cluster.graceMs);
    this.mesh = new Mesh({
      identity: this.identity,
      cluster: this.clusterName,
      role: this.podConfig.pod.role,
      // A laptop back on the network should find its pods within seconds, and it dials only
      // the few full pods: a short redial ceiling costs nothing.
      ...(this.podConfig.pod.role === "client" ? { backoff: CLIENT_BACKOFF } : {}),
      ...(this.podConfig.pod.listen && this.podConfig.pod.role === "full" ? { listen: formatAddress(this.podConfig.pod.listen) } : {}),
      log: (level, message) => this.log[level](message),
      authorize: (request) =>
        this.offline
          ? { ok: false, reason: "this pod is working offline (`wormhole online` reconnects it)" }
          : admit(request, {
          cluster: this.clusterName,
          membership: this.membership,
          joinPolicy: () => this.clusterConfig.cluster.join,
          pendingInvite: () => this.pendingInvite?.claims,
        }),
    });
    this.rpc = new Rpc(this.mesh);
    this.chunkPull = new ChunkPull(this.mesh, { provider: (id) => this.serveChunk(id) });
    this.docSync = new DocSync(this.mesh, this.namespace.docs);
    this.holdings = new HoldingsExchange({
      rpc: this.rpc,
      index: this.meta.holdings,
      selfId: this.identity.podId,
      log: this.log,
      connectedPeers: () => this.mesh.connections().map((c) => c.podId),
      changed: (versions) => this.changed(versions),
    });
    this.liveVersions = new LiveVersions(
      this.namespace,
      {
        redundancyOf: (path) => (path === undefined ? this.clusterConfig.cluster.redundancy : this.rules(path).redundancy),
        keepsLocally: (path) => this.keepsLocally(path),
      },
      EMPTY_VERSION,
    );
    this.replicator = new Replicator(
      {
        snapshot: (full) => this.planInput(full),
        fetch: (versions) => this.fetchVersions(versions),
        release: (versions) => this.releaseVersions(versions),
        replicated: (versions) => this.leaveOutbox(versions),
      },
      this.log,
    );
    this.files = new FileService(
      this.namespace,
      this.chunks,
      this.meta,
      {
        fetchChunk: (id, version) => this.fetchChunk(id, version),
        stored: (version) => this.storedLocally(version),
        afterLocalWrite: (version) => this.afterLocalWrite(version),
        writeMode: (path) => this.writeMode(path),
        maxFileSize: () => this.clusterConfig.cluster.maxSizeBytes,
        spaceLeft: () => {
          const limit = this.podConfig.pod.storageLimitBytes;
          return limit === null ? null : Math.max(0, limit - this.chunks.usedBytes);
        },
        clusterSpace: () => this.knownClusterSpace(),
        log: this.log,
      },
      { pool: this.pool, dataDir: this.layout.root },
    );
  }

  /** Opens the data directory and loads everything from disk; nothing is on the network yet. */
  static async open(options: PodStartOptions): Promise<Pod> {
    const layout = dataDirLayout(options.dataDir);
    if (!existsSync(layout.podConfig) || !existsSync(layout.identity)) {
      throw new UserError(`${options.dataDir} holds no pod`, "create one with `wormhole init` (a new cluster) or `wormhole join <invite>`");
    }
    const podConfig = loadPodConfig(layout.podConfig);
    const identity = parseIdentity(readFileSync(layout.identity, "utf8"));
    const log = options.log ?? createLogger(podConfig.pod.name);
    const pendingInvite = existsSync(layout.pendingInvite) ? readInvite(layout.pendingInvite) : undefined;
    const clusterConfig = existsSync(layout.clusterConfig) ? loadClusterConfig(layout.clusterConfig) : undefined;
    const clusterName = clusterConfig?.cluster.name ?? pendingInvite?.claims.cluster;
    if (!clusterName) {
      throw new UserError(`${options.dataDir} has neither a wormhole.toml nor a pending invite`, "the data directory is incomplete: recreate it with `wormhole init` or `wormhole join`");
    }
    const meta = await MetaStore.open(layout.meta);
    const pool = HashPool.shared();
    const chunks = await ChunkStore.open(layout.chunks, { pool });
    const cache = await ChunkCache.open(chunks, meta, { maxBytes: podConfig.cache.maxSizeBytes });
    const pod = new Pod({
      layout,
      podConfig,
      clusterConfig: clusterConfig ?? placeholderClusterConfig(clusterName),
      identity,
      log,
      meta,
      chunks,
      cache,
      pool,
      pendingInvite,
    });
    for (const [name, doc] of pod.namespace.docs) await meta.attachDoc(name, doc);
    const pins = await meta.local.get<unknown>(PINS_KEY);
    if (Array.isArray(pins)) pod.pins = new Set(pins.filter((p): p is string => typeof p === "string"));
    if (podConfig.pod.role === "client") {
      const shards = [...pod.namespace.docs].filter(([name]) => name.startsWith("ns/")).map(([, doc]) => doc);
      pod.clientQueue = await ClientQueue.open(meta, shards, log);
    }
    return pod;
  }

  get podId(): string {
    return this.identity.podId;
  }

  get clusterName(): string {
    return this.clusterConfig.cluster.name;
  }

  get config(): ClusterConfig {
    return this.clusterConfig;
  }

  ruleFor(path: string): EffectiveRule {
    return this.rules(path);
  }

  currentHealth(): HealthReport {
    return this.health;
  }

  /** Joins the mesh and starts the background work. */
  async start(): Promise<void> {
    this.adoptReplicatedConfig();
    this.foundClusterIfFirst();
    this.namespace.registry.onChange((keys) => {
      if (keys.has(CLUSTER_CONFIG_KEY)) this.adoptReplicatedConfig();
      this.disconnectRemovedPeers();
      this.updateDialTargets();
      this.finishJoinIfMember();
      this.changed();
    });
    this.namespace.onChange((inodes) => {
      const versions = this.liveVersions.update(inodes);
      if (versions) this.replicator.touch(versions);
      else this.replicator.trigger();
    });
    this.mesh.onPeerUp((peer) => {
      this.liveness.up(peer.podId);
      this.clientQueue?.setConnectedToFull(this.mesh.connections().some((c) => c.role === "full"));
      void this.holdings.sendSnapshot(peer.podId);
      this.changed();
    });
    this.mesh.onPeerDown((peer) => {
      this.liveness.down(peer.podId);
      if (this.mesh.connections().length === 0) this.lastContactMs = Date.now();
      this.clientQueue?.setConnectedToFull(this.mesh.connections().some((c) => c.role === "full"));
      this.changed();
    });
    this.lastContactMs = Date.now();
    await this.mesh.start();
    this.announceSelf();
    this.updateDialTargets();
    if (this.pendingInvite) {
      for (const address of this.pendingInvite.claims.addresses) this.mesh.dial(address, { invite: this.pendingInvite.token });
    }
    this.replicator.startPeriodic(REPLAN_INTERVAL_MS);
    this.every(REPLAN_INTERVAL_MS, () => this.refreshHealth());
    this.every(GC_INTERVAL_MS, () => void this.collectGarbage());
    this.every(5_000, () => void this.publishPresence());
    await this.publishPresence();
    this.refreshHealth();
    this.replicator.trigger();
    this.log.info(`pod ${this.podId.slice(0, 8)} of cluster "${this.clusterName}" started${this.mesh.address() ? ` on ${this.mesh.address()}` : ""}`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.namespace.applyHeldCreates(); // to the peers too, while they are still connected
    for (const t of this.timers) clearInterval(t);
    for (const wake of this.ackWaiters) wake();
    await this.replicator.stop();
    this.docSync.close();
    await this.mesh.stop();
    await this.cache.close();
    await this.clientQueue?.close();
    await this.meta.flush().catch((error: Error) => this.log.error(`metadata flush at stop failed: ${error.message}`));
    await this.meta.close();
  }

  // ---- membership and configuration --------------------------------------------------------

  /** The first start of the first pod: records itself and the cluster config in the namespace. */
  private foundClusterIfFirst(): void {
    if (this.pendingInvite || this.membership.all().length > 0) return;
    this.namespace.registry.set(CLUSTER_CONFIG_KEY, readFileSync(this.layout.clusterConfig, "utf8"));
    this.log.info(`founded cluster "${this.clusterName}"`);
  }

  /** Writes this pod's own membership record (name, role, addresses, capacity). */
  private announceSelf(): void {
    if (this.pendingInvite && !this.membership.isMember(this.podId)) return; // not admitted yet
    const current = this.membership.get(this.podId);
    const record: MemberRecord = {
      podId: this.podId,
      name: this.podConfig.pod.name,
      role: this.podConfig.pod.role,
      publicKey: this.identity.publicKey.toString("base64"),
      addresses: this.advertisedAddresses(),
      state: current?.state ?? "active",
      joinedAtMs: current?.joinedAtMs ?? Date.now(),
      capacityBytes: this.podConfig.pod.storageLimitBytes ?? current?.capacityBytes ?? 0,
      affinity: { ...this.podConfig.affinity },
    };
    if (JSON.stringify(current) !== JSON.stringify(record)) this.membership.put(record);
  }

  private finishJoinIfMember(): void {
    if (!this.pendingInvite || !this.membership.isMember(this.podId)) return;
    if (this.namespace.registry.get(CLUSTER_CONFIG_KEY) === undefined) return; // wait for the config too
    this.pendingInvite = undefined;
    rmSync(this.layout.pendingInvite, { force: true });
    this.announceSelf();
    this.log.info(`joined cluster "${this.clusterName}"`);
  }

  /** Takes the cluster config from the namespace (where `config apply` puts it). */
  private adoptReplicatedConfig(): void {
    const text = this.namespace.registry.get(CLUSTER_CONFIG_KEY);
    if (typeof text !== "string") return;
    try {
      const config = parseClusterConfig(text, "wormhole.toml (replicated)");
      this.clusterConfig = config;
      this.rules = compileRules(config);
      this.liveVersions.invalidate();
      this.liveness.setGrace(config.cluster.graceMs);
      const onDisk = existsSync(this.layout.clusterConfig) ? readFileSync(this.layout.clusterConfig, "utf8") : undefined;
      if (onDisk !== text) writeFileSync(this.layout.clusterConfig, text);
    } catch (error) {
      // A config that validated on the pod that applied it but not here (an older version
      // of this software): keep the last good one and say so.
      this.log.error(`ignoring the replicated cluster config: ${(error as Error).message}`);
    }
  }

  /** Validates and replicates a new wormhole.toml; returns human lines for what changed. */
  applyClusterConfig(text: string, source: string): string[] {
    const next = parseClusterConfig(text, source);
    if (next.cluster.name !== this.clusterName) {
      throw new UserError(`${source} is for cluster "${next.cluster.name}", this pod is in "${this.clusterName}"`, "a cluster cannot be renamed; fix [cluster] name");
    }
    const admins = this.clusterConfig.cluster.admins;
    if (admins.length > 0 && !admins.includes(this.podId)) {
      throw new UserError(`this pod (${this.podId}) is not one of the cluster's admins`, `run \`wormhole config apply\` on an admin pod: ${admins.join(", ")}`);
    }
    const changes = describeChanges(this.clusterConfig, next);
    this.namespace.registry.set(CLUSTER_CONFIG_KEY, text);
    return changes;
  }

  private advertisedAddresses(): string[] {
    const address = this.mesh.address();
    if (!address || this.podConfig.pod.role === "client") return [];
    const { host, port } = this.podConfig.pod.listen!;
    const actualPort = Number(address.slice(address.lastIndexOf(":") + 1)) || port;
    if (host !== "0.0.0.0" && host !== "::") return [formatAddress({ host, port: actualPort })];
    // Listening everywhere: advertise every non-internal IPv4 address of this machine.
    const ips = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === "IPv4" && !i.internal)
      .map((i) => i!.address);
    return (ips.length > 0 ? ips : ["127.0.0.1"]).map((ip) => formatAddress({ host: ip, port: actualPort }));
  }

  /** A peer removed from the cluster (`wormhole remove`) is cut off at once, not at its next reconnect. */
  private disconnectRemovedPeers(): void {
    if (this.pendingInvite) return; // still joining: the membership is not here yet
    for (const connection of this.mesh.connections()) {
      if (!this.membership.isMember(connection.podId)) this.mesh.disconnect(connection.podId, "removed from the cluster");
    }
  }

  /** `wormhole offline` / `wormhole online`: a laptop leaving the network on purpose. */
  setOnline(online: boolean): void {
    this.offline = !online;
    if (this.offline) {
      this.mesh.setDialTargets([]);
      for (const connection of this.mesh.connections()) this.mesh.disconnect(connection.podId, "working offline");
      this.log.info("working offline: writes are kept here and uploaded when back online");
    } else {
      this.updateDialTargets();
      this.log.info("back online: reconnecting");
    }
  }

  get isOnline(): boolean {
    return !this.offline;
  }

  /** Full pods this pod has a live connection to now. */
  reachableFullPods(): MemberRecord[] {
    return this.mesh
      .connections()
      .filter((c) => c.role === "full")
      .map((c) => this.membership.get(c.podId))
      .filter((m): m is MemberRecord => m !== undefined);
  }

  private updateDialTargets(): void {
    if (this.offline) return;
    const targets = new Set<string>(this.podConfig.pod.peers.map((p) => formatAddress(p)));
    for (const member of this.membership.all()) {
      if (member.podId === this.podId || member.state === "left") continue;
      for (const address of member.addresses) targets.add(address);
    }
    for (const own of this.advertisedAddresses()) targets.delete(own);
    if (this.pendingInvite) for (const a of this.pendingInvite.claims.addresses) targets.add(a);
    this.mesh.setDialTargets(targets);
    if (this.pendingInvite) {
      for (const address of this.pendingInvite.claims.addresses) this.mesh.dial(address, { invite: this.pendingInvite.token });
    }
  }

  // ---- placement, replication, health ------------------------------------------------------

  /** Full, active members counted for placement right now (reachable or within grace). */
  placeableMembers(): MemberRecord[] {
    return this.membership.all().filter((m) => m.role === "full" && m.state === "active" && this.liveness.isPlaceable(m.podId));
  }

  /**
   * The placement for one class of file. Weights come from each pod's declared capacity,
   * its affinities and how full it says it is (rounded, so ordinary writes do not move
   * files); every pod computes the same answer from the same membership records.
   */
  private placement(fileClass: FileClass): Placement {
    const pods = this.placeableMembers().map((m) => ({
      id: m.podId,
      weight: podWeight({ capacityBytes: this.capacityOf(m), usedBytes: this.usedBytesOf(m), affinity: placementAffinity(m) }, fileClass),
    }));
    const key = `${fileClass} ${JSON.stringify(pods)}`;
    let cached = this.placementCache.get(key);
    if (!cached) {
      if (this.placementCache.size > 8) this.placementCache.clear();
      cached = new Placement(pods);
      this.placementCache.set(key, cached);
    }
    return cached;
  }

  /** Placement weighs pods by capacity; a pod without a declared limit counts as 1 TiB. */
  private capacityOf(member: MemberRecord): number {
    return member.capacityBytes > 0 ? member.capacityBytes : 2 ** 40;
  }

  private usedBytesOf(member: MemberRecord): number {
    if (member.podId === this.podId) return this.chunks.usedBytes;
    const presence = this.mesh.peer(member.podId)?.presence as { usedBytes?: unknown } | undefined;
    return typeof presence?.usedBytes === "number" && presence.usedBytes >= 0 ? presence.usedBytes : 0;
  }

  /**
   * New files (modified within NEW_FILE_AGE_MS) and cold ones can prefer different pods
   * (`[affinity] new`/`cold`). "Hot" needs read statistics shared across pods, which are
   * not collected yet, so no file is classed hot.
   */
  private targetFinder(): (ref: LiveVersionRef) => string[] {
    // The placements are built once per look (membership and weights do not change within it).
    const placements = new Map<FileClass, Placement>();
    const now = Date.now();
    return (ref) => {
      const fileClass: FileClass = now - (ref.modifiedMs ?? 0) < NEW_FILE_AGE_MS ? "new" : "cold";
      let placement = placements.get(fileClass);
      if (!placement) placements.set(fileClass, (placement = this.placement(fileClass)));
      return placement.place(ref.inode, ref.redundancy);
    };
  }

  /** Every live version with the redundancy its path asks for, and whether to keep it here. */
  liveVersionRefs(): readonly LiveVersionRef[] {
    const refs = this.liveVersions.refs();
    if (this.health.reaction !== "lower-redundancy") return refs;
    return refs.map((ref) => this.withEffectiveRedundancy(ref));
  }

  /** One live version, as liveVersionRefs gives it. */
  private liveVersionRef(version: string): LiveVersionRef | undefined {
    const ref = this.liveVersions.refOf(version);
    return ref && this.health.reaction === "lower-redundancy" ? this.withEffectiveRedundancy(ref) : ref;
  }

  private withEffectiveRedundancy(ref: LiveVersionRef): LiveVersionRef {
    return { ...ref, redundancy: this.effectiveRedundancy(ref.redundancy) };
  }

  // ---- pinned and keep-local paths -----------------------------------------------------------

  private pins = new Set<string>();
  private readonly clientKeep: GlobMatcher[];

  /**
   * Content this pod downloads ahead and never lets go: pinned paths (`wormhole pin`), the
   * cluster's `keep` rules, and a client pod's `keep` globs.
   */
  keepsLocally(path: string): boolean {
    for (const pin of this.pins) if (path === pin || path.startsWith(pin === "/" ? "/" : `${pin}/`)) return true;
    return this.rules(path).keep || matchesAny(this.clientKeep, path);
  }

  isPinned(path: string): boolean {
    return this.pins.has(path);
  }

  async setPinned(path: string, pinned: boolean): Promise<void> {
    if (pinned) this.pins.add(path);
    else this.pins.delete(path);
    await this.meta.local.put(PINS_KEY, [...this.pins]);
    this.liveVersions.invalidate();
    this.replicator.trigger();
  }

  /** `lower-redundancy`: place on the pods that remain instead of waiting for the others. */
  private effectiveRedundancy(wanted: number): number {
    if (this.health.reaction !== "lower-redundancy") return wanted;
    return Math.max(1, Math.min(wanted, this.placeableMembers().length));
  }

  /** A look at namespace, placement and holdings; the live versions only for a full sweep. */
  private planInput(full: boolean): PlanInput {
    const self = this.membership.get(this.podId);
    return {
      selfId: this.podId,
      versions: full ? this.liveVersionRefs() : [],
      refOf: (version) => this.liveVersionRef(version),
      targetsOf: this.targetFinder(),
      holdersOf: (version) => this.meta.holdings.holdersOf(version),
      heldLocally: this.meta.holdings.versionsOf(this.podId),
      // Nobody gives up local writes before their targets hold them (a client lets go of
      // an upload only then, into its cache), and a pod that has not joined yet keeps everything.
      isProtected: (version) => this.meta.outbox.has(version) || this.cache.isPinned(version) || self === undefined,
      isReachable: (podId) => this.liveness.isReachable(podId),
    };
  }

  /** Pulls a batch of versions (see version-fetch.ts); resolves with the ones that failed. */
  private fetchVersions(versions: string[]): Promise<Map<string, Error>> {
    return fetchVersions(
      {
        chunks: this.chunks,
        pull: (id, holders) => this.chunkPull.pull(id, holders),
        holdersOf: (version) => this.holdersFor(version),
        adopt: async (held, chunkIds) => {
          this.protectFromRunningGc(chunkIds);
          // These chunks are a counted replica now, not cache.
          await Promise.all(chunkIds.map((id) => this.cache.forget(id)));
          await this.holdings.announce(held, []);
        },
      },
      versions,
    );
  }

  /** Connected pods known to hold `version`; without any, every connected peer (one may). */
  private holdersFor(version: string): string[] {
    const connected = this.meta.holdings.holdersOf(version).filter((p) => p !== this.podId && this.mesh.isConnected(p));
    return connected.length > 0 ? connected : this.mesh.connections().map((c) => c.podId);
  }

  private async releaseVersions(versions: string[]): Promise<void> {
    if (this.podConfig.pod.role === "client") await Promise.all(versions.map((version) => this.keepAsCache(version)));
    await this.holdings.announce([], versions);
    this.gcSoon();
  }

  /**
   * A client's upload that full pods now hold: it stays on the laptop as ordinary cache
   * (read again without the network, evicted by LRU within cache.max_size) rather than
   * being deleted at once.
   */
  private async keepAsCache(version: string): Promise<void> {
    try {
      const manifestBytes = await this.chunks.get(version);
      const manifest = decodeManifest(manifestBytes);
      await Promise.all([this.cache.admit(version, manifestBytes.length), ...manifest.chunks.map(({ id, length }) => this.cache.admit(id, length))]);
    } catch (error) {
      this.log.warn(`version ${version.slice(0, 12)} is replicated on full pods but could not be moved to the cache here (${(error as Error).message}); it will be fetched again when read`);
    }
  }

  private async leaveOutbox(versions: string[]): Promise<void> {
    const done = versions.filter((version) => this.meta.outbox.has(version));
    // Issued together: one group commit for a whole batch of uploads, not one fsync each.
    await Promise.all(done.map((version) => this.meta.outbox.remove(version)));
    if (done.length > 0) this.wakeAckWaiters();
  }

  /** Serves a chunk to a peer: anything this pod has, replica or cache. */
  private async serveChunk(id: string): Promise<Buffer | undefined> {
    let data: Buffer;
    try {
      // Absent: one failed open, not an extra lookup first. The puller verifies what it gets.
      data = await this.chunks.getForPeer(id);
    } catch (error) {
      if (error instanceof ChunkNotFoundError) return undefined;
      throw error;
    }
    this.cache.touch(id);
    return data;
  }

  /**
   * A chunk this pod lacks, for a reader: from a connected holder, verified by the net layer.
   * The caller stores it; it is recorded as cache (evictable), unless it becomes part of a
   * replica later.
   */
  async fetchChunk(id: string, version?: string): Promise<Buffer> {
    const pull = (peers: string[]) => this.pullHoldersFirst(id, version, peers);
    const data = this.podConfig.pod.role === "client" ? await this.pullForClient(id, pull) : await pull(this.mesh.connections().map((c) => c.podId));
    void this.cache.admit(id, data.length).catch((error: Error) => this.log.warn(`cache index: ${error.message}`));
    return data;
  }

  /** The version's announced holders among `peers` first; the other peers only if none of them has it. */
  private async pullHoldersFirst(id: string, version: string | undefined, peers: string[]): Promise<Buffer> {
    if (peers.length === 0) throw new Error("no other pod is reachable");
    const holders = version ? this.holdersFor(version).filter((p) => peers.includes(p)) : [];
    if (holders.length === 0) return this.chunkPull.pull(id, peers);
    try {
      return await this.chunkPull.pull(id, holders);
    } catch (error) {
      const others = peers.filter((p) => !holders.includes(p));
      if (others.length === 0) throw error;
      return this.chunkPull.pull(id, others);
    }
  }

  /** A client may be cut off without notice: its reads are bounded by offline_read_timeout. */
  private pullForClient(id: string, pull: (peers: string[]) => Promise<Buffer>): Promise<Buffer> {
    return pullBounded(id, {
      timeoutMs: this.podConfig.client.offlineReadTimeoutMs,
      offline: () => this.offline,
      lastContactMs: () => (this.mesh.connections().length > 0 ? Date.now() : this.lastContactMs),
      connectedPeers: () => this.mesh.connections(),
      pull,
    });
  }

  /**
   * A local write stored `version` here: this pod holds it (announced before the namespace
   * references it) and it waits in the outbox until its targets hold it.
   */
  private async storedLocally(version: string): Promise<void> {
    if (version === EMPTY_VERSION) return; // every pod has the empty file
    const { size, chunks } = await readManifest(this.chunks, version);
    this.protectFromRunningGc([version, ...chunks.map((c) => c.id)]);
    // Issued together, so both ride one group commit (one fsync, not two).
    await Promise.all([this.meta.outbox.add(version, size), this.holdings.announce([version], [])]);
  }

  /** With `write_ack = "redundancy"`, a write is acknowledged once its targets hold it. */
  async afterLocalWrite(version: string): Promise<void> {
    this.replicator.touch([version]);
    if (this.clusterConfig.cluster.writeAck !== "redundancy" || version === EMPTY_VERSION) return;
    await this.waitFor(() => !this.meta.outbox.has(version), WRITE_ACK_TIMEOUT_MS, () => {
      const holders = this.meta.holdings.holdersOf(version).length;
      return new UserError(
        `the write was stored here but only ${holders} pod(s) hold it after ${WRITE_ACK_TIMEOUT_MS / 1000} s (write_ack = "redundancy")`,
        "it stays queued and will be replicated when enough full pods are reachable; see `wormhole status`",
      );
    });
  }

  /**
   * Whether a write to `path` is allowed now: read-only rules, and the cluster's failure
   * reaction. A client pod is exempt from the reaction: it queues its writes and uploads
   * them later, which is the point of working offline.
   */
  writeMode(path: string): "ok" | "read-only" {
    if (this.rules(path).readonly) return "read-only";
    if (this.podConfig.pod.role === "client") return "ok";
    return this.health.reaction === "read-only" || this.health.reaction === "stop" ? "read-only" : "ok";
  }

  /**
   * `refreshHealth` unless nothing it reads changed since the last time: status may be
   * polled many times a second, and a refresh walks every live version. Time alone changes
   * nothing here (grace expiry acts through placement); the periodic refresh runs anyway.
   */
  refreshHealthIfChanged(): void {
    const last = this.healthBasis;
    const now = this.currentHealthBasis();
    if (last && last.refs === now.refs && last.holdings === now.holdings && last.topology === now.topology && last.reaction === now.reaction) return;
    this.refreshHealth();
  }

  private currentHealthBasis(): HealthBasis {
    return { refs: this.liveVersions.refs(), holdings: this.meta.holdings.generation, topology: this.topologyChanges, reaction: this.health.reaction };
  }

  /** Recomputes health now (also done every second in the background). */
  refreshHealth(): void {
    this.healthBasis = this.currentHealthBasis();
    const reachableFull = this.membership.all().filter((m) => m.role === "full" && m.state !== "left" && this.liveness.isReachable(m.podId));
    const counted = new Set(reachableFull.map((m) => m.podId));
    const files: FileReplicas[] = [];
    const clients = new Set(this.membership.all().filter((m) => m.role === "client").map((m) => m.podId));
    let awaitingUpload = 0;
    for (const ref of this.liveVersionRefs()) {
      const holders = this.meta.holdings.holdersOf(ref.version);
      // Written on a client and on no full pod yet: queued there, not a failure of the
      // cluster (a laptop leaving with unsent work must not freeze everyone else).
      if (holders.length > 0 && holders.every((p) => clients.has(p))) awaitingUpload++;
      else files.push({ target: ref.redundancy, liveReplicas: countIn(holders, counted) });
    }
    const room = reachableFull.filter((m) => m.state === "active").length;
    const assessed = assessHealth(files, room);
    const state = assessed.state;
    const counts = { ...assessed.counts, total: assessed.counts.total + awaitingUpload, awaitingUpload };
    const reaction = reactionFor(state, {
      degraded: this.clusterConfig.failure.degraded,
      at_risk: this.clusterConfig.failure.atRisk,
      unavailable: this.clusterConfig.failure.unavailable,
    });
    if (state !== this.health.state) this.log.info(`cluster health: ${this.health.state} → ${state} (reaction: ${reaction})`);
    this.health = { state, reaction, counts };
    this.finishDrainIfDone();
  }

  /** A draining pod that holds nothing live any more has handed everything over: it left. */
  private finishDrainIfDone(): void {
    const self = this.membership.get(this.podId);
    if (self?.state !== "draining") return;
    const held = this.meta.holdings.versionsOf(this.podId);
    const stillNeeded = this.liveVersionRefs().filter((ref) => held.has(ref.version)).length;
    if (stillNeeded > 0) return;
    this.membership.update(this.podId, { state: "left" });
    this.log.info("drain complete: every file has its copies on other pods; this pod has left the cluster");
  }

  /**
   * The space of the full pods this pod knows now (itself, if full, and the connected full
   * peers' presence): a pod that is down counts again once it is back.
   */
  private knownClusterSpace(): ClusterSpace | undefined {
    const spaces: unknown[] = this.reachableFullPods().map((m) => this.mesh.peer(m.podId)?.presence);
    if (this.podConfig.pod.role === "full") spaces.push(this.presence);
    return clusterSpace(spaces, this.clusterConfig.cluster.redundancy);
  }

  /** What this pod last told its peers about itself (also shown for it in `wormhole pods`). */
  presence: PodSpace & { role: string } = { role: "full", usedBytes: 0, capacityBytes: 0, freeBytes: 0 };

  private async publishPresence(): Promise<void> {
    const disk = await statfs(this.layout.root).catch(() => undefined);
    this.presence = {
      role: this.podConfig.pod.role,
      usedBytes: this.chunks.usedBytes,
      capacityBytes: this.podConfig.pod.storageLimitBytes ?? (disk ? disk.blocks * disk.bsize : 0),
      freeBytes: disk ? disk.bavail * disk.bsize : 0,
    };
    this.mesh.setPresence({ ...this.presence });
  }

  // ---- garbage collection ------------------------------------------------------------------

  private gcTimer: NodeJS.Timeout | undefined;

  private gcSoon(): void {
    if (this.gcTimer || this.stopped) return;
    this.gcTimer = setTimeout(() => {
      this.gcTimer = undefined;
      void this.collectGarbage();
    }, 2_000);
    this.gcTimer.unref();
  }

  /**
   * Chunks that became live while a collection runs. Its live set is computed first and the
   * store is walked afterwards: without this, a version fetched or written in between (whose
   * lease is released once it is announced) would have its chunks deleted as unreferenced.
   */
  private liveSinceGcStart: Set<string> | undefined;

  private protectFromRunningGc(ids: Iterable<string>): void {
    if (this.liveSinceGcStart) for (const id of ids) this.liveSinceGcStart.add(id);
  }

  /** Deletes chunks that no held version, outbox entry, pin or cache entry references. */
  async collectGarbage(): Promise<void> {
    if (this.liveSinceGcStart) return; // one collection at a time
    const liveSinceStart = (this.liveSinceGcStart = new Set());
    try {
      await this.releaseDeadVersions();
      const keep = new Set<string>(this.meta.holdings.versionsOf(this.podId));
      for (const { version } of this.meta.outbox.list()) keep.add(version);
      // One version whose manifest is missing here must not stop the whole collection:
      // keep what we can account for, and say which version is incomplete.
      const live = new Set<string>();
      for (const version of keep) {
        try {
          for (const id of await collectLiveChunks(this.chunks, [version])) live.add(id);
        } catch (error) {
          this.log.warn(`gc: version ${version.slice(0, 12)} is held but incomplete here (${(error as Error).message}); it will be fetched again`);
          await this.holdings.announce([], [version]);
          return; // its chunks are unaccounted for: collect nothing this pass
        }
      }
      const result = await this.chunks.gc((id) => live.has(id) || liveSinceStart.has(id) || this.cache.has(id) || this.cache.isProtected(id));
      if (result.deleted > 0) this.log.debug(`gc: deleted ${result.deleted} chunks (${result.freedBytes} bytes)`);
    } catch (error) {
      this.log.error(`garbage collection failed: ${(error as Error).message}`);
    } finally {
      this.liveSinceGcStart = undefined;
    }
  }

  /**
   * Versions this pod holds or queued that no file uses any more (overwritten, deleted, or
   * stored by a write that never reached the namespace): released, so their chunks can go.
   * Only versions first seen unused on an earlier pass, so a write between storing its
   * content and recording it in the namespace is never caught in between.
   */
  private unusedSeen = new Set<string>();

  private async releaseDeadVersions(): Promise<void> {
    const live = new Set(this.liveVersionRefs().map((r) => r.version));
    const candidates = new Set([...this.meta.holdings.versionsOf(this.podId), ...this.meta.outbox.list().map((e) => e.version)]);
    const unused = [...candidates].filter((v) => !live.has(v) && !this.cache.isPinned(v));
    const release = unused.filter((v) => this.unusedSeen.has(v));
    this.unusedSeen = new Set(unused);
    if (release.length === 0) return;
    for (const version of release) if (this.meta.outbox.has(version)) await this.meta.outbox.remove(version);
    await this.holdings.announce([], release);
    this.log.debug(`released ${release.length} version(s) no file uses any more`);
  }

  // ---- plumbing ----------------------------------------------------------------------------

  /** Replication state changed: for the given versions only (a holdings delta), or anything. */
  private changed(versions?: readonly string[]): void {
    if (versions) this.replicator.touch(versions);
    else {
      this.topologyChanges++; // membership, connections or config
      this.replicator.trigger();
    }
    this.wakeAckWaiters();
  }

  private wakeAckWaiters(): void {
    for (const wake of [...this.ackWaiters]) wake();
  }

  /** Resolves when `done()` holds, re-checked whenever replication state changes. */
  private waitFor(done: () => boolean, timeoutMs: number, timeoutError: () => Error): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ackWaiters.delete(check);
        reject(timeoutError());
      }, timeoutMs);
      const check = () => {
        if (!done() && !this.stopped) return;
        clearTimeout(timer);
        this.ackWaiters.delete(check);
        resolve();
      };
      this.ackWaiters.add(check);
    });
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

/** The invite a joining pod presents until it is a member (kept in the data directory). */
interface PendingInvite {
  token: string;
  claims: InviteClaims;
}

function readInvite(path: string): PendingInvite {
  const { token, claims } = parseInviteUrl(readFileSync(path, "utf8").trim());
  return { token, claims };
}

/** Until a joining pod receives the cluster's config, it runs on the defaults. */
function placeholderClusterConfig(name: string): ClusterConfig {
  return parseClusterConfig(`[cluster]\nname = ${JSON.stringify(name)}\n`, "<defaults while joining>");
}

function describeChanges(before: ClusterConfig, after: ClusterConfig): string[] {
  const changes: string[] = [];
  const flat = (c: ClusterConfig): Record<string, string> => ({
    ...Object.fromEntries(Object.entries(c.cluster).map(([k, v]) => [`cluster.${k}`, JSON.stringify(v)])),
    ...Object.fromEntries(Object.entries(c.failure).map(([k, v]) => [`failure.${k}`, JSON.stringify(v)])),
    rules: JSON.stringify(c.rules.map(({ line: _line, ...rule }) => rule)),
  });
  const a = flat(before);
  const b = flat(after);
  for (const key of Object.keys(b)) if (a[key] !== b[key]) changes.push(`${key}: ${a[key]} → ${b[key]}`);
  return changes;
}

function placementAffinity(member: MemberRecord): Partial<Affinity> {
  const a = member.affinity;
  return a ? { replicas: a.replicas, new_files: a.new, hot_files: a.hot, cold_files: a.cold } : {};
}

/** The inputs of a health computation, compared by identity and counters. */
interface HealthBasis {
  refs: readonly LiveVersionRef[];
  holdings: number;
  topology: number;
  reaction: string;
}

/** How many of `pods` are in `set` (status runs this per live version: no array built). */
function countIn(pods: readonly string[], set: ReadonlySet<string>): number {
  let n = 0;
  for (const p of pods) if (set.has(p)) n++;
  return n;
}
