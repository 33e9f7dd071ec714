/**
 * Every failure of this library: an unreachable or refusing registry, a bad reference, a malformed pull credential
 * or notification. `transient` tells the caller whether retrying later can help (the reconciler's
 * transient-vs-permanent split); `status` is the HTTP status the registry or its token service answered.
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly status?: number;
  /** Network failure, timeout, 429 or 5xx: retry with backoff. Otherwise the request or credential must change. */
  readonly transient: boolean;
  /** The distribution API error code when the registry sent one (`UNAUTHORIZED`, `DENIED`, `NAME_UNKNOWN`, ...). */
  readonly code?: string;

  constructor(message: string, opts: { status?: number; transient?: boolean; code?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.code !== undefined) this.code = opts.code;
    this.transient = opts.transient ?? false;
  }
}
