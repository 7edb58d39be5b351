// Public API of the namespace layer (src/crdt): pure, deterministic, no I/O.
export { Hlc, compareStamps, encodeStamp, decodeStamp, stampTimeMs, type Stamp } from "./hlc.js";
export { Namespace, type NamespaceOptions, type Content, type ResolveChoice } from "./namespace.js";
export { Registry, REGISTRY_DOC, type RegistryValue } from "./registry.js";
export { View, type LiveVersion } from "./view.js";
export { copyName, copyOriginal } from "./names.js";
export {
  NamespaceError,
  ROOT_INODE,
  LOST_FOUND_INODE,
  LOST_FOUND_NAME,
  isInodeId,
  type PodId,
  type InodeId,
  type VersionId,
  type ConflictPolicy,
  type Attr,
  type EntryKind,
  type Entry,
  type Conflict,
  type ConflictKind,
  type ConflictSide,
  type ConflictCopyInfo,
  type ErrnoName,
} from "./types.js";
