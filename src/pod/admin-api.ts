// The admin API between `wormhole` (the CLI) and a running pod: route names, request and
// response shapes. Types only; imported by both sides so they cannot drift apart.
//
// Transport (see admin-server.ts): HTTP/1.1 + JSON on the Unix socket `<data>/admin.sock`.
// GET routes take their request as query parameters (all strings), POST routes as a JSON
// body (at most 1 MiB). A failure is a 4xx/5xx status with an `ErrorResponse` body.
// File content never travels through JSON: `put`/`get` send absolute local paths and the
// pod reads or writes them itself (the CLI and the pod run on the same machine, as the
// same user: the socket is mode 0600).

import type { HealthState } from "./health.js";

export type { HealthState };
export type PodRole = "full" | "client";
/** up: connected; down: unreachable, within the grace period; draining: leaving placement,
 * handing its files over; offline: a client pod away (normal); left: removed for good. */
export type PodState = "up" | "down" | "draining" | "offline" | "left";

export interface ErrorResponse {
  error: string;
  hint: string;
}

export interface PodInfo {
  /** Full pod id (derived from its public key). The CLI shows the first 8 characters. */
  id: string;
  name: string;
  role: PodRole;
  state: PodState;
  usedBytes: number;
  capacityBytes: number;
  /** Optional extras the pod may add. */
  address?: string;
  /** Last time this pod was heard from (ISO 8601), for down/offline pods. */
  lastSeen?: string;
  /** True for the pod answering this request. */
  self?: boolean;
}

export interface FileCounts {
  total: number;
  underReplicated: number;
  unavailable: number;
  /** Files written on a client pod that no full pod holds yet (queued there; not counted as unhealthy). */
  awaitingUpload?: number;
}

export interface StatusResponse {
  cluster: string;
  health: HealthState;
  files: FileCounts;
  pods: PodInfo[];
  /** The reaction in force for the current health (continue, throttle, read-only, ...). */
  reaction?: string;
  /** Versions this pod is a target for and has not fetched yet (0 once caught up). */
  pendingFetches?: number;
  /** Only on a client pod: its connection, its queue and its cache. */
  client?: ClientStatus;
}

/** A client pod's side of `wormhole status` (see docs/clients.md). */
export interface ClientStatus {
  /** online: at least one full pod connected; offline: none (link down, or working offline). */
  state: "online" | "offline";
  /** True after `wormhole offline`, until `wormhole online`. */
  workingOffline: boolean;
  /** Full pods connected now. */
  reachable: Array<{ id: string; name: string; address?: string }>;
  queued: {
    /** Namespace changes (creates, edits, renames, deletes) made since a full pod was last reached. */
    changes: number;
    /** File versions written here that do not have their full redundancy on full pods yet. */
    uploads: number;
    /** Their total size in bytes: what still has to be uploaded before they may be evicted. */
    bytes: number;
  };
  cache: {
    /** Bytes of evictable cached content. */
    usedBytes: number;
    /** cache.max_size. */
    maxBytes: number;
    /** Everything this pod stores: cache, pinned and kept content, queued uploads. */
    storedBytes: number;
  };
}

export interface PodsResponse {
  pods: PodInfo[];
}

export interface PodRequest {
  /** Pod id, unique id prefix, or name. */
  pod: string;
}

export interface PodChangeResponse {
  pod: PodInfo;
  /** One line for humans, e.g. "draining: 1234 files to hand over". */
  message: string;
}

export type EntryType = "file" | "dir" | "symlink";

export interface PathRequest {
  /** Absolute cluster path, e.g. "/photos/2024". */
  path: string;
}

export interface DirEntry {
  name: string;
  type: EntryType;
  /** Bytes (0 for directories). */
  size: number;
  /** Modification time, ISO 8601. */
  mtime: string;
  /** Live counted replicas / target (files only). */
  replicas?: number;
  target?: number;
  pinned?: boolean;
  conflict?: boolean;
}

export interface LsResponse {
  path: string;
  /** "dir" when path is a directory (entries are its children), else the single entry. */
  type: EntryType;
  entries: DirEntry[];
}

export interface RmRequest extends PathRequest {
  /** Required to remove a non-empty directory. */
  recursive?: boolean;
}

export interface RmResponse {
  path: string;
  /** Files and directories removed. */
  removed: number;
}

