// Path parsing for the path-based operations (FUSE hands us absolute paths).
import { NamespaceError } from "./types.js";

const MAX_NAME_BYTES = 255;

/** "/a//b/" → ["a", "b"]; "/" → []. Rejects relative paths, "." and "..", NUL and over-long names. */
export function splitPath(path: string): string[] {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new NamespaceError("EINVAL", `path "${String(path)}" must be absolute (start with "/")`);
  }
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p.length === 0) continue;
    if (p === "." || p === "..") throw new NamespaceError("EINVAL", `path "${path}" must not contain "." or ".." components`);
    // A UTF-16 unit is at most 3 UTF-8 bytes: only long names need counting (hot path).
    if (p.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(p) > MAX_NAME_BYTES) throw new NamespaceError("EINVAL", `name "${p.slice(0, 40)}…" is longer than ${MAX_NAME_BYTES} bytes`);
    parts.push(p);
  }
  if (path.includes("\0")) throw new NamespaceError("EINVAL", `path "${path}" contains a NUL character`);
  return parts;
}

export function joinPath(parts: readonly string[]): string {
  return "/" + parts.join("/");
}
