// Start the lab agent in a namespace and collect its JSON answer.
import type { AgentJob, AgentResult } from './agent-types.js';
import { checkoutFor } from './checkout.js';
import type { Lab, Netns } from './netns.js';

export interface AgentOptions {
  /** Run as this uid/gid with no capabilities at all (e.g. 65534). */
  uid?: number;
}

export class AgentError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The command line that runs `args` as an unprivileged user with no capabilities. */
export function unprivileged(uid: number, cmd: string, args: string[]): [string, string[]] {
  return [
    'setpriv',
    [
      '--reuid',
      String(uid),
      '--regid',
      String(uid),
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      cmd,
      ...args,
    ],
  ];
}

export function runAgent(lab: Lab, ns: Netns, job: AgentJob, opts: AgentOptions = {}): Promise<AgentResult> {
  const root = checkoutFor(opts.uid ?? 0);
  let cmd = process.execPath;
  let args = ['--import', 'tsx', `${root}/lab/agent.ts`, JSON.stringify(job)];
  if (opts.uid !== undefined) [cmd, args] = unprivileged(opts.uid, cmd, args);
  const child = lab.spawn(ns, cmd, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: '/tmp' },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  return new Promise((resolve, reject) => {
    // 'close', not 'exit': only then has all of the child's output been read.
    child.once('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      let parsed: (AgentResult & { error?: undefined }) | { error: { code: string; message: string } } | undefined;
      try {
        parsed = JSON.parse(line);
      } catch {
        return reject(new Error(`agent exited with ${code}: ${err || out}`));
      }
      if (parsed && 'error' in parsed && parsed.error)
        return reject(new AgentError(parsed.error.message, parsed.error.code));
      resolve(parsed as AgentResult);
    });
  });
}
