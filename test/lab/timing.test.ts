// RTT accuracy on the simulated path: a 20 ms hop must measure 20 ms, and a
// busy event loop must not move the measurement (kernel receive stamps and
// native send stamps, not JavaScript clocks).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentProbe } from '../../lab/agent-types.js';
import { labSkipReason } from '../../lab/netns.js';
import { runAgent } from '../../lab/run-agent.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();
const TARGET = { 4: '198.18.200.1', 6: '2001:2:0:200::1' } as const;

/** RTTs of the hops behind the 20 ms link (TTL 2 and up). */
function behindTheLink(probes: AgentProbe[]): number[] {
  return probes.filter((p) => p.ttl >= 2 && p.ttl <= 5 && p.rttMs !== null).map((p) => p.rttMs!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

describe('RTT accuracy on a simulated 20 ms link', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');

  const cases = [
    { name: 'raw ICMP, IPv4', family: 4, trace: { protocol: 'icmp', icmpSocket: 'raw' } },
    { name: 'raw ICMP, IPv6', family: 6, trace: { protocol: 'icmp', icmpSocket: 'raw' } },
    { name: 'ping socket, IPv4 (uid 65534)', family: 4, trace: { protocol: 'icmp', icmpSocket: 'ping' }, uid: 65534 },
    { name: 'UDP, IPv6 (uid 65534)', family: 6, trace: { protocol: 'udp' }, uid: 65534 },
  ] as const;
  for (const c of cases) {
    test(`${c.name}: 20 ms measures 20 ms +- 0.5 ms`, async (t) => {
      const r = await runAgent(
        path.lab,
        path.sim.ns,
        { target: TARGET[c.family], trace: { ...c.trace, cycles: 10, interval: 0.05 } },
        'uid' in c ? { uid: c.uid } : {},
      );
      const hop2 = r.report.hops[1]!;
      assert.equal(hop2.received, 10);
      assert.ok(Math.abs(hop2.stats.mean - 20) <= 0.5, `hop 2 Avg ${hop2.stats.mean.toFixed(3)} ms`);
      // The simulator answers exactly 20 ms after it sees the probe, so nothing can be faster.
      assert.ok(hop2.stats.best >= 20, `hop 2 Best ${hop2.stats.best.toFixed(3)} ms is below the link's delay`);
      const rtts = behindTheLink(r.probes);
      t.diagnostic(
        `hop 2 Avg ${hop2.stats.mean.toFixed(4)} ms, Best ${hop2.stats.best.toFixed(4)}, ` +
          `Wrst ${hop2.stats.worst.toFixed(4)}, StDev ${hop2.stats.stdev.toFixed(4)}`,
      );
      assert.ok(
        rtts.every((x) => Math.abs(x - 20) <= 0.5),
        `samples outside 20 +- 0.5 ms: ${rtts.filter((x) => Math.abs(x - 20) > 0.5).join(', ')}`,
      );
    });
  }

  test('a busy event loop (~80 %) moves measured RTTs by less than 50 us', async (t) => {
    const trace = { protocol: 'icmp' as const, cycles: 40, interval: 0.05 };
    const idle = await runAgent(path.lab, path.sim.ns, { target: TARGET[4], trace });
    const busy = await runAgent(path.lab, path.sim.ns, { target: TARGET[4], trace, busy: { busyMs: 5, periodMs: 6 } });
    assert.ok(busy.loopUtilization >= 0.7, `the loop was only ${(busy.loopUtilization * 100).toFixed(0)} % busy`);
    const a = median(behindTheLink(idle.probes));
    const b = median(behindTheLink(busy.probes));
    const shift = Math.abs(a - b);
    assert.ok(
      shift < 0.05,
      `median RTT idle ${a.toFixed(4)} ms, busy ${b.toFixed(4)} ms: moved ${(shift * 1000).toFixed(1)} us`,
    );
    // Every reply still came back inside the timeout, judged by kernel time.
    assert.equal(busy.report.hops[1]!.lost, 0);
    // Report figures for the record (visible with --test-reporter=spec).
    t.diagnostic(
      `idle median ${a.toFixed(4)} ms, busy median ${b.toFixed(4)} ms, ` +
        `loop ${(busy.loopUtilization * 100).toFixed(0)} % busy`,
    );
  });
});
