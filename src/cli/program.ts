// The `wormhole` program: every command, and the conventions for how it fails.
//   exit 0: done; exit 1: it failed (`error: ...` and `  help: ...` on stderr);
//   exit 2: the command line itself was wrong (unknown option, missing argument).
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/index.js";
import { UserError } from "../pod/user-error.js";
import { registerClusterCommands } from "./commands/cluster.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerConflictCommands } from "./commands/conflicts.js";
import { registerFileCommands } from "./commands/files.js";
import { registerLifecycleCommands, type LifecycleHandlers } from "./commands/lifecycle.js";
import { DATA_HELP } from "./context.js";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Usage errors name the command whose --help explains it. */
function configureUsageErrors(cmd: Command): void {
  cmd.configureOutput({
    outputError: (message, write) => write(`${message.trimEnd()}\n  help: see \`${commandPath(cmd)} --help\`\n`),
  });
  for (const sub of cmd.commands) configureUsageErrors(sub);
}

export function buildProgram(handlers: LifecycleHandlers): Command {
  const program = new Command("wormhole")
    .description("Wormhole: the disks of many machines as one folder. Talks to the pod of --data over its admin socket.")
    .option("--data <dir>", DATA_HELP)
    .exitOverride()
    .showSuggestionAfterError(true);
  registerLifecycleCommands(program, handlers);
  registerClusterCommands(program);
  registerFileCommands(program);
  registerConflictCommands(program);
  registerConfigCommands(program, handlers);
  configureUsageErrors(program);
  return program;
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE; // commander already printed it
  if (err instanceof UserError) {
    process.stderr.write(`error: ${err.message}\n  help: ${err.hint}\n`);
    return EXIT_FAILURE;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`); // already rustc-style: file, line, key, expected, help
    return EXIT_FAILURE;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: unexpected failure: ${message}\n  help: this is a bug in wormhole; run again with WORMHOLE_DEBUG=1 to see the stack trace, and report it\n`);
  if (process.env.WORMHOLE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT_FAILURE;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code. */
export async function runCli(argv: readonly string[], handlers: LifecycleHandlers): Promise<number> {
  try {
    await buildProgram(handlers).parseAsync([...argv]);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}
