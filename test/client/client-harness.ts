// A cluster of full pods on this machine and a client pod ("laptop") in its own network
// namespace, each pod a real process. Full pod `a` mounts the cluster too, so the tests
// can edit on both sides at once. The laptop loses its network by `ns.linkDown()`.
import { execFile } from "node:child_process";
import { writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { callAdmin } from "../../src/cli/admin-client.js";
import type { StatusResponse } from "../../src/pod/admin-api.js";
import { Cluster, PodProcess, waitFor, wormholeOk } from "../helpers/cluster.js";
import { NetNamespace } from "../helpers/netns.js";

const run = promisify(execFile);

/** keep-both by default; /ow/** is overwrite, so one cluster exercises both policies. */
export const CLUSTER_CONFIG = `[cluster]
name = "test"
redundancy = 2
grace = "2s"
conflict = "keep-both"

[[rules]]
path = "/ow/**"
conflict = "overwrite"
`;

export interface ClientWorld {
  ns: NetNamespace;
  cluster: Cluster;
  /** Full pods; `a` has a mount at `aMount`. */
  full: PodProcess[];
  aMount: string;
  laptop: PodProcess;
  laptopMount: string;
  dispose(): Promise<void>;
}

export async function startWorld(fullPods = 3): Promise<ClientWorld> {
  const ns = await NetNamespace.create();
  const cluster = new Cluster({ listenHost: ns.hostAddress });
  const mounts: string[] = [];
  const dispose = async () => {
    await Promise.all(cluster.pods.map((p) => p.kill("SIGKILL")));
    for (const mnt of mounts) await run("fusermount", ["-uz", mnt]).catch(() => {});
    await cluster.dispose();
    await ns.dispose();
  };
  try {
    const config = join(cluster.root, "wormhole.toml");
    writeFileSync(config, CLUSTER_CONFIG);
    const aMount = join(cluster.root, "a-mnt");
    mkdirSync(aMount);
    mounts.push(aMount);
    const a = await cluster.seed("a", ["--config", config], ["--mount", aMount]);
    await waitFor("a to mount", () => a.output.includes(`mounted at ${aMount}`));
    // The other full pods join at once (each start takes seconds of mostly waiting).
    const names = Array.from({ length: fullPods - 1 }, (_, i) => String.fromCharCode(98 + i));
    const full = [a, ...(await Promise.all(names.map((name) => cluster.join(name, a))))];

    const laptopMount = join(cluster.root, "laptop-mnt");
    mkdirSync(laptopMount);
    mounts.push(laptopMount);
    const laptop = new PodProcess("laptop", cluster.dataDir("laptop"), ns.command([]));
    const invite = (await a.cli(["invite", "--expires", "10m"])).trim();
    await wormholeOk(["join", invite, "--client", "--data", laptop.data, "--name", "laptop"]);
    // Keep-local patterns of the laptop: downloaded ahead, readable offline.
    const podToml = join(laptop.data, "pod.toml");
    const text = readFileSync(podToml, "utf8");
    const kept = text.replace(/^keep\s*=\s*\[\]/m, 'keep = ["/kept/**"]');
    if (kept === text) throw new Error(`could not set [client] keep in ${podToml}:\n${text}`);
    writeFileSync(podToml, kept);
    cluster.pods.push(laptop);
    await startLaptop(laptop, laptopMount);
    return { ns, cluster, full, aMount, laptop, laptopMount, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Starts (or restarts) the laptop inside its namespace, with its mount. */
export async function startLaptop(laptop: PodProcess, mount: string): Promise<void> {
  laptop.output = "";
  await laptop.start(["--mount", mount]);
  await waitFor("the laptop to mount", () => laptop.output.includes(`mounted at ${mount}`));
}

export function status(pod: PodProcess): Promise<StatusResponse> {
  return callAdmin(pod.data, "GET /status", {});
}

/** Every path under `/` with its type and size, as one pod's namespace shows it. */
export async function tree(pod: PodProcess): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const { entries } = await callAdmin(pod.data, "GET /ls", { path: dir });
    for (const e of entries) {
      const path = `${dir === "/" ? "" : dir}/${e.name}`;
      lines.push(`${e.type} ${path} ${e.size}`);
      if (e.type === "dir") await walk(path);
    }
  };
  await walk("/");
  return lines.sort();
}

/** Resolves once every pod shows the same tree; returns it. */
export async function converged(pods: readonly PodProcess[], timeoutMs: number): Promise<string[]> {
  let last: string[][] = [];
  try {
    return await waitFor(
      "every pod to show the same tree",
      async () => {
        last = await Promise.all(pods.map((p) => tree(p)));
        const first = JSON.stringify(last[0]);
        return last.every((t) => JSON.stringify(t) === first) ? last[0] : undefined;
      },
      timeoutMs,
      250,
    );
  } catch (error) {
    const diff = last.map((t, i) => `${pods[i]!.name}: ${t.length} entries; only here: ${t.filter((l) => !last[0]!.includes(l)).slice(0, 5).join(" | ")}`);
    throw new Error(`${(error as Error).message}\n${diff.join("\n")}`, { cause: error });
  }
}

/** Resolves once the laptop has nothing queued and full pods count every file at full redundancy. */
export async function fullyUploaded(laptop: PodProcess, fullPod: PodProcess, timeoutMs: number): Promise<void> {
  let last: unknown;
  try {
    await waitFor(
      "the laptop's queue to drain and every file to reach its redundancy",
      async () => {
        const [l, f] = await Promise.all([status(laptop), status(fullPod)]);
        last = { laptop: { client: l.client, files: l.files }, [fullPod.name]: { health: f.health, files: f.files, pods: f.pods.map((p) => `${p.name}:${p.state}`) } };
        const q = l.client!.queued;
        return q.uploads === 0 && q.changes === 0 && f.files.underReplicated === 0 && f.files.unavailable === 0 && (f.files.awaitingUpload ?? 0) === 0 && f.health === "healthy";
      },
      timeoutMs,
      250,
    );
  } catch (error) {
    const tail = (p: PodProcess) => `${p.name} log tail:\n${p.output.split("\n").filter((l) => !l.includes("cluster health")).slice(-25).join("\n")}`;
    throw new Error(`${(error as Error).message}\nlast seen: ${JSON.stringify(last)}\n${tail(laptop)}\n${tail(fullPod)}`, { cause: error });
  }
}
