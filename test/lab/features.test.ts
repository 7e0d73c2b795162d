// The awkward things real paths do, seen through real sockets: ECMP, MPLS
// label stacks (raw sockets and the error queue), a silent hop, routers that
// quote only 8 bytes, ICMP rate limits, "no route" answers; and a real Linux
// router silenced with iptables.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { buildRouterChain } from '../../lab/routers.js';
import { runAgent } from '../../lab/run-agent.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();

function hasIptables(): boolean {
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('awkward paths through the simulator', { skip }, () => {
  const path = useSimulatedPath('features');

  for (const [family, kind, uid] of [
    [4, 'raw', undefined],
    [6, 'raw', undefined],
    [4, 'udp', 65534],
    [6, 'udp', 65534],
  ] as const) {
    test(`IPv${family}, ${kind} socket${uid ? ' (uid 65534)' : ''}`, async () => {
      const a = (n: number, i = 1): string => (family === 4 ? `198.18.${n}.${i}` : `2001:2:0:${n}::${i}`);
      const trace =
        kind === 'raw' ? { protocol: 'icmp' as const, icmpSocket: 'raw' as const } : { protocol: 'udp' as const };
      // 2 probes per second per hop stay under hop 6's rate limit only for the first round.
      const r = await runAgent(
        path.lab,
        path.sim.ns,
        { target: a(210), trace: { ...trace, cycles: 12, interval: 0.1, timeout: 0.5 } },
        uid ? { uid } : {},
      );
      const hops = r.report.hops;
      assert.deepEqual(
        hops.map((h) => h.ttl),
        [1, 2, 3, 4, 5, 6, 7],
      );
      assert.equal(hops[0]!.address, a(110));
      // ECMP: UDP ports change per probe, so both routers of hop 2 show; ICMP keeps one flow.
      const ecmp = hops[1]!.responders.map((x) => x.address).sort();
      if (kind === 'udp') assert.deepEqual(ecmp, [a(111, 1), a(111, 2)]);
      else assert.equal(ecmp.length, 1);
      assert.deepEqual(
        hops[2]!.mpls?.map((l) => l.label),
        [24005, 16],
        'MPLS labels of hop 3',
      );
      assert.equal(hops[3]!.address, null, 'hop 4 is silent');
      assert.equal(hops[3]!.lossPercent, 100);
      assert.equal(hops[4]!.address, a(114), 'an 8-byte quote still identifies the probe');
      assert.equal(hops[4]!.lossPercent, 0);
      assert.ok(hops[5]!.lossPercent > 30, `hop 6 rate-limits (loss ${hops[5]!.lossPercent} %)`);
      assert.equal(hops[6]!.address, a(210));
      assert.equal(hops[6]!.lossPercent, 0, 'the rate limit at hop 6 is not loss on the path');
      assert.equal(r.counters.malformed + r.counters.truncated, 0);
    });
  }

  test('a router with no route ends the displayed path there', async () => {
    const r = await runAgent(path.lab, path.sim.ns, {
      target: '198.18.220.1',
      trace: { cycles: 3, interval: 0.05, timeout: 0.5 },
    });
    assert.deepEqual(
      r.report.hops.map((h) => h.address),
      ['198.18.120.1', '198.18.121.1'],
    );
    assert.equal(r.report.hops[1]!.unreachable, 'net');
    assert.equal(r.report.destinationTtl, null);
  });
});

describe('a real router that drops its time-exceeded messages (iptables)', {
  skip: skip ?? (hasIptables() ? undefined : 'iptables is not installed'),
}, () => {
  const lab = new Lab();
  after(() => lab.close());

  test('shows as ??? with 100 % loss; the hops after it are unaffected', async () => {
    const chain = buildRouterChain(lab, 3);
    chain.routers[1]!.exec('iptables', ['-A', 'OUTPUT', '-p', 'icmp', '--icmp-type', 'time-exceeded', '-j', 'DROP']);
    const r = await runAgent(lab, chain.client, {
      target: chain.server4,
      trace: { cycles: 3, interval: 0.05, timeout: 0.5 },
    });
    assert.deepEqual(
      r.report.hops.map((h) => h.address),
      [chain.hops.v4[0], null, chain.hops.v4[2], chain.hops.v4[3]],
    );
    assert.equal(r.report.hops[1]!.lossPercent, 100);
    for (const i of [0, 2, 3]) assert.equal(r.report.hops[i]!.lossPercent, 0);
  });
});

describe('TOS / traffic class and TCP to an open port', { skip }, () => {
  const path = useSimulatedPath('features');

  for (const [family, trace, uid] of [
    [4, { protocol: 'icmp', icmpSocket: 'raw' }, undefined],
    [6, { protocol: 'icmp', icmpSocket: 'ping' }, 65534],
    [4, { protocol: 'udp' }, 65534],
    [6, { protocol: 'tcp' }, 65534],
  ] as const) {
    const socket = 'icmpSocket' in trace ? `/${trace.icmpSocket}` : '';
    test(`-Q 184 reaches the wire: IPv${family} ${trace.protocol}${socket}`, async () => {
      const before = (await path.sim.stats()).tosSeen.get(184) ?? 0;
      const target = family === 4 ? '198.18.210.1' : '2001:2:0:210::1';
      const r = await runAgent(
        path.lab,
        path.sim.ns,
        { target, trace: { ...trace, tos: 184, cycles: 2, interval: 0.05, maxTtl: 3, timeout: 0.5 } },
        uid ? { uid } : {},
      );
      assert.equal(
        ((await path.sim.stats()).tosSeen.get(184) ?? 0) - before,
        r.counters.sent,
        'every probe carried TOS 184',
      );
    });
  }

  test('TCP SYN to an open port: SYN-ACK ends the path, timed by the kernel (tcpi_rtt)', async () => {
    const r = await runAgent(
      path.lab,
      path.sim.ns,
      { target: '198.18.210.1', trace: { protocol: 'tcp', port: 443, cycles: 3, interval: 0.05, timeout: 0.5 } },
      { uid: 65534 },
    );
    const last = r.report.hops[r.report.hops.length - 1]!;
    assert.equal(last.address, '198.18.210.1');
    assert.equal(r.report.destinationTtl, 7);
    const opens = r.probes.filter((p) => p.kind === 'tcp-open');
    assert.ok(opens.length >= 3);
    for (const p of opens) {
      assert.equal(p.kernelTime, true);
      assert.ok(p.rttMs !== null && p.rttMs > 0 && p.rttMs < 50, `rtt ${p.rttMs}`);
    }
  });
});
