// File commands: ls, rm, put, get, pin, unpin. Content never travels through the admin
// API: put/get hand the pod absolute local paths and the pod reads or writes them itself.
import type { Command } from "commander";
import type { DirEntry, TransferResponse } from "../../pod/admin-api.js";
import { callAdmin } from "../admin-client.js";
import { clusterPath, dataDirOf, localDestination, localSource, printReply, withCommonOptions } from "../context.js";
import { formatBytes, formatTable, formatTime } from "../format.js";

function entryRow(entry: DirEntry): string[] {
  const flags = [entry.pinned ? "pinned" : "", entry.conflict ? "conflict" : ""].filter(Boolean).join(",");
  return [
    entry.type,
    entry.type === "dir" ? "-" : formatBytes(entry.size),
    formatTime(entry.mtime),
    entry.target === undefined ? "-" : `${entry.replicas ?? 0}/${entry.target}`,
    entry.type === "dir" ? `${entry.name}/` : entry.name,
    flags,
  ];
}

function transferLine(verb: string, from: string, to: string, reply: TransferResponse): string {
  return `${verb} ${from} → ${to}: ${reply.files} file${reply.files === 1 ? "" : "s"}, ${formatBytes(reply.bytes)}`;
}

export function registerFileCommands(program: Command): void {
  withCommonOptions(program.command("ls").argument("[path]", "cluster path", "/").description("list a cluster directory (or show one file)"), { json: true }).action(
    async (path: string, _opts, cmd: Command) => {
      const reply = await callAdmin(dataDirOf(cmd), "GET /ls", { path: clusterPath(path) });
      printReply(cmd, reply, (r) => (r.entries.length === 0 ? "" : formatTable(["TYPE", "SIZE", "MODIFIED", "REPLICAS", "NAME", ""], r.entries.map(entryRow), [1])));
    },
  );

  withCommonOptions(
    program
      .command("rm")
      .argument("<path>", "cluster path")
      .option("-r, --recursive", "remove a directory and everything under it")
      .description("remove a file or directory from the cluster"),
    { json: true },
  ).action(async (path: string, opts: { recursive?: boolean }, cmd: Command) => {
    const reply = await callAdmin(dataDirOf(cmd), "POST /rm", { path: clusterPath(path), recursive: opts.recursive === true });
    printReply(cmd, reply, (r) => `removed ${r.path} (${r.removed} entr${r.removed === 1 ? "y" : "ies"})`);
  });

  withCommonOptions(
    program
      .command("put")
      .argument("<local>", "local file or directory")
      .argument("<cluster-path>", "destination in the cluster; must not exist yet")
      .description("copy a local file or directory into the cluster (like cp -r to a new name)"),
    { json: true },
  ).action(async (local: string, dest: string, _opts, cmd: Command) => {
    const localPath = await localSource(local);
    const reply = await callAdmin(dataDirOf(cmd), "POST /put", { localPath, path: clusterPath(dest) });
    printReply(cmd, reply, (r) => transferLine("put", r.localPath, r.path, r));
  });

  withCommonOptions(
    program
      .command("get")
      .argument("<cluster-path>", "file or directory in the cluster")
      .argument("<local>", "local destination; must not exist yet")
      .description("copy a file or directory out of the cluster (like cp -r to a new name)"),
    { json: true },
  ).action(async (source: string, local: string, _opts, cmd: Command) => {
    const localPath = await localDestination(local);
    const reply = await callAdmin(dataDirOf(cmd), "POST /get", { path: clusterPath(source), localPath });
    printReply(cmd, reply, (r) => transferLine("got", r.path, r.localPath, r));
  });

  for (const [name, route, description] of [
    ["pin", "POST /pin", "keep a full copy of a path on this pod, even offline (never evicted from the cache)"],
    ["unpin", "POST /unpin", "let this pod's cache evict a pinned path again"],
  ] as const) {
    withCommonOptions(program.command(name).argument("<path>", "cluster path").description(description), { json: true }).action(async (path: string, _opts, cmd: Command) => {
      const reply = await callAdmin(dataDirOf(cmd), route, { path: clusterPath(path) });
      printReply(cmd, reply, (r) => `${r.pinned ? "pinned" : "unpinned"} ${r.path}`);
    });
  }
}
