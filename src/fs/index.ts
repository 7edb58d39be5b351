// Public API of the FUSE adapter (src/fs).
export { mountFileService, fuseMountOptions, type MountOptions, type Mounted } from "./mount.js";
export { clearStaleMount, mountState, unmountLazy, type MountState } from "./stale-mount.js";
export { MountOperations } from "./operations.js";
