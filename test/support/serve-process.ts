// A `vpsline serve` child process: resolves with its base URL once it says
// where it listens, rejects with its standard error if it exits first.
import type { ChildProcess } from 'node:child_process';

export function serverBase(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /looking glass on (http:\/\/[^/]+)\//.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`vpsline serve exited with ${code}: ${err}`)));
  });
}
