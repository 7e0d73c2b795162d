// The streams a command talks to: the process's own from the CLI, others in tests.
export interface CommandIO {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export const processIO = (): CommandIO => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
