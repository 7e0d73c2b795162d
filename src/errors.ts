// Errors with codes, in the style of undici/Fastify: callers switch on `code`,
// the CLI prints `message` as one clear paragraph and exits with `exitCode`.

export type VpslineErrorCode =
  | 'EVPSLINE_PERMISSION'
  | 'EVPSLINE_BAD_OPTION'
  | 'EVPSLINE_UNKNOWN_HOST'
  | 'EVPSLINE_NO_ROUTE'
  | 'EVPSLINE_SOCKET'
  | 'EVPSLINE_NO_ADDON'
  /** The privilege boundary could not be set up, or did not hold. */
  | 'EVPSLINE_PRIVILEGES'
  /** A trace stopped before it had started: there is no report. */
  | 'EVPSLINE_STOPPED';

export class VpslineError extends Error {
  readonly code: VpslineErrorCode;
  /** Process exit code for the CLI (mtr uses 1 for run-time failures, 2 for bad usage). */
  readonly exitCode: number;

  constructor(code: VpslineErrorCode, message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VpslineError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

export function isVpslineError(err: unknown): err is VpslineError {
  return err instanceof VpslineError;
}

/** The errno name (ENOENT, EACCES ...) of a failed system call, if `err` is one. */
export function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
