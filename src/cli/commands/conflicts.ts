// Conflict review: list, show one, resolve.
import type { Command } from "commander";
import { callAdmin } from "../admin-client.js";
import { clusterPath, dataDirOf, printReply, withCommonOptions } from "../context.js";
import { formatBytes, formatTable, formatTime } from "../format.js";
import { shortId } from "./cluster.js";

/** --keep: "newest", "both", or anything else names the pod whose version to keep. */
export function keepRequest(keep: string): { keep: "newest" | "both" } | { keep: "pod"; pod: string } {
  return keep === "newest" || keep === "both" ? { keep } : { keep: "pod", pod: keep };
}

export function registerConflictCommands(program: Command): void {
  const conflicts = withCommonOptions(program.command("conflicts").description("list unresolved conflicts (concurrent edits kept side by side)"), { json: true }).action(
    async (_opts, cmd: Command) => {
      const reply = await callAdmin(dataDirOf(cmd), "GET /conflicts", {});
      printReply(cmd, reply, (r) =>
        r.conflicts.length === 0 ? "no conflicts" : formatTable(["PATH", "KIND", "POLICY", "VERSIONS"], r.conflicts.map((c) => [c.path, c.kind, c.policy, String(c.versions)]), [3]),
      );
    },
  );

  withCommonOptions(conflicts.command("show").argument("<path>", "cluster path").description("show every version of one conflicted file"), { json: true }).action(
    async (path: string, _opts, cmd: Command) => {
      const reply = await callAdmin(dataDirOf(cmd), "GET /conflicts/show", { path: clusterPath(path) });
      printReply(cmd, reply, (r) =>
        [
          `${r.path}: ${r.kind} conflict, policy ${r.policy}`,
          formatTable(
            ["", "VERSION", "POD", "WRITTEN", "SIZE"],
            r.versions.map((v) => [v.current ? "*" : "", v.deleted ? "(deleted)" : (v.version ?? "-").slice(0, 12), v.podName ?? shortId(v.pod), formatTime(v.time), v.size === undefined ? "-" : formatBytes(v.size)]),
            [4],
          ),
          "(* = the version the file system shows now)",
          ...(r.diffs ?? []).map((d) => `\n${d.trimEnd()}`),
        ].join("\n"),
      );
    },
  );

  withCommonOptions(
    conflicts
      .command("resolve")
      .argument("<path>", "cluster path")
      .requiredOption("--keep <which>", "newest | both | <pod> (the pod whose version to keep)")
      .description("settle a conflict: keep the newest version, every version as its own file, or one pod's version"),
    { json: true },
  ).action(async (path: string, opts: { keep: string }, cmd: Command) => {
    const reply = await callAdmin(dataDirOf(cmd), "POST /conflicts/resolve", { path: clusterPath(path), ...keepRequest(opts.keep) });
    printReply(cmd, reply, (r) => `resolved ${r.path}; kept: ${r.kept.join(", ")}`);
  });
}
