// Starting configs for `wormhole init` and `wormhole join`: built by parsing a minimal
// file, so a bad name or path from the command line gets the same checks and messages
// as one written in a file.

import { parseClusterConfig, type ClusterConfig } from "./cluster.js";
import { parsePodConfig, type PodConfig, type PodRole } from "./pod.js";

const SOURCE = "<command line>";

/** A cluster config with every default, named `name`. Throws ConfigError for a bad name. */
export function defaultClusterConfig(name: string): ClusterConfig {
  return parseClusterConfig(`[cluster]\nname = ${JSON.stringify(name)}\n`, SOURCE);
}

export interface PodConfigBasics {
  name: string;
  role?: PodRole;
  /** Absolute path (a relative one is resolved against the current directory). */
  dataDir: string;
  peers?: string[];
  /** Where to mount the folder; omitted = no mount. */
  mount?: string;
}

/** A pod config with every default and the given basics. Throws ConfigError for bad values. */
export function defaultPodConfig(basics: PodConfigBasics): PodConfig {
  const lines = ["[pod]", `name = ${JSON.stringify(basics.name)}`, `data_dir = ${JSON.stringify(basics.dataDir)}`];
  if (basics.role) lines.push(`role = ${JSON.stringify(basics.role)}`);
  if (basics.peers) lines.push(`peers = ${JSON.stringify(basics.peers)}`);
  if (basics.mount !== undefined) lines.push("[mount]", `path = ${JSON.stringify(basics.mount)}`);
  return parsePodConfig(`${lines.join("\n")}\n`, SOURCE);
}
