// The commands that create, join, run and check a pod: `init`, `join`, `start` and
// `config check`. Unlike the admin commands they do not talk to a running pod.
import { resolve } from "node:path";
import { checkConfigFile, ConfigError } from "../config/index.js";
import { mountFileService } from "../fs/index.js";
import { adminRouteTable, runPod } from "../pod/daemon.js";
import { initPod, joinPod } from "../pod/setup.js";
import { UserError } from "../pod/user-error.js";
import type { LifecycleHandlers } from "./commands/lifecycle.js";

export const lifecycleHandlers: LifecycleHandlers = {
  init: async (options) => {
    const podId = initPod({
      dataDir: options.data,
      cluster: options.cluster,
      role: options.role,
      ...pick(options, ["name", "listen", "capacity", "redundancy"]),
      ...(options.config ? { clusterConfigFile: options.config } : {}),
    });
    process.stdout.write(`created cluster "${options.cluster}" with pod ${podId} in ${options.data}\nstart it with: wormhole start --data ${options.data}\n`);
  },
  join: async (invite, options) => {
    const { podId, cluster } = joinPod(invite, { dataDir: options.data, role: options.role, ...pick(options, ["name", "listen", "capacity"]) });
    process.stdout.write(`prepared pod ${podId} to join cluster "${cluster}" in ${options.data}\nstart it with: wormhole start --data ${options.data}\n`);
  },
  start: async (options) => {
    await runPod(
      {
        dataDir: options.data,
        ...pick(options, ["metrics"]),
        mount: async (pod) => {
          const mountpoint = options.mount ? resolve(options.mount) : pod.podConfig.mount.path;
          if (!mountpoint) return undefined;
          return mountFileService(pod.files, {
            mountpoint,
            stagingDir: pod.layout.staging,
            log: pod.log,
            allowOther: pod.podConfig.mount.allowOther,
            defaultPermissions: pod.podConfig.mount.defaultPermissions,
            kernelCacheSec: pod.podConfig.mount.kernelCacheMs / 1000,
          });
        },
      },
      adminRouteTable,
    );
  },
  configCheck: async (file, options) => {
    try {
      const checked = checkConfigFile(file);
      const summary = { file, kind: checked.kind, ok: true };
      process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${file}: valid ${checked.kind === "cluster" ? "cluster configuration (wormhole.toml)" : "pod configuration (pod.toml)"}\n`);
    } catch (error) {
      if (!(error instanceof ConfigError) || !options.json) throw error;
      process.stdout.write(`${JSON.stringify({ file, ok: false, errors: error.errors })}\n`);
      throw new UserError(`${file} is not valid`, "fix the problems listed above");
    }
  },
};

/** The options that were given, without the undefined ones (exactOptionalPropertyTypes-friendly). */
function pick<T extends object, K extends keyof T>(options: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out;
}
