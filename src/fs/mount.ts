// Mounting and unmounting a pod's file service. Kernel caching is chosen for close-to-open
// consistency (docs/mount.md has the reasons and the measured costs):
//   names and attributes are kept `kernel_cache` seconds (1 by default), and the kernel is
//   made to forget them the moment the namespace changes (kernel-cache.ts), so a file written
//   on another pod is seen by the next open or stat. A name that does not exist is not
//   cached, so a name another pod creates is found at once.
//   auto_cache (default on): a file's page cache survives an open only if its mtime and size
//   are unchanged; CacheGuard makes sure a new version always changes one of them.
import { mkdir, readdir, rm } from "node:fs/promises";
import { resolve } from "node:path";
import type { FileService } from "../pod/file-service.js";
import type { Logger } from "../pod/log.js";
import { UserError } from "../pod/user-error.js";
import { loadFuseBinding, type Session } from "./fuse-binding.js";
import { FuseRequests } from "./fuse-requests.js";
import { KernelCache } from "./kernel-cache.js";
import { MountOperations } from "./operations.js";
import { clearStaleMount } from "./stale-mount.js";

export interface MountOptions {
  mountpoint: string;
  /** `<data>/staging`: write-back files of open files live here. */
  stagingDir: string;
  log: Logger;
  /** Let other users reach the mount (pod config `allow_other`; non-root needs user_allow_other). */
  allowOther?: boolean;
  /** Let the kernel check permission bits against uid/gid/mode (pod config `default_permissions`). */
  defaultPermissions?: boolean;
  /**
   * Seconds the kernel may keep names and attributes (default 1). Changes are invalidated as
   * they happen, so this bounds only the damage of a change the pod failed to report; 0 makes
   * every lookup and stat ask the pod.
   */
  kernelCacheSec?: number;
  /** Keep a file's page cache across opens while its mtime and size are unchanged (default true). */
  autoCache?: boolean;
  debug?: boolean;
}

export interface Mounted {
  readonly mountpoint: string;
  readonly operations: MountOperations;
  /** Saves files still open for writing, then unmounts (lazily, so busy users get ENOTCONN). */
  unmount(): Promise<void>;
}

/** libfuse's -o string for the mount. */
export function fuseMountOptions(options: Pick<MountOptions, "allowOther" | "defaultPermissions" | "debug">): string {
  const all = ["fsname=wormhole", "subtype=wormhole", "big_writes"];
  if (options.allowOther) all.push("allow_other");
  if (options.defaultPermissions) all.push("default_permissions");
  if (options.debug) all.push("debug");
  return all.join(",");
}

export async function mountFileService(files: FileService, options: MountOptions): Promise<Mounted> {
  const mountpoint = resolve(options.mountpoint);
  const log = options.log;
  await clearStaleMount(mountpoint, log);
  await resetStaging(options.stagingDir, log);
  if (options.allowOther && !options.defaultPermissions) {
    log.warn("allow_other without default_permissions: every local user can read and write every file in the mount");
  }
  const fuse = loadFuseBinding();
  await mkdir(mountpoint, { recursive: true });
  let session: Session | undefined;
  const cache = new KernelCache({ sweep: (ids, mayRetry, dropPages, epoch) => session && fuse.sweep(session, ids, mayRetry, dropPages, epoch) }, options.kernelCacheSec ?? 1);
  const operations = new MountOperations(files.deferringDurability(), options.stagingDir, log, cache);
  const requests = new FuseRequests(fuse, operations, cache, log, options.autoCache ?? true);
  // Subscribed before the mount answers anything: no change can slip past the cache.
  const stopInvalidating = files.onChange((touched) => cache.changed(touched));
  try {
    session = fuse.mount(mountpoint, fuseMountOptions(options), requests.handle, (epoch) => cache.sweptUpTo(epoch), requests.args, requests.stat);
  } catch (err) {
    stopInvalidating();
    requests.close();
    throw mountError(mountpoint, err as Error);
  }
  log.info(`mounted at ${mountpoint}`);
  let unmounted = false;
  return {
    mountpoint,
    operations,
    async unmount() {
      if (unmounted) return;
      unmounted = true;
      await operations.commitAll();
      requests.close();
      fuse.unmount(session!);
      stopInvalidating();
      log.info(`unmounted ${mountpoint}`);
    },
  };
}

/**
 * Staging files left by a crash hold writes that were never flushed (close or fsync never
 * returned for them), so no application was told they were saved: they are discarded.
 */
async function resetStaging(stagingDir: string, log: Logger): Promise<void> {
  const left = await readdir(stagingDir).catch(() => [] as string[]);
  if (left.length > 0) log.warn(`discarding ${left.length} staging file(s) of writes never flushed before the last stop (${stagingDir})`);
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });
}

function mountError(mountpoint: string, err: Error): UserError {
  return new UserError(
    `could not mount at ${mountpoint}: ${err.message}`,
    "check that /dev/fuse exists, that libfuse2 and fusermount are installed, and that the path is an empty directory (docs/install.md)",
    400,
    err,
  );
}