export interface PutRequest {
  /** Absolute local path of a file or directory on the pod's machine. */
  localPath: string;
  /** Absolute cluster path that must not exist yet (like `cp -r src dest`). */
  path: string;
}

export interface GetRequest {
  /** Absolute cluster path of a file or directory. */
  path: string;
  /** Absolute local path that must not exist yet; its parent must exist. */
  localPath: string;
}

export interface TransferResponse {
  path: string;
  localPath: string;
  files: number;
  bytes: number;
}

export type ConflictKind = "content" | "name" | "edit-delete" | "move";

export interface ConflictVersion {
  /** Version hash (manifest id); absent for a delete. */
  version?: string;
  deleted?: boolean;
  pod: string;
  podName?: string;
  /** When it was written, ISO 8601 (from its HLC). */
  time: string;
  size?: number;
  /** The version the file system shows now. */
  current: boolean;
}

export interface ConflictSummary {
  path: string;
  inode: string;
  kind: ConflictKind;
  policy: "overwrite" | "keep-both";
  versions: number;
}

export interface ConflictsResponse {
  conflicts: ConflictSummary[];
}

export interface ConflictDetail extends Omit<ConflictSummary, "versions"> {
  versions: ConflictVersion[];
  /** For text files of reasonable size: `diff -u` from the shown version to each other side. */
  diffs?: string[];
}

export interface ResolveRequest extends PathRequest {
  /** "newest": keep the newest version; "both": keep every version as its own file
   * (conflict copies); "pod": keep the version written by `pod`. */
  keep: "newest" | "both" | "pod";
  /** Pod id, id prefix or name; required when keep is "pod". */
  pod?: string;
}

export interface ResolveResponse {
  path: string;
  /** Paths that now hold the kept versions. */
  kept: string[];
}

export interface PinResponse {
  path: string;
  pinned: boolean;
}

export interface InviteRequest {
  /** Lifetime of the token in seconds. */
  expiresInSeconds: number;
}

export interface InviteResponse {
  token: string;
  /** ISO 8601. */
  expiresAt: string;
  /** A ready-to-paste join command. */
  joinCommand: string;
}

export interface ConfigApplyRequest {
  /** Absolute path of the wormhole.toml to validate and replicate. */
  file: string;
}

export interface ConfigApplyResponse {
  applied: boolean;
  /** Human lines describing what changed ("redundancy: 2 → 3"). */
  changes: string[];
}

export interface NetworkRequest {
  /** false: close every connection and stop dialling (work offline); true: reconnect. */
  online: boolean;
}

export interface NetworkResponse {
  online: boolean;
  /** Pods connected right now. */
  connected: number;
}

type NoRequest = Record<string, never>;

/** Every admin route: "METHOD /path" → request and response. */
export interface AdminApi {
  "GET /status": { request: NoRequest; response: StatusResponse };
  "GET /pods": { request: NoRequest; response: PodsResponse };
  "POST /drain": { request: PodRequest; response: PodChangeResponse };
  "POST /remove": { request: PodRequest; response: PodChangeResponse };
  "GET /ls": { request: PathRequest; response: LsResponse };
  "POST /rm": { request: RmRequest; response: RmResponse };
  "POST /put": { request: PutRequest; response: TransferResponse };
  "POST /get": { request: GetRequest; response: TransferResponse };
  "GET /conflicts": { request: NoRequest; response: ConflictsResponse };
  "GET /conflicts/show": { request: PathRequest; response: ConflictDetail };
  "POST /conflicts/resolve": { request: ResolveRequest; response: ResolveResponse };
  "POST /pin": { request: PathRequest; response: PinResponse };
  "POST /unpin": { request: PathRequest; response: PinResponse };
  "POST /invite": { request: InviteRequest; response: InviteResponse };
  "POST /config/apply": { request: ConfigApplyRequest; response: ConfigApplyResponse };
  "POST /network": { request: NetworkRequest; response: NetworkResponse };
}

export type AdminRoute = keyof AdminApi;
export type AdminRequest<R extends AdminRoute> = AdminApi[R]["request"];
export type AdminResponse<R extends AdminRoute> = AdminApi[R]["response"];

/** What the pod implements: one handler per route, typed end to end. */
export type AdminHandlers = { [R in AdminRoute]: (request: AdminRequest<R>) => Promise<AdminResponse<R>> };

/** The admin socket's file name inside the data directory (the one non-type export). */
export const ADMIN_SOCKET_NAME = "admin.sock";
