// Cluster-wide commands: status, pods, drain, remove, invite.
import type { Command } from "commander";
import type { ClientStatus, PodChangeResponse, PodInfo } from "../../pod/admin-api.js";
import { callAdmin } from "../admin-client.js";
import { dataDirOf, printReply, usageParser, withCommonOptions } from "../context.js";
import { formatBytes, formatTable, formatTime, parseDuration } from "../format.js";

/** Pod ids are long public-key hashes; 8 characters tell pods apart in a table. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Client pods offer no counted storage: "-" says so better than "0 B". */
function capacity(pod: PodInfo): string {
  return pod.role === "client" && pod.capacityBytes === 0 ? "-" : formatBytes(pod.capacityBytes);
}

function podRows(pods: readonly PodInfo[], extra: (pod: PodInfo) => string[] = () => []): string[][] {
  return pods.map((pod) => [shortId(pod.id), pod.self ? `${pod.name} (this pod)` : pod.name, pod.role, pod.state, formatBytes(pod.usedBytes), capacity(pod), ...extra(pod)]);
}

/** A client pod's connection, queue and cache, under the cluster lines of `status`. */
export function clientLines(c: ClientStatus): string[] {
  const via = c.reachable.map((p) => p.name).join(", ");
  const network = c.state === "online" ? `online via ${via}` : c.workingOffline ? "offline (working offline: `wormhole online` reconnects)" : "offline (no full pod reachable; retrying)";
  const { changes, uploads, bytes } = c.queued;
  return [
    `network  ${network}`,
    `queued   ${changes} change(s), ${uploads} file version(s) to upload (${formatBytes(bytes)})`,
    `cache    ${formatBytes(c.cache.usedBytes)} of ${formatBytes(c.cache.maxBytes)} (${formatBytes(c.cache.storedBytes)} stored in all)`,
  ];
}

const POD_HEADER = ["ID", "NAME", "ROLE", "STATE", "USED", "CAPACITY"];

export function registerClusterCommands(program: Command): void {
  withCommonOptions(program.command("status").description("show the cluster's health, file counts and pods"), { json: true }).action(async (_opts, cmd: Command) => {
    const reply = await callAdmin(dataDirOf(cmd), "GET /status", {});
    printReply(cmd, reply, (s) => {
      const { total, underReplicated, unavailable } = s.files;
      return [
        `cluster  ${s.cluster}`,
        // An offline laptop sees no holder at all: its own view of health says nothing about the cluster.
        s.client?.state === "offline" ? "health   not known while offline" : `health   ${s.health}${s.reaction && s.reaction !== "continue" ? ` (reaction: ${s.reaction})` : ""}`,
        `files    ${total} total, ${underReplicated} under-replicated, ${unavailable} unavailable`,
        ...(s.client ? clientLines(s.client) : []),
        "",
        formatTable(POD_HEADER, podRows(s.pods), [4, 5]),
      ].join("\n");
    });
  });

  withCommonOptions(program.command("pods").description("list every pod of the cluster with its state and usage"), { json: true }).action(async (_opts, cmd: Command) => {
    const reply = await callAdmin(dataDirOf(cmd), "GET /pods", {});
    printReply(cmd, reply, (r) =>
      formatTable(
        [...POD_HEADER, "ADDRESS", "LAST SEEN"],
        podRows(r.pods, (pod) => [pod.address ?? "-", pod.lastSeen ? formatTime(pod.lastSeen) : "-"]),
        [4, 5],
      ),
    );
  });

  for (const [name, route, description] of [
    ["drain", "POST /drain", "take a full pod out of placement; it hands its files over, then leaves the cluster"],
    ["remove", "POST /remove", "remove a pod that is gone for good; its files are re-replicated from the others"],
  ] as const) {
    withCommonOptions(program.command(name).argument("<pod>", "pod id, id prefix or name").description(description), { json: true }).action(async (pod: string, _opts, cmd: Command) => {
      printReply(cmd, await callAdmin(dataDirOf(cmd), route, { pod }), (reply: PodChangeResponse) => reply.message);
    });
  }

  withCommonOptions(
    program
      .command("invite")
      .description("create a token that lets one new pod join the cluster")
      .option("--expires <duration>", "how long the token stays valid: 30m, 24h, 7d, ...", usageParser(parseDuration), 24 * 3600),
    { json: true },
  ).action(async (opts: { expires: number }, cmd: Command) => {
    const reply = await callAdmin(dataDirOf(cmd), "POST /invite", { expiresInSeconds: opts.expires });
    // One line on stdout (scripts capture it); the explanation goes to stderr.
    printReply(cmd, reply, (r) => r.token);
    if (!cmd.optsWithGlobals<{ json?: boolean }>().json) {
      process.stderr.write(`valid until ${formatTime(reply.expiresAt)}; on the new machine run:\n  ${reply.joinCommand}\n`);
    }
  });

  for (const [name, online, description] of [
    ["offline", false, "work offline: close every connection; writes are kept here and uploaded later"],
    ["online", true, "end `wormhole offline`: reconnect and upload what was written meanwhile"],
  ] as const) {
    withCommonOptions(program.command(name).description(description), { json: true }).action(async (_opts, cmd: Command) => {
      const reply = await callAdmin(dataDirOf(cmd), "POST /network", { online });
      printReply(cmd, reply, (r) => (r.online ? "online: reconnecting to the cluster" : "offline: writes are queued here until `wormhole online`"));
    });
  }
}
