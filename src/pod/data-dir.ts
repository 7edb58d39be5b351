// The layout of one pod's data directory. Every file a pod keeps is named here, so the
// rest of the daemon never builds a path by hand.
import { join } from "node:path";

export interface DataDirLayout {
  root: string;
  podConfig: string;
  clusterConfig: string;
  identity: string;
  pendingInvite: string;
  meta: string;
  chunks: string;
  staging: string;
  adminSocket: string;
  log: string;
}

export function dataDirLayout(root: string): DataDirLayout {
  return {
    root,
    podConfig: join(root, "pod.toml"),
    clusterConfig: join(root, "wormhole.toml"),
    identity: join(root, "identity.key"),
    pendingInvite: join(root, "invite.token"),
    meta: join(root, "meta"),
    chunks: join(root, "store"),
    staging: join(root, "staging"),
    adminSocket: join(root, "admin.sock"),
    log: join(root, "pod.log"),
  };
}
