// `wormhole config apply` (through the running pod) and `config check` (offline, a
// registration point: see ../lifecycle-handlers.ts).
import type { Command } from "commander";
import { resolve } from "node:path";
import { callAdmin } from "../admin-client.js";
import { dataDirOf, localSource, printReply, withCommonOptions } from "../context.js";
import type { LifecycleHandlers } from "./lifecycle.js";

export function registerConfigCommands(program: Command, handlers: Pick<LifecycleHandlers, "configCheck">): void {
  const config = program.command("config").description("check or change the cluster configuration");

  withCommonOptions(
    config
      .command("apply")
      .argument("<wormhole.toml>", "cluster configuration file")
      .description("validate a cluster configuration and replicate it to every pod"),
    { json: true },
  ).action(async (file: string, _opts, cmd: Command) => {
    const reply = await callAdmin(dataDirOf(cmd), "POST /config/apply", { file: await localSource(file) });
    printReply(cmd, reply, (r) => (r.changes.length === 0 ? "applied: no changes" : ["applied:", ...r.changes.map((c) => `  ${c}`)].join("\n")));
  });

  withCommonOptions(config.command("check").argument("<file>", "a wormhole.toml or pod.toml").description("validate a configuration file without a running pod"), { json: false })
    .option("--json", "print the problems found as JSON")
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      await handlers.configCheck(resolve(file), { json: opts.json === true, data: dataDirOf(cmd) });
    });
}
