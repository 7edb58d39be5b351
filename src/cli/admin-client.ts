// The CLI's side of the admin API: one HTTP request over the pod's Unix socket.
import http from "node:http";
import { join } from "node:path";
import { ADMIN_SOCKET_NAME, type AdminRequest, type AdminResponse, type AdminRoute } from "../pod/admin-api.js";
import { UserError } from "../pod/user-error.js";
import { shellQuote } from "./format.js";

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, ADMIN_SOCKET_NAME);
}

function unreachable(dataDir: string, err: NodeJS.ErrnoException): UserError {
  const socket = adminSocketPath(dataDir);
  switch (err.code) {
    case "ENOENT":
    case "ECONNREFUSED":
      return new UserError(`no pod is running for data directory ${dataDir}`, `start it with \`wormhole start --data ${shellQuote(dataDir)}\``);
    case "EACCES":
    case "EPERM":
      return new UserError(`permission denied on the pod's admin socket ${socket}`, "run wormhole as the user that runs the pod");
    default:
      return new UserError(`cannot reach the pod at ${socket}: ${err.message}`, "check that the pod is running (wormhole start) and that --data points at its data directory");
  }
}

/**
 * Sends one request to the pod of `dataDir` and returns its JSON reply.
 * `path` may carry a query string. Every failure is a UserError: the pod's own
 * `{ error, hint }`, or why the pod could not be reached.
 */
export function adminRequest(dataDir: string, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: adminSocketPath(dataDir),
        // A fresh connection per request. Node 20's default agent keeps sockets alive, and a
        // request written just as the pod closes an idle one fails with EPIPE/ECONNRESET
        // (seen in a benchmark driving thousands of requests); on a Unix socket a connect
        // costs a fraction of a millisecond.
        agent: false,
        method,
        path,
        headers: payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (err) => reject(unreachable(dataDir, err)));
        res.on("end", () => {
          let reply: unknown;
          try {
            reply = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            reject(new UserError(`the pod sent an unreadable reply to ${method} ${path} (HTTP ${res.statusCode})`, "the CLI and the pod may be different versions of wormhole: upgrade both and restart the pod"));
            return;
          }
          const status = res.statusCode ?? 500;
          if (status < 400) {
            resolve(reply);
            return;
          }
          const { error, hint } = (reply ?? {}) as { error?: unknown; hint?: unknown };
          reject(
            new UserError(
              typeof error === "string" ? error : `the pod answered HTTP ${status} to ${method} ${path}`,
              typeof hint === "string" ? hint : "see the pod's log",
              status < 500 ? status : 400,
            ),
          );
        });
      },
    );
    req.on("error", (err) => reject(unreachable(dataDir, err)));
    req.end(payload);
  });
}

/** Typed call of one admin route: GET requests go as a query string, POST as a JSON body. */
export async function callAdmin<R extends AdminRoute>(dataDir: string, route: R, request: AdminRequest<R>): Promise<AdminResponse<R>> {
  const [method, path] = route.split(" ") as ["GET" | "POST", string];
  if (method === "GET") {
    const query = new URLSearchParams(request as Record<string, string>).toString();
    return (await adminRequest(dataDir, method, query ? `${path}?${query}` : path)) as AdminResponse<R>;
  }
  return (await adminRequest(dataDir, method, path, request)) as AdminResponse<R>;
}
