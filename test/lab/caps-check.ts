// Run as root: open a raw socket, drop capabilities, then try to open another.
// Prints { before, after, reopen } as JSON.
import { ProbeEngine } from '../../src/probe/engine.js';
import { hasCapNetRaw } from '../../src/probe/privileges.js';

const engine = new ProbeEngine();
const before = hasCapNetRaw();
engine.prepare(4, 'icmp', 'raw');
engine.dropCapabilities();
const after = hasCapNetRaw();
let reopen = 'opened';
try {
  new ProbeEngine().prepare(6, 'icmp', 'raw');
} catch (err) {
  reopen = (err as { code?: string }).code ?? String(err);
}
const probe = await engine.probe({ family: 4, protocol: 'icmp', dst: '127.0.0.1', ttl: 64, timeoutMs: 1000 });
process.stdout.write(JSON.stringify({ before, after, reopen, stillWorks: probe.status }) + '\n');
engine.close();
