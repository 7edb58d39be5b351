// Mounting and unmounting a pod's file service. Kernel caching is chosen for close-to-open
// consistency (docs/mount.md has the reasons and the measured costs):
//   entry_timeout / attr_timeout = 1 s by default: the kernel keeps names and attributes,
//   and the binding makes it forget them the moment the namespace changes
//   (native/fuse-native/kernel-cache.h), so a file written on another pod is seen by the next
//   open or stat. negative_timeout = 0: a name another pod creates is found at once.
//   auto_cache (default on): a file's page cache survives an open only if its mtime and size
//   are unchanged; CacheGuard makes sure a new version always changes one of them.
// big_writes and the other libfuse-only options ride inside `fsname`, because fuse-native
// joins that value into the -o string verbatim and has no option for them.
import { mkdir, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import type { FileService } from "../pod/file-service.js";
import type { Logger } from "../pod/log.js";
import { UserError } from "../pod/user-error.js";
import { AttrCacheInvalidation } from "./attr-cache.js";
import { fuseOps } from "./fuse-ops.js";
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

/** Options that libfuse understands but fuse-native cannot pass: they ride in fsname. */
export function fsnameWithOptions(options: Pick<MountOptions, "kernelCacheSec" | "autoCache">): string {
  const t = options.kernelCacheSec ?? 1;
  const extra = ["big_writes", `entry_timeout=${t}`, `attr_timeout=${t}`, "negative_timeout=0"];
  if (options.autoCache ?? true) extra.push("auto_cache");
  return ["wormhole", ...extra].join(",");
}

export async function mountFileService(files: FileService, options: MountOptions): Promise<Mounted> {
  const mountpoint = resolve(options.mountpoint);
  const log = options.log;
  await clearStaleMount(mountpoint, log);
  await resetStaging(options.stagingDir, log);
  if (options.allowOther && !options.defaultPermissions) {
    log.warn("allow_other without default_permissions: every local user can read and write every file in the mount");
  }
  const Fuse = await loadFuseBinding();
  const attrCache = new AttrCacheInvalidation(() => fuse);
  const operations = new MountOperations(files.deferringDurability(), options.stagingDir, log, attrCache);
  const fuse: InstanceType<typeof Fuse> = new Fuse(
    mountpoint,
    fuseOps(operations, log, {
      caller: () => fuse.caller(),
      attrCacheEpoch: () => fuse.attrCacheEpoch,
    }),
    {
      fsname: fsnameWithOptions(options),
      subtype: "wormhole",
      allowOther: options.allowOther,
      defaultPermissions: options.defaultPermissions,
      debug: options.debug,
      mkdir: true,
      // A flush commits what its handle wrote; most closes wrote nothing (MountOperations.flush).
      skipCleanFlushes: true,
      // A commit of a large file may take longer than fuse-native's 15 s default.
      timeout: { default: 60_000, flush: false, fsync: false, release: false, truncate: false, ftruncate: false },
    },
  );
  // Subscribed before the mount answers anything: no change can slip past the cache.
  const stopInvalidating = files.onChange((touched) => attrCache.changed(touched));
  try {
    await new Promise<void>((done, fail) => fuse.mount((err) => (err ? fail(mountError(mountpoint, err)) : done())));
  } catch (err) {
    stopInvalidating();
    throw err;
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
      await new Promise<void>((done, fail) => fuse.unmount((err) => (err ? fail(err) : done())));
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

/**
 * fuse-native links against libfuse.so.2 when it is loaded, so it is loaded only when a pod
 * mounts: init, join, the CLI and a pod without a mount work on a machine without libfuse.
 * It is required synchronously first: a failed dlopen inside a dynamic `import()` is not a
 * rejection in Node 20 but an uncaught exception that kills the process (tested by hand
 * with libfuse removed), while `require` throws where we can catch it. The import then
 * reuses the loaded module.
 */
async function loadFuseBinding(): Promise<typeof import("fuse-native").default> {
  try {
    createRequire(import.meta.url)("fuse-native");
  } catch (err) {
    throw new UserError(
      `cannot load the FUSE library, so the cluster cannot be mounted: ${(err as Error).message.split("\n")[0]}`,
      "install it (Debian/Ubuntu: `apt-get install -y libfuse2 fuse3`), or start the pod without a mount point (docs/install.md)",
      400,
      err,
    );
  }
  return (await import("fuse-native")).default;
}

function mountError(mountpoint: string, err: Error): UserError {
  return new UserError(
    `could not mount at ${mountpoint}: ${err.message}`,
    "check that /dev/fuse exists, that libfuse2 and fusermount are installed, and that the path is an empty directory (docs/install.md)",
    400,
    err,
  );
}
