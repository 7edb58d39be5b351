// The CLI as users run it: a real `node dist/src/cli/main.js` child process talking to a
// real AdminServer (with simple routes) on a Unix socket in a temp directory.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { adminSocketPath } from "../../src/cli/admin-client.js";
import type { AdminHandlers, StatusResponse } from "../../src/pod/admin-api.js";
import { adminRoutes } from "../../src/pod/admin-routes.js";
import { AdminServer } from "../../src/pod/admin-server.js";
import { UserError } from "../../src/pod/user-error.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

let home: string; // HOME of the child; the pod lives in its default data dir ~/.wormhole
let dataDir: string;
let server: AdminServer;
const requests: Record<string, unknown> = {};

const STATUS: StatusResponse = {
  cluster: "home",
  health: "degraded",
  reaction: "throttle",
  files: { total: 1234, underReplicated: 12, unavailable: 0 },
  pods: [
    { id: "a1b2c3d4e5f6a7b8c9d0", name: "nas", role: "full", state: "up", usedBytes: 1.5 * 2 ** 30, capacityBytes: 4 * 2 ** 40, self: true },
    { id: "ffee00112233", name: "laptop", role: "client", state: "offline", usedBytes: 512, capacityBytes: 0, lastSeen: "2026-11-20T10:00:00Z" },
  ],
};

function record<R extends keyof AdminHandlers>(route: R, reply: (request: Parameters<AdminHandlers[R]>[0]) => Awaited<ReturnType<AdminHandlers[R]>>): AdminHandlers[R] {
  return (async (request: Parameters<AdminHandlers[R]>[0]) => {
    requests[route] = request;
    return reply(request);
  }) as AdminHandlers[R];
}

const handlers: AdminHandlers = {
  "GET /status": record("GET /status", () => STATUS),
  "GET /pods": record("GET /pods", () => ({ pods: STATUS.pods })),
  "POST /drain": record("POST /drain", ({ pod }) => {
    if (pod === "laptop") throw new UserError("laptop is a client pod: it holds no replicas to drain", "use `wormhole remove laptop` to forget it", 409);
    return { pod: STATUS.pods[0], message: `draining ${pod}: 1234 files to hand over` };
  }),
  "POST /remove": record("POST /remove", ({ pod }) => ({ pod: { ...STATUS.pods[1], state: "left" }, message: `removed ${pod}` })),
  "GET /ls": record("GET /ls", ({ path }) => ({
    path,
    type: "dir",
    entries: [
      { name: "photos", type: "dir", size: 0, mtime: "2026-11-21T09:30:00Z" },
      { name: "notes.txt", type: "file", size: 2048, mtime: "2026-11-21T09:31:00Z", replicas: 2, target: 3, pinned: true, conflict: true },
    ],
  })),
  "POST /rm": record("POST /rm", ({ path }) => ({ path, removed: 3 })),
  "POST /put": record("POST /put", ({ path, localPath }) => ({ path, localPath, files: 2, bytes: 3 * 2 ** 20 })),
  "POST /get": record("POST /get", ({ path, localPath }) => ({ path, localPath, files: 1, bytes: 10 })),
  "GET /conflicts": record("GET /conflicts", () => ({ conflicts: [{ path: "/notes.txt", inode: "i1", kind: "content", policy: "overwrite", versions: 2 }] })),
  "GET /conflicts/show": record("GET /conflicts/show", ({ path }) => ({
    path,
    inode: "i1",
    kind: "content",
    policy: "overwrite",
    versions: [
      { version: "abcdef0123456789", pod: "a1b2c3d4e5f6", podName: "nas", time: "2026-11-21T09:31:00Z", size: 2048, current: true },
      { version: "0011223344556677", pod: "ffee00112233", time: "2026-11-21T09:30:00Z", size: 100, current: false },
    ],
  })),
  "POST /conflicts/resolve": record("POST /conflicts/resolve", ({ path }) => ({ path, kept: [path] })),
  "POST /pin": record("POST /pin", ({ path }) => ({ path, pinned: true })),
  "POST /unpin": record("POST /unpin", ({ path }) => ({ path, pinned: false })),
  "POST /invite": record("POST /invite", () => ({ token: "wh1-token", expiresAt: "2026-11-29T00:00:00Z", joinCommand: "wormhole join wh1-token" })),
  "POST /config/apply": record("POST /config/apply", () => ({ applied: true, changes: ["redundancy: 2 → 3"] })),
  "POST /network": record("POST /network", (r) => ({ online: r.online, connected: 0 })),
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function wormhole(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? "", HOME: home, ...options.env };
    execFile(process.execPath, [MAIN, ...args], { env, cwd: options.cwd ?? home }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

function assertNoStack(run: Run): void {
  assert.doesNotMatch(run.stderr, /\n\s+at /, `stack trace in stderr:\n${run.stderr}`);
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), "wh-cli-"));
  dataDir = join(home, ".wormhole");
  await mkdir(dataDir, { mode: 0o700 });
  server = new AdminServer(adminSocketPath(dataDir), adminRoutes(handlers));
  await server.start();
});

