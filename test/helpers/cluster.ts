// Real pods as real processes on loopback, for the cluster tests. Every pod gets a temp
// data directory; everything is killed and removed when the harness is disposed.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { StatusResponse } from "../../src/pod/admin-api.js";

const run = promisify(execFile);
export const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `wormhole <args>`; never throws on a non-zero exit, the caller asserts on it. */
export async function wormhole(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

export async function wormholeOk(args: string[]): Promise<string> {
  const result = await wormhole(args);
  if (result.code !== 0) {
    throw new Error(`wormhole ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

export class PodProcess {
  child: ChildProcess | undefined;
  output = "";

  constructor(
    readonly name: string,
    readonly data: string,
    /** Runs the pod through this command (e.g. `nsenter --net=...`); empty: directly. */
    readonly launcher: string[] = [],
  ) {}

  async start(extraArgs: string[] = []): Promise<void> {
    const argv = [...this.launcher, process.execPath, CLI, "start", "--data", this.data, ...extraArgs];
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout?.on("data", (d) => (this.output += d));
    child.stderr?.on("data", (d) => (this.output += d));
    await waitFor(`pod ${this.name} to answer on its admin socket`, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pod ${this.name} exited (${child.exitCode ?? child.signalCode}):\n${this.output}`);
      return (await wormhole(["status", "--json", "--data", this.data])).code === 0;
    });
  }

  async status(): Promise<StatusResponse> {
    return JSON.parse(await wormholeOk(["status", "--json", "--data", this.data])) as StatusResponse;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }

  cli(args: string[]): Promise<string> {
    return wormholeOk([...args, "--data", this.data]);
  }
}


export class Cluster {
  readonly root = mkdtempSync(join(tmpdir(), "wormhole-cluster-"));
  readonly pods: PodProcess[] = [];
  /** Full pods listen on this host, port 0 (127.0.0.1 unless a test network needs another). */
  private readonly listenHost: string;

  constructor(options: { listenHost?: string } = {}) {
    this.listenHost = options.listenHost ?? "127.0.0.1";
  }

  dataDir(name: string): string {
    return join(this.root, name);
  }

  /** Creates the first pod of a new cluster and starts it. */
  async seed(name: string, initArgs: string[] = [], startArgs: string[] = []): Promise<PodProcess> {
    const pod = new PodProcess(name, this.dataDir(name));
    await wormholeOk(["init", "--cluster", "test", "--data", pod.data, "--listen", `${this.listenHost}:0`, "--name", name, ...initArgs]);
    this.pods.push(pod);
    await pod.start(startArgs);
    return pod;
  }

  /** Invites a new pod through `via`, joins it and starts it. */
  async join(name: string, via: PodProcess, joinArgs: string[] = []): Promise<PodProcess> {
    const invite = (await via.cli(["invite", "--expires", "10m"])).trim();
    const pod = new PodProcess(name, this.dataDir(name));
    await wormholeOk(["join", invite, "--data", pod.data, "--listen", `${this.listenHost}:0`, "--name", name, ...joinArgs]);
    this.pods.push(pod);
    await pod.start();
    return pod;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.pods.map((p) => p.kill("SIGKILL")));
    rmSync(this.root, { recursive: true, force: true });
  }
}
