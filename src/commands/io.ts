// The streams a command talks to: the process's own from the CLI, others in tests.
export interface CommandIO {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/**
 * The process's streams. stdin is reached only when a command reads it:
 * touching process.stdin makes Node switch fd 0 to non-blocking mode.
 */
export const processIO = (): CommandIO => ({
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
});
