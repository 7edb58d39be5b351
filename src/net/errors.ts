/**
 * The one error type for anything a peer sent that we refuse to interpret. Every decoder in
 * this layer throws it, and the mesh turns it into "log a line, close that connection":
 * nothing a peer sends may escape as an uncaught exception.
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

/** Throws a ProtocolError unless `condition` holds (a readable guard for decoders). */
export function expectProtocol(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ProtocolError(message);
}
