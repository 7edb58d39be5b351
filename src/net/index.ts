/** Public surface of the net layer (the pod layer wires it). */
export { formatAddress, parseAddress } from "./address.js";
export { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from "./backoff.js";
export { ChunkPull, type ChunkId, type ChunkProvider, type ChunkPullOptions } from "./chunk-pull.js";
export { PeerConnection, type PeerInfo } from "./connection.js";
export { DocSync, RemoteOrigin } from "./doc-sync.js";
export { ProtocolError } from "./errors.js";
export { Channel, MAX_CHUNK_BYTES, MAX_FRAME_BYTES, MAX_PAYLOAD, decodeFrame, encodeFrame, type Frame } from "./frame.js";
export { Handshake, type Authorize, type AuthorizeRequest, type AuthorizeResult, type PeerIdentity } from "./handshake.js";
export { generateIdentity, parseIdentity, podIdFromPublicKey, serializeIdentity, sign, verify, type Identity } from "./identity.js";
export { InviteError, createInvite, decodeInvite, formatInviteUrl, parseInviteUrl, verifyInvite, type InviteClaims, type InviteFailure } from "./invite.js";
export { Mesh, type ChannelHandler, type LivePeer, type MeshOptions } from "./mesh.js";
export { RemoteError, Rpc, type RpcHandler } from "./rpc.js";
export { silentLog, type Log, type LogLevel, type PodId, type Role } from "./types.js";
