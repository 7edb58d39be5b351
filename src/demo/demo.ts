// `npm run demo`: a four-pod cluster on this machine, explained step by step. Three full
// pods (nas1..nas3) and a laptop (a client pod), each mounted under ./demo/<name>; sample
// files written on one pod appear on the others; then the laptop goes offline, both sides
// edit the same file, and `wormhole conflicts` settles it. Everything is unmounted and
// stopped on exit or Ctrl-C.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { promisify } from "node:util";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "..", "cli", "main.js");
const ROOT = resolve("demo");
const PODS = ["nas1", "nas2", "nas3", "laptop"] as const;
type PodName = (typeof PODS)[number];
const children = new Map<PodName, ChildProcess>();

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
let stepNumber = 0;

function step(title: string, explanation: string): void {
  stepNumber++;
  console.log(`\n${bold(`${stepNumber}. ${title}`)}\n${explanation}`);
}

function show(command: string, output: string): void {
  console.log(dim(`$ ${command}`));
  if (output.trim()) console.log(output.trimEnd().replace(/^/gm, "  "));
}

const dataOf = (pod: PodName) => join(ROOT, ".data", pod);
const mountOf = (pod: PodName) => join(ROOT, pod);

async function wormhole(pod: PodName | undefined, ...args: string[]): Promise<string> {
  const full = pod ? [...args, "--data", dataOf(pod)] : args;
  try {
    const { stdout } = await run(process.execPath, [CLI, ...full]);
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string };
    throw new Error(`wormhole ${full.join(" ")} failed:\n${e.stderr ?? String(error)}`, { cause: error });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startPod(pod: PodName): Promise<void> {
  mkdirSync(mountOf(pod), { recursive: true });
  const child = spawn(process.execPath, [CLI, "start", "--data", dataOf(pod), "--mount", mountOf(pod)], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d) => (log += d));
  children.set(pod, child);
  await waitFor(`${pod} to start`, async () => {
    if (child.exitCode !== null) throw new Error(`${pod} exited:\n${log}`);
    await wormhole(pod, "status");
    return readFileSync("/proc/mounts", "utf8").includes(` ${mountOf(pod)} `);
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
          child.once("exit", () => {
            clearTimeout(force);
            done();
          });
          child.kill("SIGTERM"); // the pod saves open files and unmounts
        }),
    ),
  );
  children.clear();
}

/** A mount left behind by an earlier demo that was killed: unmount it before starting. */
async function clearLeftovers(): Promise<void> {
  const mounts = readFileSync("/proc/mounts", "utf8");
  for (const pod of PODS) {
    if (mounts.includes(` ${mountOf(pod)} `)) await run("fusermount", ["-uz", mountOf(pod)]).catch(() => undefined);
  }
  rmSync(ROOT, { recursive: true, force: true });
}

