// `wormhole status` lines of a client pod: network, queue and cache, in words a user reads.
import assert from "node:assert/strict";
import { test } from "node:test";
import { clientLines } from "../../src/cli/commands/cluster.js";
import type { ClientStatus } from "../../src/pod/admin-api.js";

const base: ClientStatus = {
  state: "online",
  workingOffline: false,
  reachable: [{ id: "a".repeat(32), name: "nas" }, { id: "b".repeat(32), name: "pi" }],
  queued: { changes: 0, uploads: 0, bytes: 0 },
  cache: { usedBytes: 3 * 1024 ** 3, maxBytes: 10 * 1024 ** 3, storedBytes: 5 * 1024 ** 3 },
};

test("online: the full pods reached, an empty queue, cache against its limit", () => {
  assert.deepEqual(clientLines(base), [
    "network  online via nas, pi",
    "queued   0 change(s), 0 file version(s) to upload (0 B)",
    "cache    3.0 GiB of 10 GiB (5.0 GiB stored in all)",
  ]);
});

test("offline: why (link gone or working offline) and what waits for upload", () => {
  const away = { ...base, state: "offline" as const, reachable: [], queued: { changes: 1204, uploads: 611, bytes: 212 * 1024 ** 2 } };
  const [network, queued] = clientLines(away);
  assert.equal(network, "network  offline (no full pod reachable; retrying)");
  assert.equal(queued, "queued   1204 change(s), 611 file version(s) to upload (212 MiB)");
  assert.match(clientLines({ ...away, workingOffline: true })[0]!, /working offline: `wormhole online` reconnects/);
});
