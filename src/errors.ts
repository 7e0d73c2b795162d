// Errors with codes, in the style of undici/Fastify: callers switch on `code`,
// the CLI prints `message` as one clear paragraph and exits with `exitCode`.

export type VpslineErrorCode =
  | 'EVPSLINE_PERMISSION'
  | 'EVPSLINE_BAD_OPTION'
  | 'EVPSLINE_UNKNOWN_HOST'
  | 'EVPSLINE_NO_ROUTE'
  | 'EVPSLINE_SOCKET'
  | 'EVPSLINE_NO_ADDON';

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
