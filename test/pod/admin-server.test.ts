import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { adminRequest, adminSocketPath, callAdmin } from "../../src/cli/admin-client.js";
import { adminRoutes } from "../../src/pod/admin-routes.js";
import { AdminServer } from "../../src/pod/admin-server.js";
import { MetricsServer, formatMetrics, parseHostPort } from "../../src/pod/metrics-server.js";
import { UserError } from "../../src/pod/user-error.js";

let dir: string;
let server: AdminServer;
const logged: string[] = [];

/** Raw request on the socket, to send what the CLI never would. */
function raw(socketPath: string, method: string, path: string, body?: Buffer | string, headers: Record<string, string | number> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wh-admin-"));
  server = new AdminServer(
    adminSocketPath(dir),
    {
      "GET /echo": async (_body, query) => ({ query: Object.fromEntries(query) }),
      "POST /echo": async (body) => ({ body }),
      "POST /refuse": async () => {
        throw new UserError("pod nas is already draining", "wait for it to finish (wormhole pods)", 409);
      },
      "GET /crash": async () => {
        throw new Error("boom");
      },
      ...adminRoutes({
        "POST /pin": async ({ path }) => ({ path, pinned: true }),
        "GET /ls": async ({ path }) => ({ path, type: "dir", entries: [] }),
      }),
    },
    { log: (line) => logged.push(line) },
  );
  await server.start();
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test("routes answer with JSON; GET gets the query, POST the body", async () => {
  assert.deepEqual(await adminRequest(dir, "GET", "/echo?a=1&b=x%20y"), { query: { a: "1", b: "x y" } });
  assert.deepEqual(await adminRequest(dir, "POST", "/echo", { n: [1, 2], s: "é" }), { body: { n: [1, 2], s: "é" } });
  assert.deepEqual(await adminRequest(dir, "POST", "/echo"), { body: {} }, "an empty body is an empty object");
});

test("the socket is mode 0600", async () => {
  assert.equal((await stat(adminSocketPath(dir))).mode & 0o777, 0o600);
});

test("a UserError reaches the client as the same message, hint and status", async () => {
  const reply = await raw(adminSocketPath(dir), "POST", "/refuse");
  assert.deepEqual(reply, { status: 409, json: { error: "pod nas is already draining", hint: "wait for it to finish (wormhole pods)" } });
  await assert.rejects(adminRequest(dir, "POST", "/refuse"), (err: unknown) => err instanceof UserError && err.message === "pod nas is already draining" && err.hint === "wait for it to finish (wormhole pods)");
});

test("an unexpected error is a 500 and a log line, and the server keeps serving", async () => {
  const reply = await raw(adminSocketPath(dir), "GET", "/crash");
  assert.equal(reply.status, 500);
  assert.match(String(reply.json.error), /the pod failed to handle GET \/crash: boom/);
  assert.ok(logged.some((l) => l.includes("GET /crash failed") && l.includes("boom")), logged.join("\n"));
  assert.deepEqual(await adminRequest(dir, "GET", "/echo"), { query: {} });
});

test("malformed JSON is a 400 naming the problem", async () => {
  const reply = await raw(adminSocketPath(dir), "POST", "/echo", "{not json", { "content-type": "application/json" });
  assert.equal(reply.status, 400);
  assert.match(String(reply.json.error), /malformed JSON/);
  assert.equal(typeof reply.json.hint, "string");
});

test("a body over 1 MiB is a 413, declared or chunked", async () => {
  const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
  const declared = await raw(adminSocketPath(dir), "POST", "/echo", big, { "content-length": big.length });
  assert.equal(declared.status, 413);
  assert.match(String(declared.json.error), /over the 1048576-byte limit/);
  const chunked = await raw(adminSocketPath(dir), "POST", "/echo", big, { "transfer-encoding": "chunked" });
  assert.equal(chunked.status, 413);
  assert.deepEqual(await adminRequest(dir, "POST", "/echo", { ok: 1 }), { body: { ok: 1 } }, "still serving");
});

test("a client hanging up mid-request is not logged as a pod failure", async () => {
  const loggedBefore = logged.length;
  await new Promise<void>((resolve) => {
    const req = http.request({ socketPath: adminSocketPath(dir), method: "POST", path: "/echo", headers: { "content-length": 1000 } });
    req.on("error", () => undefined);
    req.on("close", () => resolve());
    req.write('{"a":');
    setTimeout(() => req.destroy(), 50);
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(logged.slice(loggedBefore), []);
  assert.deepEqual(await adminRequest(dir, "GET", "/echo"), { query: {} });
});

test("unknown route is 404, wrong method is 405", async () => {
  const missing = await raw(adminSocketPath(dir), "GET", "/nope");
  assert.equal(missing.status, 404);
  assert.match(String(missing.json.error), /no admin route \/nope/);
  const wrong = await raw(adminSocketPath(dir), "GET", "/refuse");
  assert.equal(wrong.status, 405);
});

test("typed routes validate requests before the handler runs", async () => {
  assert.deepEqual(await callAdmin(dir, "POST /pin", { path: "/a b" }), { path: "/a b", pinned: true });
  assert.deepEqual(await callAdmin(dir, "GET /ls", { path: "/photos" }), { path: "/photos", type: "dir", entries: [] });
  for (const [body, pattern] of [
    [{}, /missing field "path"/],
    [{ path: 3 }, /field "path" must be a string/],
    [{ path: "relative" }, /must be an absolute path/],
    [{ path: "/x", extra: true }, /unknown field "extra"/],
    [[1], /must be a JSON object/],
  ] as const) {
    const reply = await raw(adminSocketPath(dir), "POST", "/pin", JSON.stringify(body));
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.match(String(reply.json.error), pattern);
  }
  assert.equal((await raw(adminSocketPath(dir), "GET", "/ls")).status, 400, "GET without its query field");
  assert.throws(() => adminRoutes({ "GET /bogus": async () => ({}) } as never), /not an admin route/);
});

test("no pod running: the client says so and how to start one", async () => {
  const empty = await mkdtemp(join(tmpdir(), "wh-nopod-"));
  try {
    await assert.rejects(adminRequest(empty, "GET", "/status"), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.equal(err.message, `no pod is running for data directory ${empty}`);
      assert.equal(err.hint, `start it with \`wormhole start --data ${empty}\``);
      return true;
    });
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test("a stale socket file is replaced; a live one is refused; a regular file is left alone", async () => {
  const other = await mkdtemp(join(tmpdir(), "wh-stale-"));
  const socketPath = adminSocketPath(other);
  try {
    // A stale socket: left behind by a process killed while listening.
    const crashed = spawn(process.execPath, ["-e", "require('net').createServer().listen(process.argv[1], () => console.log('ready'))", socketPath]);
    await new Promise((resolve) => crashed.stdout.once("data", resolve));
    crashed.kill("SIGKILL");
    await new Promise((resolve) => crashed.once("exit", resolve));
    assert.ok((await stat(socketPath)).isSocket(), "the stale socket file is still there");
    await assert.rejects(adminRequest(other, "GET", "/echo"), /no pod is running/, "a stale socket counts as no pod");

    const first = new AdminServer(socketPath, { "GET /echo": async () => ({ who: "first" }) });
    await first.start();
    assert.deepEqual(await adminRequest(other, "GET", "/echo"), { who: "first" });

    const second = new AdminServer(socketPath, { "GET /echo": async () => ({ who: "second" }) });
    await assert.rejects(second.start(), (err: unknown) => err instanceof UserError && /another pod is already running on this data directory/.test(err.message) && /--data/.test(err.hint));
    assert.deepEqual(await adminRequest(other, "GET", "/echo"), { who: "first" }, "the live pod is untouched");
    await first.close();
    await assert.rejects(stat(socketPath), /ENOENT/, "close removes its socket");

    await writeFile(socketPath, "not a socket");
    await assert.rejects(new AdminServer(socketPath, {}).start(), /exists and is not a socket/);
    assert.equal((await stat(socketPath)).size, 12, "the regular file was not deleted");
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});

test("a socket path over the Unix limit is refused with advice", async () => {
  await assert.rejects(new AdminServer(join(dir, "x".repeat(120), "admin.sock"), {}).start(), (err: unknown) => err instanceof UserError && /shorter path/.test(err.hint));
});

test("metrics: Prometheus text on TCP, 404 elsewhere, bad address explained", async () => {
  let calls = 0;
  const metrics = await MetricsServer.start("127.0.0.1:0", () => {
    calls++;
    return formatMetrics([
      { name: "wormhole_files_total", help: "Files in the namespace", type: "gauge", value: 42 },
      { name: "wormhole_pod_used_bytes", help: "Bytes used", type: "gauge", value: 7, labels: { pod: 'a"b' } },
      { name: "wormhole_pod_used_bytes", help: "Bytes used", type: "gauge", value: 9, labels: { pod: "c" } },
    ]);
  });
  try {
    const base = `http://127.0.0.1:${metrics.address.port}`;
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain; version=0.0.4/);
    assert.equal(
      await res.text(),
      '# HELP wormhole_files_total Files in the namespace\n# TYPE wormhole_files_total gauge\nwormhole_files_total 42\n# HELP wormhole_pod_used_bytes Bytes used\n# TYPE wormhole_pod_used_bytes gauge\nwormhole_pod_used_bytes{pod="a\\"b"} 7\nwormhole_pod_used_bytes{pod="c"} 9\n',
    );
    assert.equal((await fetch(`${base}/other`)).status, 404);
    assert.equal(calls, 1);
  } finally {
    await metrics.close();
  }
  assert.deepEqual(parseHostPort("[::1]:9464"), { host: "::1", port: 9464 });
  assert.deepEqual(parseHostPort(":9464"), { host: "0.0.0.0", port: 9464 });
  assert.throws(() => parseHostPort("localhost"), /is not host:port/);
  assert.throws(() => parseHostPort("h:70000"), /is not host:port/);
});
