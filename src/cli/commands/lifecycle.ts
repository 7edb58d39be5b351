// Commands that create, join and run a pod. Their commander definitions (the interface)
// live here; what they do needs the config, store, net and pod layers, so the work is
// done by `LifecycleHandlers`, supplied by ../lifecycle-handlers.ts (the registration point).
import { Command, InvalidArgumentError } from "commander";
import { dataDirOf, withCommonOptions } from "../context.js";

export interface PodSetupOptions {
  /** Absolute data directory. */
  data: string;
  /** Human name of this pod (default: the host name). */
  name?: string;
  role: "full" | "client";
  /** host:port to accept peers on (full pods). */
  listen?: string;
  /** Storage this pod offers, e.g. "500G" (full pods). */
  capacity?: string;
}

export interface InitOptions extends PodSetupOptions {
  cluster: string;
  /** Copies of each file (default 2). */
  redundancy?: number;
  /** A wormhole.toml to start the cluster with (default: the built-in defaults). */
  config?: string;
}

export interface StartOptions {
  data: string;
  /** Where to mount the cluster (default: from pod.toml). */
  mount?: string;
  /** host:port for Prometheus /metrics (default: from pod.toml, else off). */
  metrics?: string;
}

export interface ConfigCheckOptions {
  json: boolean;
  /** Absolute data directory (for checking a pod.toml against its pod). */
  data: string;
}

export interface LifecycleHandlers {
  init(options: InitOptions): Promise<void>;
  join(token: string, options: PodSetupOptions): Promise<void>;
  start(options: StartOptions): Promise<void>;
  /** Validates a wormhole.toml or pod.toml without a running pod. */
  configCheck(file: string, options: ConfigCheckOptions): Promise<void>;
}

function parseRedundancy(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError(`expected a whole number from 1 to 16, got "${value}"`);
  return n;
}

function podSetupOptions(cmd: Command): Command {
  return cmd
    .option("--name <name>", "this pod's name in `wormhole pods` (default: the host name)")
    .option("--listen <host:port>", "address to accept peer connections on (full pods)")
    .option("--capacity <size>", "storage this pod offers to the cluster, e.g. 500G (full pods)");
}

export function registerLifecycleCommands(program: Command, handlers: LifecycleHandlers): void {
  withCommonOptions(podSetupOptions(program.command("init").description("create a new cluster with this machine as its first pod")), { json: false })
    .requiredOption("--cluster <name>", "the new cluster's name")
    .option("--config <wormhole.toml>", "cluster configuration to start with (default: built-in defaults)")
    .option("--redundancy <n>", "copies of each file, on distinct full pods (default 2)", parseRedundancy)
    .action(async (opts: Omit<InitOptions, "data" | "role">, cmd: Command) => {
      await handlers.init({ ...opts, role: "full", data: dataDirOf(cmd) });
    });

  withCommonOptions(podSetupOptions(program.command("join").argument("<invite>", "the invite URL printed by `wormhole invite` on a member pod").description("prepare a new pod of an existing cluster (run `wormhole start` next)")), {
    json: false,
  })
    .option("--client", "join as a client pod: a laptop that caches what it uses, holds no counted replica and may go offline")
    .action(async (invite: string, opts: Omit<PodSetupOptions, "data" | "role"> & { client?: boolean }, cmd: Command) => {
      const { client, ...rest } = opts;
      await handlers.join(invite, { ...rest, role: client ? "client" : "full", data: dataDirOf(cmd) });
    });

  withCommonOptions(program.command("start").description("run the pod: connect to the cluster, serve the admin API, mount the files"), { json: false })
    .option("--mount <dir>", "where to mount the cluster's files (default: from pod.toml)")
    .option("--metrics <host:port>", "serve Prometheus metrics at http://<host:port>/metrics (default: from pod.toml, else off)")
    .action(async (opts: Omit<StartOptions, "data">, cmd: Command) => {
      await handlers.start({ ...opts, data: dataDirOf(cmd) });
    });
}