after(async () => {
  await server.close();
  await rm(home, { recursive: true, force: true });
});

test("status --json prints the route's JSON", async () => {
  const run = await wormhole(["status", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), STATUS);
  assert.equal(run.stderr, "");
});

test("status prints health, file counts and an aligned pods table in human units", async () => {
  const run = await wormhole(["status"]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split("\n");
  assert.equal(lines[0], "cluster  home");
  assert.equal(lines[1], "health   degraded (reaction: throttle)");
  assert.equal(lines[2], "files    1234 total, 12 under-replicated, 0 unavailable");
  assert.match(lines[4], /^ID\s+NAME\s+ROLE\s+STATE\s+USED\s+CAPACITY$/);
  assert.match(lines[5], /^a1b2c3d4\s+nas \(this pod\)\s+full\s+up\s+1\.5 GiB\s+4\.0 TiB$/);
  assert.match(lines[6], /^ffee0011\s+laptop\s+client\s+offline\s+512 B\s+-$/);
  const stateColumn = lines[4].indexOf("STATE");
  assert.equal(lines[5].indexOf("up"), stateColumn, "columns are aligned");
  assert.equal(lines[6].indexOf("offline"), stateColumn);
});

test("the data directory: --data (after or before the command), then $WORMHOLE_DATA, then ~/.wormhole", async () => {
  const elsewhere = join(home, "nowhere");
  assert.equal((await wormhole(["status", "--json"])).code, 0, "default ~/.wormhole");
  assert.equal((await wormhole(["status", "--json"], { env: { WORMHOLE_DATA: dataDir, HOME: elsewhere } })).code, 0, "$WORMHOLE_DATA");
  assert.equal((await wormhole(["status", "--data", dataDir], { env: { WORMHOLE_DATA: elsewhere } })).code, 0, "--data beats $WORMHOLE_DATA");
  assert.equal((await wormhole(["--data", dataDir, "pods"], { env: { HOME: elsewhere } })).code, 0, "--data before the command");
  assert.equal((await wormhole(["status", "--data", ".wormhole"], { cwd: home, env: { HOME: elsewhere } })).code, 0, "a relative --data is resolved");
  const missing = await wormhole(["status"], { env: { WORMHOLE_DATA: elsewhere } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`no pod is running for data directory ${elsewhere}`));
});

test("no pod running: exit 1 with what went wrong and how to start one", async () => {
  const empty = join(home, "empty");
  const run = await wormhole(["ls", "/", "--data", empty]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr, `error: no pod is running for data directory ${empty}\n  help: start it with \`wormhole start --data ${empty}\`\n`);
});

test("a UserError from the pod: exit 1, its message and hint, no stack trace", async () => {
  const run = await wormhole(["drain", "laptop"]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, "error: laptop is a client pod: it holds no replicas to drain\n  help: use `wormhole remove laptop` to forget it\n");
  assertNoStack(run);
  const ok = await wormhole(["drain", "nas"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, "draining nas: 1234 files to hand over\n");
  assert.deepEqual(requests["POST /drain"], { pod: "nas" });
  const removed = await wormhole(["remove", "laptop", "--json"]);
  assert.equal(JSON.parse(removed.stdout).pod.state, "left");
});

test("usage errors exit 2 and point at the command's help", async () => {
  for (const args of [["statu"], ["drain"], ["conflicts", "resolve", "/x"], ["invite", "--expires", "soon"], ["ls", "--bogus"], ["status", "extra"], []]) {
    const run = await wormhole(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assertNoStack(run);
  }
  const run = await wormhole(["conflicts", "resolve", "/x"]);
  assert.equal(run.stderr, "error: required option '--keep <which>' not specified\n  help: see `wormhole conflicts resolve --help`\n");
  assert.equal((await wormhole(["--help"])).code, 0);
  assert.equal((await wormhole(["put", "--help"])).code, 0);
});

test("ls: cluster paths are normalised; table and JSON output", async () => {
  const run = await wormhole(["ls", "photos/../docs/"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(requests["GET /ls"], { path: "/docs" });
  const lines = run.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^TYPE\s+SIZE\s+MODIFIED\s+REPLICAS\s+NAME$/);
  assert.match(lines[1], /^dir\s+-\s+2026-11-21 \d\d:30\s+-\s+photos\/$/);
  assert.match(lines[2], /^file\s+2\.0 KiB\s+2026-11-21 \d\d:31\s+2\/3\s+notes\.txt\s+pinned,conflict$/);
  const json = await wormhole(["ls", "--json"]);
  assert.equal(JSON.parse(json.stdout).path, "/", "the default path is the root");
});

test("put and get send absolute local paths; get never overwrites", async () => {
  const work = join(home, "work");
  await mkdir(join(work, "album"), { recursive: true });
  await writeFile(join(work, "album", "a.jpg"), "x");
  const put = await wormhole(["put", "album", "/photos/album"], { cwd: work });
  assert.equal(put.code, 0, put.stderr);
  assert.deepEqual(requests["POST /put"], { localPath: join(work, "album"), path: "/photos/album" });
  assert.equal(put.stdout, `put ${join(work, "album")} → /photos/album: 2 files, 3.0 MiB\n`);

  const missing = await wormhole(["put", "nope", "/x"], { cwd: work });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: no such local file or directory: .*nope\n {2}help: /);

  const get = await wormhole(["get", "/photos/album", "copy", "--json"], { cwd: work });
  assert.equal(get.code, 0, get.stderr);
  assert.deepEqual(requests["POST /get"], { path: "/photos/album", localPath: join(work, "copy") });
  assert.deepEqual(JSON.parse(get.stdout), { path: "/photos/album", localPath: join(work, "copy"), files: 1, bytes: 10 });

  const exists = await wormhole(["get", "/photos/album", "album"], { cwd: work });
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /already exists\n {2}help: get never overwrites/);
  const noParent = await wormhole(["get", "/a", "no/such/dir/file"], { cwd: work });
  assert.equal(noParent.code, 1);
  assert.match(noParent.stderr, /does not exist\n {2}help: create it first/);
});

test("rm, pin, unpin", async () => {
  const run = await wormhole(["rm", "-r", "/old"]);
  assert.equal(run.stdout, "removed /old (3 entries)\n");
  assert.deepEqual(requests["POST /rm"], { path: "/old", recursive: true });
  await wormhole(["rm", "/file"]);
  assert.deepEqual(requests["POST /rm"], { path: "/file", recursive: false });
  assert.equal((await wormhole(["pin", "/docs"])).stdout, "pinned /docs\n");
  assert.equal((await wormhole(["unpin", "/docs"])).stdout, "unpinned /docs\n");
  assert.deepEqual(requests["POST /unpin"], { path: "/docs" });
});

test("conflicts: list, show, resolve with --keep newest | both | <pod>", async () => {
  const list = await wormhole(["conflicts"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^PATH\s+KIND\s+POLICY\s+VERSIONS\n\/notes\.txt\s+content\s+overwrite\s+2\n$/);
  assert.equal(JSON.parse((await wormhole(["conflicts", "--json"])).stdout).conflicts.length, 1);

  const show = await wormhole(["conflicts", "show", "/notes.txt"]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^\/notes\.txt: content conflict, policy overwrite\n/);
  assert.match(show.stdout, /\n\*\s+abcdef012345\s+nas\s+2026-11-21 \d\d:31\s+2\.0 KiB\n/);
  assert.match(show.stdout, /\n\s+001122334455\s+ffee0011\s+/);
  assert.equal(JSON.parse((await wormhole(["conflicts", "show", "/notes.txt", "--json"])).stdout).versions.length, 2);

  for (const [keep, expected] of [
    ["newest", { path: "/notes.txt", keep: "newest" }],
    ["both", { path: "/notes.txt", keep: "both" }],
    ["laptop", { path: "/notes.txt", keep: "pod", pod: "laptop" }],
  ] as const) {
    const run = await wormhole(["conflicts", "resolve", "notes.txt", "--keep", keep]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(requests["POST /conflicts/resolve"], expected);
  }
  assert.equal((await wormhole(["conflicts", "bogus"])).code, 2);
});

test("invite --expires and config apply", async () => {
  const invite = await wormhole(["invite", "--expires", "7d"]);
  assert.equal(invite.code, 0, invite.stderr);
  assert.deepEqual(requests["POST /invite"], { expiresInSeconds: 7 * 86400 });
  assert.equal(invite.stdout, "wh1-token\n", "one line on stdout: the invite itself");
  assert.match(invite.stderr, / {2}wormhole join wh1-token\n$/);
  await wormhole(["invite"]);
  assert.deepEqual(requests["POST /invite"], { expiresInSeconds: 86400 }, "default: 24 hours");

  await writeFile(join(home, "wormhole.toml"), "redundancy = 3\n");
  const apply = await wormhole(["config", "apply", "wormhole.toml"]);
  assert.equal(apply.code, 0, apply.stderr);
  assert.deepEqual(requests["POST /config/apply"], { file: join(home, "wormhole.toml") });
  assert.equal(apply.stdout, "applied:\n  redundancy: 2 → 3\n");
});

test("init, join, start and config check: what they create and how they fail", async () => {
  const data = join(home, "pod-a");
  const init = await wormhole(["init", "--cluster", "home", "--data", data, "--listen", "127.0.0.1:0", "--redundancy", "3"]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /created cluster "home" with pod [0-9a-f]{32}/);
  assert.match(await readFile(join(data, "wormhole.toml"), "utf8"), /^redundancy = 3/m);
  assert.equal((await stat(join(data, "identity.key"))).mode & 0o777, 0o600, "the private key is readable by its owner only");

  const again = await wormhole(["init", "--cluster", "home", "--data", data]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: .* already holds a pod\n {2}help: /);
  assert.equal((await wormhole(["init", "--cluster", "home", "--data", join(home, "x"), "--redundancy", "0"])).code, 2, "--redundancy is checked");

  const badInvite = await wormhole(["join", "not-an-invite", "--data", join(home, "pod-b")]);
  assert.equal(badInvite.code, 1);
  assert.match(badInvite.stderr, /^error: invite is malformed: .*\n {2}help: copy the whole line printed by `wormhole invite`/);

  const noPod = await wormhole(["start", "--data", join(home, "empty")]);
  assert.equal(noPod.code, 1);
  assert.match(noPod.stderr, /holds no pod\n {2}help: create one with `wormhole init`/);

  const valid = await wormhole(["config", "check", join(data, "wormhole.toml")]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(valid.stdout, /valid cluster configuration/);
  await writeFile(join(home, "bad.toml"), '[cluster]\nname = "home"\nredundancy2 = 3\n');
  const invalid = await wormhole(["config", "check", "bad.toml"]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /unknown key `redundancy2`[\s\S]*--> .*bad\.toml:3:1[\s\S]*did you mean `redundancy`/);
});
