// How a client pod reads content it does not have. A laptop that lost its network usually
// gets no close from the other side: the socket looks open until the keepalive gives up,
// and a plain chunk request would wait its full 30 s timeout. A user opening a file must
// not hang that long, so a client's read is bounded by `offline_read_timeout`:
// - working offline on purpose (`wormhole offline`): fail at once, nobody will answer;
// - no pod connected: wait for one until the timeout has passed since the last contact
//   (a reconnect in progress, or a pod just started); offline for longer: fail at once, so
//   a laptop away for hours does not make every open of a remote file take the timeout;
// - a request in flight: fail once every pod asked has sent nothing at all (not a byte,
//   not a keepalive answer) for the timeout. A slow but live link keeps delivering bytes of
//   the chunk, so it is not cut off; a dead one delivers none.
import type { PeerConnection } from "../net/index.js";

export interface BoundedReadPorts {
  timeoutMs: number;
  /** Working offline on purpose. */
  offline(): boolean;
  /** When a pod was last connected (now, if one is). */
  lastContactMs(): number;
  /** Pods the chunk may be asked of right now. */
  connectedPeers(): PeerConnection[];
  /** Asks `peers` for the chunk (verified by the net layer). */
  pull(peers: string[]): Promise<Buffer>;
}

/** Between checks for a connection or for silence; small against the default 2 s. */
const CHECK_INTERVAL_MS = 50;

export class OfflineReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OfflineReadError";
  }
}

/** Pulls chunk `id` for a reader, failing within about `timeoutMs` when no pod can answer. */
export async function pullBounded(id: string, ports: BoundedReadPorts): Promise<Buffer> {
  const seconds = `${ports.timeoutMs / 1000} s`;
  if (ports.offline()) throw new OfflineReadError(`chunk ${id.slice(0, 12)} is not on this pod and the pod is working offline (\`wormhole online\` reconnects it)`);
  const peers = await connectedWithin(ports);
  if (peers.length === 0) throw new OfflineReadError(`chunk ${id.slice(0, 12)} is not on this pod and no pod has been reachable since ${new Date(ports.lastContactMs()).toISOString()} (offline_read_timeout ${seconds})`);
  return new Promise<Buffer>((resolve, reject) => {
    let lastBytes = received(peers);
    let lastProgress = Date.now();
    const watch = setInterval(() => {
      const bytes = received(peers);
      if (bytes !== lastBytes) {
        lastBytes = bytes;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress >= ports.timeoutMs) {
        clearInterval(watch);
        reject(new OfflineReadError(`chunk ${id.slice(0, 12)} is not on this pod and ${peers.map((p) => p.podId.slice(0, 8)).join(", ")} sent nothing for ${seconds} (the link is probably down; offline_read_timeout)`));
      }
    }, CHECK_INTERVAL_MS);
    ports.pull(peers.map((p) => p.podId)).then(
      (data) => {
        clearInterval(watch);
        resolve(data);
      },
      (error: unknown) => {
        clearInterval(watch);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

async function connectedWithin(ports: BoundedReadPorts): Promise<PeerConnection[]> {
  const deadline = ports.lastContactMs() + ports.timeoutMs;
  for (;;) {
    const peers = ports.connectedPeers();
    if (peers.length > 0 || Date.now() >= deadline || ports.offline()) return peers;
    await new Promise((resolve) => setTimeout(resolve, Math.min(CHECK_INTERVAL_MS, deadline - Date.now())));
  }
}

function received(peers: readonly PeerConnection[]): number {
  let total = 0;
  for (const peer of peers) total += peer.receivedBytes;
  return total;
}
