// Runs a mounted pod file service in a child process (test/helpers/mount-child.ts) for the
// fs tests and the fs bench. The child serves FUSE on its own JS thread, so the test process
// may do anything (including waiting on child processes) without deadlocking the mount.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const run = promisify(execFile);
const CHILD = join(import.meta.dirname, "mount-child.js");

export interface MountedPod {
  root: string;
  data: string;
  mnt: string;
  child: ChildProcess;
  output(): string;
  /** Absolute path inside the mount. */
  at(path: string): string;
  /** Sends a signal and waits for the child to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** stop() + remove the temp dirs. */
  dispose(): Promise<void>;
}

export async function startMountedPod(options: { root?: string; mountpoint?: string; env?: NodeJS.ProcessEnv } = {}): Promise<MountedPod> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), "wormhole-fs-")));
  const data = join(root, "data");
  const mnt = options.mountpoint ?? join(root, "mnt");
  await mkdir(mnt, { recursive: true }).catch(() => {}); // a stale mount answers ENOTCONN/EEXIST here
  const args = [CHILD, data, mnt];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mount child did not get ready in 20 s:\n${output}`)), 20_000);
    const onData = () => {
      if (output.includes("READY")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`mount child exited ${code} before it was ready:\n${output}`));
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
    stop,
    async dispose() {
      await stop();
      await run("fusermount", ["-uz", mnt]).catch(() => {}); // only matters if the child died
      await rm(root, { recursive: true, force: true });
    },
  };
}
