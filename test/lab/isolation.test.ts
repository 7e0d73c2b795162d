// Two processes tracing the same destination at the same time each count
// exactly their own replies. Raw sockets are the hard case: each sees every
// ICMP packet in the namespace, the other tracer's replies included.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentResult } from '../../lab/agent-types.js';
import { labSkipReason } from '../../lab/netns.js';
import { runAgent } from '../../lab/run-agent.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();

function ownRepliesOnly(r: AgentResult): void {
  const sent = r.counters.sent;
  assert.equal(r.probes.length, sent, 'every probe settled once');
  assert.equal(r.probes.filter((p) => p.status === 'reply').length, sent, 'no loss on this path');
  assert.equal(r.counters.matched, sent, 'matched exactly the probes it sent');
  assert.equal(r.counters.late, 0);
  // Every reply names the hop its TTL reaches: nothing was taken from the other tracer.
  const expected = ['198.18.100.1', '198.18.101.1', '198.18.102.1', '198.18.103.1'];
  for (const p of r.probes) assert.equal(p.from, p.ttl <= 4 ? expected[p.ttl - 1] : '198.18.200.1', `TTL ${p.ttl}`);
}

describe('two processes tracing the same destination at once', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');

  // A 20 ms link keeps many probes of both processes in flight together.
  const trace = { cycles: 20, interval: 0.02, maxTtl: 8 };

  test("raw sockets (each sees the other one's packets and rejects them)", async () => {
    const [a, b] = await Promise.all([
      runAgent(path.lab, path.sim.ns, {
        target: '198.18.200.1',
        trace: { ...trace, protocol: 'icmp', icmpSocket: 'raw' },
      }),
      runAgent(path.lab, path.sim.ns, {
        target: '198.18.200.1',
        trace: { ...trace, protocol: 'icmp', icmpSocket: 'raw' },
      }),
    ]);
    ownRepliesOnly(a);
    ownRepliesOnly(b);
    assert.ok(
      a.counters.foreign > 0 && b.counters.foreign > 0,
      `each saw foreign replies (${a.counters.foreign}, ${b.counters.foreign})`,
    );
  });

  test('ping sockets and UDP sockets as uid 65534', async () => {
    const [a, b, c] = await Promise.all([
      runAgent(
        path.lab,
        path.sim.ns,
        { target: '198.18.200.1', trace: { ...trace, protocol: 'icmp', icmpSocket: 'ping' } },
        { uid: 65534 },
      ),
      runAgent(
        path.lab,
        path.sim.ns,
        { target: '198.18.200.1', trace: { ...trace, protocol: 'icmp', icmpSocket: 'ping' } },
        { uid: 65534 },
      ),
      runAgent(path.lab, path.sim.ns, { target: '198.18.200.1', trace: { ...trace, protocol: 'udp' } }, { uid: 65534 }),
    ]);
    for (const r of [a, b, c]) {
      ownRepliesOnly(r);
      assert.equal(r.counters.foreign, 0, 'the kernel demultiplexes these sockets itself');
    }
  });

  test('a raw tracer beside an unprivileged one', async () => {
    const [a, b] = await Promise.all([
      runAgent(path.lab, path.sim.ns, {
        target: '198.18.200.1',
        trace: { ...trace, protocol: 'icmp', icmpSocket: 'raw' },
      }),
      runAgent(
        path.lab,
        path.sim.ns,
        { target: '198.18.200.1', trace: { ...trace, protocol: 'icmp', icmpSocket: 'ping' } },
        { uid: 65534 },
      ),
    ]);
    ownRepliesOnly(a);
    ownRepliesOnly(b);
    assert.ok(a.counters.foreign > 0, "the raw socket saw the ping socket's replies too");
  });
});
