// Run as root: open a raw socket, drop capabilities, then try to open another.
// Prints { before, after, reopen, stillWorks, threads, kept, threadsWithCaps,
// thoseBlockSignals } as JSON: capabilities belong to threads, so every thread
// of the process is checked; the only ones allowed to keep them are threads
// that block every catchable signal (and so run nothing but what they wait for).
import { readdirSync, readFileSync } from 'node:fs';
import { ProbeEngine } from '../../src/probe/engine.js';
import { hasCapNetRaw } from '../../src/probe/privileges.js';

const engine = new ProbeEngine();
const before = hasCapNetRaw();
engine.prepare(4, 'icmp', 'raw');
const kept = engine.dropCapabilities();
const after = hasCapNetRaw();
let reopen = 'opened';
try {
  new ProbeEngine().prepare(6, 'icmp', 'raw');
} catch (err) {
  reopen = (err as { code?: string }).code ?? String(err);
}
const probe = await engine.probe({ family: 4, protocol: 'icmp', dst: '127.0.0.1', ttl: 64, timeoutMs: 1000 });
const tasks = readdirSync('/proc/self/task');
const status = (t: string): string => readFileSync(`/proc/self/task/${t}/status`, 'utf8');
const withCaps = tasks.filter((t) => !/^CapEff:\s*0+$/m.test(status(t)));
// Blocks every catchable signal: SigBlk has all bits but SIGKILL's and SIGSTOP's
// (which cannot be blocked) and a few the kernel ignores.
const blocksAll = (t: string): boolean =>
  BigInt(`0x${/^SigBlk:\s*(\S+)$/m.exec(status(t))![1]}`) >= 0xfffffffe00000000n;
process.stdout.write(
  `${JSON.stringify({
    before,
    after,
    reopen,
    stillWorks: probe.status,
    threads: tasks.length > 1,
    kept,
    threadsWithCaps: withCaps.length,
    thoseBlockSignals: withCaps.every(blocksAll),
  })}\n`,
);
engine.close();
