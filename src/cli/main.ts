#!/usr/bin/env node
// Entry point of the `wormhole` command.
import { lifecycleHandlers } from "./lifecycle-handlers.js";
import { runCli } from "./program.js";

// `wormhole ls | head` closes stdout early: that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

// exitCode (not process.exit) so that piped stdout is flushed before the process ends.
process.exitCode = await runCli(process.argv, lifecycleHandlers);
