// Reading config files from disk, and telling a wormhole.toml from a pod.toml.

import { readFileSync } from "node:fs";
import { CLUSTER_SCHEMA, parseClusterConfig, type ClusterConfig } from "./cluster.js";
import { ConfigError } from "./errors.js";
import { parsePodConfig, POD_SCHEMA, type PodConfig } from "./pod.js";
import { parseToml, stripBom } from "./toml.js";

/** Reads a file as UTF-8, turning "no such file" and friends into a ConfigError. */
function readConfigText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const help =
      err.code === "ENOENT" ? "check the path; `wormhole init` writes a starting file" : err.code === "EACCES" ? "the file is not readable by this user" : err.code === "EISDIR" ? "give the path of the file, not of its directory" : undefined;
    throw new ConfigError(path, { code: "io", key: "", headline: `cannot read config file: ${err.code ?? err.message}`, expected: "a readable TOML file", help, at: { line: 0, column: 0, length: 0 } });
  }
}

export function loadClusterConfig(path: string): ClusterConfig {
  return parseClusterConfig(readConfigText(path), path);
}

export function loadPodConfig(path: string): PodConfig {
  return parsePodConfig(readConfigText(path), path);
}

export type CheckedConfig = { kind: "cluster"; config: ClusterConfig } | { kind: "pod"; config: PodConfig };

/**
 * Validates a config file of either kind (for `wormhole config check`), telling them apart
 * by their tables: [cluster], [failure], [[rules]] make a wormhole.toml; [pod], [mount],
 * [cache], [affinity], [client] make a pod.toml.
 */
export function checkConfigFile(path: string): CheckedConfig {
  const sourceText = stripBom(readConfigText(path));
  const { doc } = parseToml(sourceText, path);
  const names = Object.keys(doc);
  const clusterTables = names.filter((n) => Object.hasOwn(CLUSTER_SCHEMA.tables, n) || Object.hasOwn(CLUSTER_SCHEMA.arrays, n));
  const podTables = names.filter((n) => Object.hasOwn(POD_SCHEMA.tables, n));
  if (clusterTables.length > 0 && podTables.length > 0) {
    throw kindError(path, `this file mixes cluster tables (${clusterTables.map((t) => `[${t}]`).join(", ")}) and pod tables (${podTables.map((t) => `[${t}]`).join(", ")})`, "split it: cluster tables go in wormhole.toml, pod tables in pod.toml");
  }
  if (clusterTables.length > 0) return { kind: "cluster", config: parseClusterConfig(sourceText, path) };
  if (podTables.length > 0) return { kind: "pod", config: parsePodConfig(sourceText, path) };
  throw kindError(path, "cannot tell which kind of config file this is", "a wormhole.toml starts with a [cluster] table, a pod.toml with a [pod] table");
}

function kindError(path: string, headline: string, help: string): ConfigError {
  return new ConfigError(path, { code: "unknown-kind", key: "", headline, expected: "a wormhole.toml ([cluster]) or a pod.toml ([pod])", help, at: { line: 0, column: 0, length: 0 } });
}
