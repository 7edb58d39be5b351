// A pod killed while mounted leaves its mountpoint dead: every access fails with ENOTCONN
// ("Transport endpoint is not connected") and a new mount on it fails. At the next start we
// detect that and lazily unmount it. A mountpoint that is listed AND answers is a live mount
// (another pod?): we refuse rather than pull it from under its users.
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { promisify } from "node:util";
import type { Logger } from "../pod/log.js";

const run = promisify(execFile);

export type MountState = "free" | "stale" | "live";

/** Whether `mountpoint` (absolute, resolved) is free, a dead FUSE mount, or a live mount. */
export async function mountState(mountpoint: string): Promise<MountState> {
  try {
    await stat(mountpoint);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTCONN" || code === "ECONNABORTED") return "stale";
    if (code === "ENOENT") return "free";
    throw err;
  }
  return (await listedMounts()).has(mountpoint) ? "live" : "free";
}

/** Clears a stale mount left by a crash; throws a clear error for a live one. */
export async function clearStaleMount(mountpoint: string, log: Logger): Promise<void> {
  const state = await mountState(mountpoint);
  if (state === "free") return;
  if (state === "live") {
    throw Object.assign(
      new Error(`${mountpoint} is already mounted and answering (another pod or program uses it): unmount it (fusermount -u ${mountpoint}) or choose another mount path`),
      { code: "EBUSY" },
    );
  }
  log.warn(`${mountpoint} is a stale mount left by a previous run (ENOTCONN): unmounting it with fusermount -uz`);
  await unmountLazy(mountpoint);
}

/** `fusermount -uz`, falling back to fusermount3 and `umount -l` (whichever the host has). */
export async function unmountLazy(mountpoint: string): Promise<void> {
  const attempts: Array<[string, string[]]> = [
    ["fusermount", ["-uz", mountpoint]],
    ["fusermount3", ["-uz", mountpoint]],
    ["umount", ["-l", mountpoint]],
  ];
  const failures: string[] = [];
  for (const [cmd, args] of attempts) {
    try {
      await run(cmd, args);
      return;
    } catch (err) {
      failures.push(`${cmd}: ${(err as Error).message.trim()}`);
    }
  }
  throw new Error(`could not unmount ${mountpoint}; unmount it by hand. Tried:\n  ${failures.join("\n  ")}`);
}

/** Mount points from /proc/mounts (octal escapes such as \040 for a space decoded). */
async function listedMounts(): Promise<Set<string>> {
  const text = await readFile("/proc/mounts", "utf8");
  const points = new Set<string>();
  for (const line of text.split("\n")) {
    const field = line.split(" ")[1];
    if (field) points.add(field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
  }
  return points;
}
