// Errors crossing the FUSE boundary. Everything below src/fs throws errors that carry a
// POSIX code name (`err.code = "ENOENT"`); FUSE wants the negative errno number.
import { constants } from "node:os";

const ERRNO = constants.errno as Record<string, number>;

/** An error with a POSIX code, thrown by the file service and the adapter. */
export class FsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "FsError";
  }
}

export function fsError(code: keyof typeof constants.errno, message: string): FsError {
  return new FsError(code, message);
}

/** The negative errno for `err`, or undefined when it carries no known POSIX code. */
export function knownErrno(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in ERRNO) return -ERRNO[code]!;
  return undefined;
}

export const EIO = -ERRNO.EIO!;
export const ENOENT = -ERRNO.ENOENT!;
