// Whether an outside tool the lab uses is installed, and the skip reason if not.
import { execFileSync } from 'node:child_process';

export function hasCommand(cmd: string): boolean {
  for (const flag of ['--version', '-V']) {
    try {
      execFileSync(cmd, [flag], { stdio: 'ignore' });
      return true;
    } catch {}
  }
  return false;
}

/** Undefined when `cmd` is there; otherwise a reason naming the Debian package. */
export function toolSkipReason(cmd: string, debianPackage: string): string | undefined {
  return hasCommand(cmd)
    ? undefined
    : `${cmd} is not installed (apt-get install ${debianPackage}); .ci/run installs it`;
}
