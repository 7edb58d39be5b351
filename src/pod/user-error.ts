// An error the user can act on: what went wrong, and what to do about it. The admin API
// sends it to the CLI as `{ error, hint }`; the CLI prints it without a stack trace.

export class UserError extends Error {
  override readonly name = "UserError";

  /**
   * @param message what went wrong, in the user's terms
   * @param hint    what to do about it
   * @param status  the admin API's HTTP status for it (4xx): 400 bad request, 404 no such
   *                path or pod, 409 conflicting state (e.g. already draining)
   * @param cause   the underlying error, kept for WORMHOLE_DEBUG stack traces
   */
  constructor(
    message: string,
    readonly hint: string,
    readonly status = 400,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    if (!Number.isInteger(status) || status < 400 || status > 499) throw new RangeError(`UserError status must be 4xx, got ${status}`);
  }
}