async function main(): Promise<void> {
  console.log(bold("Wormhole demo: four pods on this machine, one folder."));
  console.log(`Each pod is a real process with its own data directory (${join(ROOT, ".data")}) and its own mount:`);
  console.log(PODS.map((p) => `  ${mountOf(p)}`).join("\n"));
  await clearLeftovers();

  step("Create the cluster", "nas1 founds cluster \"demo\": it gets a key pair, a pod.toml and the cluster's wormhole.toml.\nEvery file will be stored on 2 of the 3 full pods; concurrent edits are kept side by side (keep-both).");
  show("wormhole init --cluster demo --redundancy 2 ...", await wormhole("nas1", "init", "--cluster", "demo", "--name", "nas1", "--listen", "127.0.0.1:0", "--redundancy", "2"));
  await startPod("nas1");

  step("Invite the other pods", "An invite is a signed, expiring token with nas1's address. nas2 and nas3 join as full pods\n(they store replicas); the laptop joins as a client pod (it caches what it uses, and may go offline).");
  for (const pod of ["nas2", "nas3", "laptop"] as const) {
    const invite = (await wormhole("nas1", "invite", "--expires", "10m")).trim();
    const extra = pod === "laptop" ? ["--client"] : ["--listen", "127.0.0.1:0"];
    show(`wormhole join <invite> --name ${pod}${pod === "laptop" ? " --client" : ""}`, await wormhole(undefined, "join", invite, "--data", dataOf(pod), "--name", pod, ...extra));
    await startPod(pod);
  }
  await waitFor("every pod to be connected", async () => JSON.parse(await wormhole("laptop", "status", "--json")).pods.filter((p: { state: string }) => p.state === "up").length === 4);
  show("wormhole pods", await wormhole("nas1", "pods"));

  step("Write files on one pod", `Ordinary file operations in ${mountOf("nas1")}: the pod chunks the content, records it in the\nreplicated namespace and places 2 copies on the full pods chosen by rendezvous hashing.`);
  mkdirSync(join(mountOf("nas1"), "photos"));
  writeFileSync(join(mountOf("nas1"), "notes.txt"), "Shopping list\n- milk\n- bread\n");
  writeFileSync(join(mountOf("nas1"), "photos", "beach.raw"), Buffer.alloc(3 * 1024 * 1024, 7));
  show(`echo ... > ${mountOf("nas1")}/notes.txt; cp beach.raw ${mountOf("nas1")}/photos/`, "");

  step("See them everywhere", "The namespace (a Yjs CRDT) reaches every pod at once; content is pulled from a holder on first read.");
  await waitFor("the files on the laptop", () => existsSync(join(mountOf("laptop"), "photos", "beach.raw")));
  show(`ls ${mountOf("nas3")}`, readdirSync(mountOf("nas3")).join("  "));
  show(`cat ${mountOf("laptop")}/notes.txt`, readFileSync(join(mountOf("laptop"), "notes.txt"), "utf8"));
  await waitFor("two replicas of every file", async () => JSON.parse(await wormhole("nas1", "status", "--json")).health === "healthy");
  show("wormhole ls /photos", await wormhole("nas2", "ls", "/photos"));

  step("A conflict", "The laptop goes offline and edits notes.txt; meanwhile nas2 edits it too. Neither saw the other's edit.");
  show("wormhole offline   (on the laptop)", await wormhole("laptop", "offline"));
  writeFileSync(join(mountOf("laptop"), "notes.txt"), "Shopping list\n- milk\n- bread\n- coffee (added on the train)\n");
  await sleep(1_100); // different seconds in the two versions' names
  writeFileSync(join(mountOf("nas2"), "notes.txt"), "Shopping list\n- oat milk\n- bread\n");
  show("wormhole online    (on the laptop)", await wormhole("laptop", "online"));
  await waitFor("the conflict to reach nas1", async () => JSON.parse(await wormhole("nas1", "conflicts", "--json")).conflicts.length > 0);
  await waitFor("the conflict copy to appear", () => readdirSync(mountOf("nas1")).some((n) => n.includes(".conflict-")));
  show(`ls ${mountOf("nas1")}`, readdirSync(mountOf("nas1")).join("  "));
  console.log("With keep-both, the newest edit is notes.txt and the other stays beside it as a conflict copy.");
  show("wormhole conflicts", await wormhole("nas1", "conflicts"));
  show("wormhole conflicts show /notes.txt", await wormhole("nas1", "conflicts", "show", "/notes.txt"));

  step("Resolve it", "Keep the newest version: an ordinary write whose history covers both sides, so every pod agrees.");
  show("wormhole conflicts resolve /notes.txt --keep newest", await wormhole("laptop", "conflicts", "resolve", "/notes.txt", "--keep", "newest"));
  await waitFor("the copy to disappear on nas3", () => !readdirSync(mountOf("nas3")).some((n) => n.includes(".conflict-")));
  show(`ls ${mountOf("nas3")}`, readdirSync(mountOf("nas3")).join("  "));
  show("wormhole conflicts", await wormhole("nas3", "conflicts"));

  if (process.stdin.isTTY) {
    console.log(`\n${bold("The cluster is running.")} Explore ${ROOT}/<pod>, or run wormhole commands with --data ${join(ROOT, ".data", "<pod>")}.`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    await rl.question("Press Enter to stop the pods and unmount. ");
    rl.close();
  }
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    console.log("\nStopping the pods and unmounting...");
    await stopAll();
    console.log(`Done. The pods' data stays in ${join(ROOT, ".data")} until the next demo.`);
  })();
  return cleaning;
}

process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
process.once("SIGTERM", () => void cleanup().then(() => process.exit(143)));

try {
  await main();
} catch (error) {
  console.error(`\ndemo failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
