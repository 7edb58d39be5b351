// A real pod with its FUSE mount, for the fs tests and the fs bench: `wormhole init` (first
// time) then `wormhole start --mount` as a child process. The test drives the mount from its
// own process; FUSE ops are served on the pod's JS thread, never this one.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CLI, Cluster, PodProcess, waitFor, wormholeOk } from "./cluster.js";

export const run = promisify(execFile);

/** One pod, redundancy 1, files up to 100 MiB, /ro/*.txt read-only by a rule. */
export const TEST_CLUSTER_CONFIG = `[cluster]
name = "fs-test"
redundancy = 1
max_size = "100MiB"

[[rules]]
path = "/ro/*.txt"
readonly = true
`;

export interface MountedPod {
  root: string;
  data: string;
  mnt: string;
  child: ChildProcess;
  output(): string;
  /** Absolute path inside the mount. */
  at(path: string): string;
  /** Runs `wormhole <args> --data <this pod>`; throws with its output if it fails. */
  cli(args: string[]): Promise<string>;
  /** Sends a signal and waits for the pod to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** stop() + remove the temp dirs. */
  dispose(): Promise<void>;
}

export interface MountedPodOptions {
  root?: string;
  mountpoint?: string;
  env?: NodeJS.ProcessEnv;
  /** `allow_other = true` in pod.toml (default_permissions is on by default), for multi-user tests. */
  allowOther?: boolean;
}

export async function startMountedPod(options: MountedPodOptions = {}): Promise<MountedPod> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), "wormhole-fs-")));
  const data = join(root, "data");
  const mnt = options.mountpoint ?? join(root, "mnt");
  await mkdir(mnt, { recursive: true }).catch(() => {}); // a stale mount answers ENOTCONN here
  const cli = (args: string[]) => wormholeOk([...args, "--data", data]);
  const initialised = await access(join(data, "identity.key")).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    const config = join(root, "wormhole.toml");
    await writeFile(config, TEST_CLUSTER_CONFIG);
    await cli(["init", "--cluster", "fs-test", "--listen", "127.0.0.1:0", "--config", config]);
  }
  if (options.allowOther) {
    const podToml = join(data, "pod.toml");
    await writeFile(podToml, (await readFile(podToml, "utf8")).replace(/^allow_other = false/m, "allow_other = true"));
  }
  const child = spawn(process.execPath, [CLI, "start", "--data", data, "--mount", mnt], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the pod did not mount in 30 s:\n${output}`)), 30_000);
    const onData = () => {
      if (output.includes(`mounted at ${mnt}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the pod exited ${code} before it mounted:\n${output}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    child.kill("SIGKILL");
    if (!options.root) await rm(root, { recursive: true, force: true });
    throw err;
  }
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    root,
    data,
    mnt,
    child,
    output: () => output,
    at: (path) => join(mnt, path),
    cli,
    stop,
    async dispose() {
      await stop();
      await run("fusermount", ["-uz", mnt]).catch(() => {}); // only matters if the pod died
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * Several real pods of one cluster, each started with its FUSE mount at
 * `<cluster.root>/mnt-<name>`. dispose() stops them with SIGTERM (a clean stop unmounts),
 * clears the dead mounts of pods killed on purpose, and removes everything.
 */
export class MountedCluster {
  readonly cluster = new Cluster();
  private readonly started: PodProcess[] = [];

  /** `kernelCache`: the pods' pod.toml `[mount] kernel_cache` (default: the rendered default). */
  constructor(private readonly options: { kernelCache?: string } = {}) {}

  mnt(pod: PodProcess | string): string {
    return join(this.cluster.root, `mnt-${typeof pod === "string" ? pod : pod.name}`);
  }

  /** Absolute path of cluster path `path` inside `pod`'s mount. */
  at(pod: PodProcess, path: string): string {
    return join(this.mnt(pod), path);
  }

  /** `wormhole init` of a new cluster (`initArgs`: --redundancy, --config ...), started mounted. */
  async seed(name: string, initArgs: string[] = []): Promise<PodProcess> {
    const pod = new PodProcess(name, this.cluster.dataDir(name));
    await wormholeOk(["init", "--cluster", "test", "--data", pod.data, "--listen", "127.0.0.1:0", "--name", name, ...initArgs]);
    await this.startMounted(pod);
    return pod;
  }

  /** Invites a pod through `via`, joins it and starts it mounted. */
  async join(name: string, via: PodProcess): Promise<PodProcess> {
    const invite = (await via.cli(["invite", "--expires", "10m"])).trim();
    const pod = new PodProcess(name, this.cluster.dataDir(name));
    await wormholeOk(["join", invite, "--data", pod.data, "--listen", "127.0.0.1:0", "--name", name]);
    await this.startMounted(pod);
    return pod;
  }

  async dispose(): Promise<void> {
    for (const pod of this.started) await pod.kill("SIGTERM");
    for (const pod of this.started) await run("fusermount", ["-uz", this.mnt(pod)]).catch(() => {});
    await this.cluster.dispose();
  }

  private async startMounted(pod: PodProcess): Promise<void> {
    await mkdir(this.mnt(pod), { recursive: true });
    if (this.options.kernelCache !== undefined) {
      const file = join(pod.data, "pod.toml");
      const text = await readFile(file, "utf8");
      const setting = /^kernel_cache = .*$/m;
      if (!setting.test(text)) throw new Error(`${file} has no kernel_cache line to change`);
      await writeFile(file, text.replace(setting, `kernel_cache = "${this.options.kernelCache}"`));
    }
    this.cluster.pods.push(pod);
    this.started.push(pod);
    await pod.start(["--mount", this.mnt(pod)]);
    await waitFor(`${pod.name} to mount`, () => pod.output.includes(`mounted at ${this.mnt(pod)}`));
  }
}
