// Conventions shared by every command: where the data directory is, --json output, and
// turning path arguments into what the admin API expects.
import { Command, InvalidArgumentError } from "commander";
import { lstat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { UserError } from "../pod/user-error.js";

export const DATA_HELP = "the pod's data directory (default: $WORMHOLE_DATA, else ~/.wormhole)";

/** Adds the options every command has: --data, and --json for commands that print data. */
export function withCommonOptions(cmd: Command, { json }: { json: boolean }): Command {
  cmd.option("--data <dir>", DATA_HELP);
  if (json) cmd.option("--json", "print the pod's JSON reply instead of a table");
  return cmd;
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** --data (here or before the command), else $WORMHOLE_DATA, else ~/.wormhole; absolute. */
export function dataDirOf(cmd: Command): string {
  const fromFlag = cmd.optsWithGlobals<{ data?: string }>().data;
  const chosen = fromFlag ?? (process.env.WORMHOLE_DATA || join(homedir(), ".wormhole"));
  return resolve(expandHome(chosen));
}

/** Prints the reply as JSON (--json) or through the command's human formatter. */
export function printReply<T>(cmd: Command, reply: T, human: (reply: T) => string): void {
  const text = cmd.optsWithGlobals<{ json?: boolean }>().json ? JSON.stringify(reply, null, 2) : human(reply);
  if (text !== "") process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * A cluster path as the admin API wants it: absolute, normalised, no trailing slash.
 * "photos/x" means "/photos/x" (the cluster root is the only base there is).
 */
export function clusterPath(arg: string): string {
  if (arg === "" || arg.includes("\0")) throw new UserError(`"${arg}" is not a cluster path`, 'write it like /photos/2024 (paths start at the cluster root "/")');
  const normal = posix.normalize(`/${arg}`);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** A local source for `put`: absolute (the pod reads it, maybe from another cwd), existing. */
export async function localSource(arg: string): Promise<string> {
  const path = resolve(arg);
  if (!(await exists(path))) throw new UserError(`no such local file or directory: ${path}`, "check the path; put copies a local file or directory into the cluster");
  return path;
}

/**
 * A local destination for `get`: absolute, not existing yet (like `cp -r src dest` with a
 * new dest: never merges into or overwrites what is there), in an existing directory.
 */
export async function localDestination(arg: string): Promise<string> {
  const path = resolve(arg);
  if (await exists(path)) throw new UserError(`${path} already exists`, "get never overwrites: choose a new name, or move the existing one away first");
  if (!(await exists(dirname(path)))) throw new UserError(`the directory ${dirname(path)} does not exist`, `create it first (mkdir -p ${dirname(path)})`);
  return path;
}

/** Wraps a parser that throws UserError so commander reports it as a usage error (exit 2). */
export function usageParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof UserError) throw new InvalidArgumentError(`${err.message}; ${err.hint}`);
      throw err;
    }
  };
}
