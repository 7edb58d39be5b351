// Typed admin routes: checks each request against its shape in admin-api.ts before the
// pod's handler sees it, so handlers work with typed values and a malformed request gets a
// 400 naming the field, not a TypeError deep in the pod.
import type { AdminHandlers, AdminRoute } from "./admin-api.js";
import type { RouteTable } from "./admin-server.js";
import { UserError } from "./user-error.js";

interface FieldSpec {
  type: "string" | "boolean" | "number";
  optional?: boolean;
  /** Strings only: must be an absolute path (cluster or local). */
  absolute?: boolean;
  /** Strings only: allowed values. */
  oneOf?: readonly string[];
}

const clusterPath: FieldSpec = { type: "string", absolute: true };
const podRef: FieldSpec = { type: "string" };

/** Every route's request fields; GET requests arrive as query strings (strings only). */
export const REQUEST_FIELDS: { readonly [R in AdminRoute]: Readonly<Record<string, FieldSpec>> } = {
  "GET /status": {},
  "GET /pods": {},
  "POST /drain": { pod: podRef },
  "POST /remove": { pod: podRef },
  "GET /ls": { path: clusterPath },
  "POST /rm": { path: clusterPath, recursive: { type: "boolean", optional: true } },
  "POST /put": { localPath: { type: "string", absolute: true }, path: clusterPath },
  "POST /get": { path: clusterPath, localPath: { type: "string", absolute: true } },
  "GET /conflicts": {},
  "GET /conflicts/show": { path: clusterPath },
  "POST /conflicts/resolve": { path: clusterPath, keep: { type: "string", oneOf: ["newest", "both", "pod"] }, pod: { type: "string", optional: true } },
  "POST /network": { online: { type: "boolean" } },
  "POST /pin": { path: clusterPath },
  "POST /unpin": { path: clusterPath },
  "POST /invite": { expiresInSeconds: { type: "number" } },
  "POST /config/apply": { file: { type: "string", absolute: true } },
};

function badRequest(route: string, what: string): UserError {
  return new UserError(`bad ${route} request: ${what}`, "the CLI and the pod may be different versions of wormhole: upgrade both and restart the pod");
}

function checkField(route: string, name: string, spec: FieldSpec, value: unknown): void {
  if (value === undefined) {
    if (!spec.optional) throw badRequest(route, `missing field "${name}"`);
    return;
  }
  if (typeof value !== spec.type || (spec.type === "number" && !Number.isFinite(value))) {
    throw badRequest(route, `field "${name}" must be a ${spec.type}, got ${JSON.stringify(value)}`);
  }
  if (typeof value !== "string") return;
  if (value === "" || value.includes("\0")) throw badRequest(route, `field "${name}" must be a non-empty string without NUL`);
  if (spec.absolute && !value.startsWith("/")) throw badRequest(route, `field "${name}" must be an absolute path, got ${JSON.stringify(value)}`);
  if (spec.oneOf && !spec.oneOf.includes(value)) throw badRequest(route, `field "${name}" must be one of ${spec.oneOf.join(", ")}, got ${JSON.stringify(value)}`);
}

/** The request object for `route`, from its JSON body (POST) or query string (GET). */
export function parseRequest(route: AdminRoute, body: unknown, query: URLSearchParams): Record<string, unknown> {
  const fields = REQUEST_FIELDS[route];
  let request: Record<string, unknown>;
  if (route.startsWith("GET ")) {
    request = Object.fromEntries(query);
  } else {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest(route, "the body must be a JSON object");
    request = body as Record<string, unknown>;
  }
  for (const name of Object.keys(request)) {
    if (!(name in fields)) throw badRequest(route, `unknown field "${name}"`);
  }
  for (const [name, spec] of Object.entries(fields)) checkField(route, name, spec, request[name]);
  return request;
}

/** Wraps the pod's typed handlers into an AdminServer route table. */
export function adminRoutes(handlers: Partial<AdminHandlers>): RouteTable {
  const table: RouteTable = {};
  for (const [route, handler] of Object.entries(handlers) as [AdminRoute, (request: unknown) => Promise<unknown>][]) {
    if (!(route in REQUEST_FIELDS)) throw new TypeError(`"${route}" is not an admin route (see admin-api.ts)`);
    table[route] = (body, query) => handler(parseRequest(route, body, query));
  }
  return table;
}
