// Public vocabulary of the namespace layer: ids, attributes, entries, conflicts, errors.

/** 32 lowercase hex characters, derived from the pod's public key by the net layer. */
export type PodId = string;
/** 32 lowercase hex characters: random 128 bits, never a counter. */
export type InodeId = string;
/** 64 lowercase hex characters: sha256 of a manifest (computed by the caller, never here). */
export type VersionId = string;
export type ConflictPolicy = "overwrite" | "keep-both";
export type EntryKind = "file" | "dir" | "symlink";

/** Permission bits only in `mode` (no S_IFMT type bits: `Entry.kind` carries the type). */
export interface Attr {
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** The root directory's well-known id (the root never has a location). */
export const ROOT_INODE: InodeId = "0".repeat(32);
/** `/lost+found`: a virtual directory that receives directories whose moves could not be undone. */
export const LOST_FOUND_INODE: InodeId = "0".repeat(31) + "1";
export const LOST_FOUND_NAME = "lost+found";

export interface ConflictCopyInfo {
  /** The pod that wrote the side shown under this copy name. */
  pod: PodId;
  timeMs: number;
  /** Path of the file this copy stands beside. */
  of: string;
  /** "content": another head of the same inode; "name": another inode that wanted the same name. */
  reason: "content" | "name";
}

export interface Entry {
  inode: InodeId;
  name: string;
  path: string;
  kind: EntryKind;
  /** Bytes; 0 for directories and symlinks. */
  size: number;
  /** Content version; "" for directories and symlinks. */
  version: VersionId;
  symlinkTarget?: string;
  attr: Attr;
  /** Set on keep-both conflict copies (see docs/namespace.md for what operations on them do). */
  conflictCopy?: ConflictCopyInfo;
}

export type ConflictKind = "content" | "name" | "edit-delete" | "move";

export interface ConflictSide {
  pod: PodId;
  timeMs: number;
  version?: VersionId;
  size?: number;
  deleted?: boolean;
  /** The inode this side belongs to (name conflicts have one inode per side). */
  inode: InodeId;
}

export interface Conflict {
  path: string;
  kind: ConflictKind;
  sides: ConflictSide[];
}

export type ErrnoName = "ENOENT" | "EEXIST" | "ENOTDIR" | "EISDIR" | "ENOTEMPTY" | "EINVAL" | "EACCES" | "EBUSY";

export class NamespaceError extends Error {
  constructor(
    readonly code: ErrnoName,
    message: string,
  ) {
    super(message);
    this.name = "NamespaceError";
  }
}

const HEX32 = /^[0-9a-f]{32}$/;
export function isInodeId(s: string): boolean {
  return HEX32.test(s);
}
export function assertPodId(s: string): void {
  if (!HEX32.test(s)) throw new NamespaceError("EINVAL", `pod id "${s}" must be 32 lowercase hex characters`);
}
