// The admin API's transport: HTTP/1.1 with JSON bodies on a Unix socket in the data
// directory. A Unix socket (not TCP) because only local users who can open the data
// directory should administer a pod: the socket is mode 0600, no port is exposed, and the
// CLI finds its pod from `--data` alone.
//
// Handlers throw UserError for anything the user can fix: it becomes `{ error, hint }`
// with its 4xx status. Any other exception is a bug: it becomes a 500 and one log line,
// and the pod keeps serving.
import { lstat, unlink, chmod } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { UserError } from "./user-error.js";

export type RouteHandler = (body: unknown, query: URLSearchParams) => Promise<unknown>;
/** Keys are "METHOD /path", e.g. "GET /status", "POST /put". */
export type RouteTable = Record<string, RouteHandler>;

export interface AdminServerOptions {
  /** Largest accepted request body; bigger ones get 413. */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported (one line each). */
  log?: (line: string) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const PROBE_TIMEOUT_MS = 2000;

/** The client hung up while sending its request: nothing to answer, nothing to log. */
class ClientHungUp extends Error {}

type SocketProbe = "absent" | "stale" | "live";

/** Is a server answering on this socket path? */
export async function probeSocket(socketPath: string): Promise<SocketProbe> {
  try {
    const stat = await lstat(socketPath);
    if (!stat.isSocket()) {
      throw new UserError(`${socketPath} exists and is not a socket`, "move that file out of the data directory, then start the pod again");
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw err;
  }
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    // A server too busy to accept within the timeout is still alive: never delete its socket.
    socket.setTimeout(PROBE_TIMEOUT_MS, () => {
      socket.destroy();
      resolve("live");
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve("live");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") resolve("stale");
      else if (err.code === "ENOENT") resolve("absent");
      else reject(err);
    });
  });
}

function alreadyRunning(socketPath: string): UserError {
  return new UserError(
    `another pod is already running on this data directory (it answers on ${socketPath})`,
    "stop that pod first, or give this one its own data directory with --data",
    409,
  );
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value ?? {});
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export class AdminServer {
  private readonly routes = new Map<string, Map<string, RouteHandler>>();
  private readonly maxBodyBytes: number;
  private readonly log: (line: string) => void;
  private server: http.Server | undefined;
  /** Inode of the socket file we created, so close() never deletes a successor's socket. */
  private socketIno: number | undefined;

  constructor(
    readonly socketPath: string,
    routes: RouteTable,
    options: AdminServerOptions = {},
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.log = options.log ?? ((line) => console.error(line));
    for (const [key, handler] of Object.entries(routes)) {
      const match = /^(GET|POST) (\/[\w/-]*)$/.exec(key);
      if (!match) throw new TypeError(`admin route "${key}" must look like "GET /status" or "POST /put"`);
      const [, method, path] = match;
      const byMethod = this.routes.get(path) ?? new Map<string, RouteHandler>();
      byMethod.set(method, handler);
      this.routes.set(path, byMethod);
    }
  }

  /** Listens on the socket; removes a stale socket file, refuses if a pod is live on it. */
  async start(): Promise<void> {
    if (this.server) throw new Error("admin server already started");
    if (Buffer.byteLength(this.socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new UserError(
        `the admin socket path ${this.socketPath} is ${Buffer.byteLength(this.socketPath)} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix sockets`,
        "use a data directory with a shorter path (--data)",
      );
    }
    const probe = await probeSocket(this.socketPath);
    if (probe === "live") throw alreadyRunning(this.socketPath);
    if (probe === "stale") await unlink(this.socketPath).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? undefined : Promise.reject(err)));

    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        // Two pods starting at once can both find the socket stale; the loser lands here.
        reject(err.code === "EADDRINUSE" ? alreadyRunning(this.socketPath) : err);
      });
      server.listen(this.socketPath, () => resolve());
    });
    // The data directory is 0700 as well; this also guards a socket in a shared directory.
    await chmod(this.socketPath, 0o600);
    this.socketIno = (await lstat(this.socketPath)).ino;
    server.on("error", (err) => this.log(`admin: server error: ${err.message}`));
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    try {
      if ((await lstat(this.socketPath)).ino === this.socketIno) await unlink(this.socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://admin.sock");
    const route = `${method} ${url.pathname}`;
    try {
      const byMethod = this.routes.get(url.pathname);
      if (!byMethod) {
        throw new UserError(`the pod has no admin route ${url.pathname}`, "the CLI and the pod may be different versions of wormhole: upgrade and restart the pod", 404);
      }
      const handler = byMethod.get(method);
      if (!handler) {
        res.setHeader("allow", [...byMethod.keys()].join(", "));
        throw new UserError(`${url.pathname} does not accept ${method}`, `use ${[...byMethod.keys()].join(" or ")}`, 405);
      }
      const body = await this.readJsonBody(req);
      sendJson(res, 200, await handler(body, url.searchParams));
    } catch (err) {
      if (err instanceof ClientHungUp) return;
      if (err instanceof UserError) {
        sendJson(res, err.status, { error: err.message, hint: err.hint });
        return;
      }
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.log(`admin: ${route} failed: ${detail.replace(/\n\s*/g, " | ")}`);
      if (!res.headersSent) {
        sendJson(res, 500, {
          error: `the pod failed to handle ${route}: ${err instanceof Error ? err.message : String(err)}`,
          hint: "this is a bug in wormhole; the pod's log has the details",
        });
      } else {
        res.destroy();
      }
    }
  }

  /** The parsed JSON body, `{}` when there is none. */
  private async readJsonBody(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers["content-length"] ?? 0) > this.maxBodyBytes;
    // An oversized body is read to its end and dropped rather than cut off, so the client
    // gets the 413 instead of a reset connection while it is still writing.
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.maxBodyBytes) tooLarge = true;
        if (!tooLarge) chunks.push(chunk);
      }
    } catch {
      throw new ClientHungUp();
    }
    if (tooLarge) {
      throw new UserError(
        `request body is over the ${this.maxBodyBytes}-byte limit`,
        "file content is never sent through the admin API: pass local file paths (put/get) instead",
        413,
      );
    }
    if (size === 0) return {};
    const text = Buffer.concat(chunks).toString("utf8");
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new UserError(`malformed JSON in the request body: ${(err as Error).message}`, "send a JSON object (Content-Type: application/json)", 400);
    }
  }
}
