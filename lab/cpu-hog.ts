// A CPU hog for tests that must hold on a loaded machine: one busy-looping
// child process per CPU, at normal priority, always killed (also when the
// test process exits without cleaning up).
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuHog {
  /** How many busy processes run. */
  readonly processes: number;
  stop(): void;
}

// Spins, and ends itself once orphaned (the test process was killed outright).
const SPIN = 'const p = process.ppid; for (let n = 1; ; n++) if (n % 1e7 === 0 && process.ppid !== p) process.exit(0);';

export function startCpuHog(processes = availableParallelism()): CpuHog {
  const children: ChildProcess[] = [];
  for (let i = 0; i < processes; i++) children.push(spawn(process.execPath, ['-e', SPIN], { stdio: 'ignore' }));
  const stop = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.off('exit', stop);
  };
  process.on('exit', stop);
  return { processes, stop };
}
