/**
 * Frames: every WebSocket binary message is `[channel byte][payload]`. The channel byte
 * routes the payload to one module; each channel has its own size limit so that a peer
 * cannot make, say, the awareness handler parse megabytes.
 */
import { ProtocolError, expectProtocol } from "./errors.js";

export enum Channel {
  Handshake = 0,
  Sync = 1,
  Awareness = 2,
  Chunk = 3,
  Rpc = 4,
}

const MiB = 1024 * 1024;

/** Largest chunk body carried in one chunk reply. */
export const MAX_CHUNK_BYTES = 8 * MiB;

/**
 * Per-channel payload limits (bytes, excluding the channel byte). Sync is the largest because
 * a first sync step 2 carries a whole shard document (shards stay under ~100k records).
 */
export const MAX_PAYLOAD: Readonly<Record<Channel, number>> = {
  [Channel.Handshake]: 8 * 1024,
  [Channel.Sync]: 32 * MiB,
  [Channel.Awareness]: 64 * 1024,
  [Channel.Chunk]: MAX_CHUNK_BYTES + 64,
  [Channel.Rpc]: 1 * MiB,
};

/** What the WebSocket layer may accept at all (ws `maxPayload`): the largest channel plus its byte. */
export const MAX_FRAME_BYTES = Math.max(...Object.values(MAX_PAYLOAD)) + 1;

export interface Frame {
  channel: Channel;
  payload: Buffer;
}

/** Builds one frame; `payload` may be given in parts (e.g. header + chunk bytes) to copy the bytes only once. */
export function encodeFrame(channel: Channel, payload: Uint8Array | readonly Uint8Array[]): Buffer {
  const parts = payload instanceof Uint8Array ? [payload] : payload;
  let length = 0;
  for (const p of parts) length += p.length;
  if (length > MAX_PAYLOAD[channel]) {
    throw new RangeError(`${Channel[channel]} payload of ${length} bytes exceeds its limit of ${MAX_PAYLOAD[channel]}`);
  }
  const frame = Buffer.allocUnsafe(length + 1);
  frame[0] = channel;
  let offset = 1;
  for (const p of parts) {
    frame.set(p, offset);
    offset += p.length;
  }
  return frame;
}

/** Strictly decodes one received message; the payload is a view into `data` (no copy). */
export function decodeFrame(data: unknown): Frame {
  if (!Buffer.isBuffer(data)) throw new ProtocolError("frame is not a single binary message");
  expectProtocol(data.length >= 1, "empty frame");
  const channel = data[0]!;
  expectProtocol(channel <= Channel.Rpc, `unknown channel ${channel}`);
  const payload = data.subarray(1);
  const limit = MAX_PAYLOAD[channel as Channel];
  expectProtocol(payload.length <= limit, `${Channel[channel]} frame of ${payload.length} bytes exceeds its limit of ${limit}`);
  return { channel: channel as Channel, payload };
}
