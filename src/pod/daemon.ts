// `wormhole start`: runs one pod in the foreground until SIGINT/SIGTERM, serving the admin
// API on the data directory's socket, and shuts everything down in order on the way out.
import { formatHostPort } from "../config/index.js";
import { AdminServer, type RouteTable } from "./admin-server.js";
import { adminRoutes } from "./admin-routes.js";
import { clusterRoutes } from "./cluster-routes.js";
import type { Entry } from "../crdt/index.js";
import { type EntryDetails, fileRoutes } from "./file-routes.js";
import { formatMetrics, type MetricSample, MetricsServer } from "./metrics-server.js";
import { Pod } from "./pod.js";
import { tuneHeapForPod } from "./heap-tuning.js";

export interface RunOptions {
  dataDir: string;
  metrics?: string;
  /**
   * Mounts the pod's files, if wanted. Supplied by the caller (the CLI), because the
   * file-system layer sits above this one and the daemon must not import it.
   */
  mount?: (pod: Pod) => Promise<{ unmount(): Promise<void> } | undefined>;
}

/** Every admin route a running pod serves. */
export function adminRouteTable(pod: Pod): RouteTable {
  return adminRoutes({ ...clusterRoutes(pod), ...fileRoutes(pod.files, (entry) => entryDetails(pod, entry)) });
}

/** Replication state of one entry, for `wormhole ls`. */
function entryDetails(pod: Pod, entry: Entry): EntryDetails {
  if (entry.kind !== "file") return {};
  const counted = new Set(pod.membership.all().filter((m) => m.role === "full" && m.state !== "left" && pod.liveness.isReachable(m.podId)).map((m) => m.podId));
  return {
    replicas: pod.meta.holdings.holdersOf(entry.version).filter((p) => counted.has(p)).length,
    target: pod.ruleFor(entry.path).redundancy,
    ...(pod.keepsLocally(entry.path) ? { pinned: true } : {}),
    ...(entry.conflictCopy ? { conflict: true } : {}),
  };
}

export async function runPod(options: RunOptions, routes: (pod: Pod) => RouteTable): Promise<void> {
  tuneHeapForPod();
  const pod = await Pod.open({ dataDir: options.dataDir });
  const admin = new AdminServer(pod.layout.adminSocket, routes(pod), { log: (line) => pod.log.error(line) });
  await admin.start(); // first: refuses to run a second pod on the same data directory
  let metrics: MetricsServer | undefined;
  let mounted: { unmount(): Promise<void> } | undefined;
  try {
    await pod.start();
    mounted = await options.mount?.(pod);
    const metricsAddress = options.metrics ?? (pod.podConfig.pod.metrics ? formatHostPort(pod.podConfig.pod.metrics) : undefined);
    if (metricsAddress) metrics = await MetricsServer.start(metricsAddress, () => podMetrics(pod));
  } catch (error) {
    await mounted?.unmount();
    await admin.close();
    await pod.stop();
    throw error;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      pod.log.info(`${signal}: stopping`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await mounted?.unmount(); // first: saves files still open for writing
  await metrics?.close();
  await admin.close();
  await pod.stop();
  pod.log.info("stopped");
}

function podMetrics(pod: Pod): string {
  const health = pod.currentHealth();
  const gauge = (name: string, help: string, value: number, labels?: Record<string, string>): MetricSample => ({ name, help, type: "gauge", value, ...(labels ? { labels } : {}) });
  return formatMetrics([
    gauge("wormhole_files", "Files in the namespace.", health.counts.total),
    gauge("wormhole_files_under_replicated", "Files with fewer live replicas than their target.", health.counts.underReplicated),
    gauge("wormhole_files_unavailable", "Files with no reachable replica.", health.counts.unavailable),
    ...["healthy", "degraded", "at-risk", "unavailable"].map((state) => gauge("wormhole_health", "Cluster health: 1 for the current state.", health.state === state ? 1 : 0, { state })),
    gauge("wormhole_store_bytes", "Bytes of chunks stored on this pod.", pod.chunks.usedBytes),
    gauge("wormhole_peers_connected", "Pods this pod has a live connection to.", pod.mesh.connections().length),
  ]);
}
