// REGISTRATION POINT (lead): the implementations of `init`, `join`, `start` and
// `config check`. They need the config, store, net and pod layers, which are wired by the
// lead; until then each says plainly that this build does not have it.
import { UserError } from "../pod/user-error.js";
import type { LifecycleHandlers } from "./commands/lifecycle.js";

function notWired(command: string): never {
  throw new UserError(`\`wormhole ${command}\` is not available in this build yet`, "this build only has the admin commands; use a build with the pod daemon wired in");
}

export const lifecycleHandlers: LifecycleHandlers = {
  init: async () => notWired("init"),
  join: async () => notWired("join"),
  start: async () => notWired("start"),
  configCheck: async () => notWired("config check"),
};
