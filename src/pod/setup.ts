// What `wormhole init` and `wormhole join` leave in a data directory: the pod's key pair,
// its pod.toml, and (for the first pod of a cluster) the cluster's wormhole.toml. Nothing
// runs yet; `wormhole start` reads these files.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import {
  type ClusterConfig,
  defaultClusterConfig,
  defaultPodConfig,
  loadClusterConfig,
  parseHostPort,
  parseSize,
  type PodConfig,
  renderClusterConfig,
  renderPodConfig,
} from "../config/index.js";
import { generateIdentity, parseInviteUrl, serializeIdentity } from "../net/index.js";
import { dataDirLayout } from "./data-dir.js";
import { UserError } from "./user-error.js";

export interface PodSetup {
  dataDir: string;
  name?: string;
  role: "full" | "client";
  listen?: string;
  capacity?: string;
  mount?: string;
}

export interface InitSetup extends PodSetup {
  cluster: string;
  redundancy?: number;
  /** A wormhole.toml to start the cluster with. */
  clusterConfigFile?: string;
}

/** Creates the first pod of a new cluster. Returns the new pod's id. */
export function initPod(setup: InitSetup): string {
  if (setup.role === "client") {
    throw new UserError("the first pod of a cluster must be a full pod", "run `wormhole init` without --client, then join laptops with `wormhole join --client`");
  }
  let cluster: ClusterConfig = setup.clusterConfigFile ? loadClusterConfig(setup.clusterConfigFile) : defaultClusterConfig(setup.cluster);
  if (cluster.cluster.name !== setup.cluster) {
    throw new UserError(
      `--cluster is "${setup.cluster}" but ${setup.clusterConfigFile} names the cluster "${cluster.cluster.name}"`,
      `make them agree: pass --cluster "${cluster.cluster.name}", or edit the name in the file`,
    );
  }
  if (setup.redundancy !== undefined) {
    if (!Number.isInteger(setup.redundancy) || setup.redundancy < 1 || setup.redundancy > 16) {
      throw new UserError(`--redundancy must be a whole number from 1 to 16, got ${setup.redundancy}`, "for example --redundancy 2 keeps two copies of every file");
    }
    cluster = { ...cluster, cluster: { ...cluster.cluster, redundancy: setup.redundancy } };
  }
  const podId = preparePod(setup, []);
  writeFileSync(dataDirLayout(setup.dataDir).clusterConfig, renderClusterConfig(cluster));
  return podId;
}

/** Prepares a pod that will join through `inviteUrl` at its first start. */
export function joinPod(inviteUrl: string, setup: PodSetup): { podId: string; cluster: string } {
  let invite: ReturnType<typeof parseInviteUrl>;
  try {
    invite = parseInviteUrl(inviteUrl);
  } catch (error) {
    throw new UserError((error as Error).message, "copy the whole line printed by `wormhole invite` on a member pod");
  }
  if (invite.claims.expiresAt <= Date.now()) {
    throw new UserError(`this invite expired at ${new Date(invite.claims.expiresAt).toISOString()}`, "ask a member for a new one: `wormhole invite`");
  }
  const podId = preparePod(setup, invite.addresses);
  writeFileSync(dataDirLayout(setup.dataDir).pendingInvite, `${inviteUrl.trim()}\n`, { mode: 0o600 });
  return { podId, cluster: invite.claims.cluster };
}

function preparePod(setup: PodSetup, peers: string[]): string {
  const layout = dataDirLayout(setup.dataDir);
  if (existsSync(layout.identity) || existsSync(layout.podConfig)) {
    throw new UserError(`${setup.dataDir} already holds a pod`, "start it with `wormhole start`, or choose another --data directory");
  }
  if (existsSync(setup.dataDir) && readdirSync(setup.dataDir).length > 0) {
    throw new UserError(`${setup.dataDir} is not empty`, "a pod needs a data directory of its own: choose a new or empty directory");
  }
  const config: PodConfig = defaultPodConfig({
    name: setup.name ?? hostname(),
    role: setup.role,
    dataDir: setup.dataDir,
    peers,
    ...(setup.mount === undefined ? {} : { mount: setup.mount }),
  });
  if (setup.role === "client") config.pod.listen = null;
  else if (setup.listen !== undefined) config.pod.listen = fromOption("--listen", () => parseHostPort(setup.listen!, true), "for example --listen 0.0.0.0:7420");
  if (setup.capacity !== undefined) config.pod.storageLimitBytes = fromOption("--capacity", () => parseSize(setup.capacity!), 'for example --capacity 500GiB or --capacity "2 TB"');

  mkdirSync(setup.dataDir, { recursive: true, mode: 0o700 });
  const identity = generateIdentity();
  writeFileSync(layout.identity, `${serializeIdentity(identity)}\n`, { mode: 0o600 });
  writeFileSync(layout.podConfig, renderPodConfig(config));
  return identity.podId;
}

/** A command-line value checked by the config layer's parser, with its message. */
function fromOption<T>(option: string, parse: () => T, example: string): T {
  try {
    return parse();
  } catch (error) {
    throw new UserError(`${option}: ${(error as Error).message}`, example);
  }
}
