// Hop discovery in all four socket kinds, IPv4 and IPv6: on real Linux
// routers (the kernel generates every ICMP message) and through the
// simulator (TUN). Unprivileged kinds run as uid 65534 with no capabilities.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentResult } from '../../lab/agent-types.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { buildRouterChain, type RouterChain } from '../../lab/routers.js';
import { type AgentError, runAgent } from '../../lab/run-agent.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();
const NOBODY = 65534;

type Kind = 'raw' | 'ping' | 'udp' | 'tcp';
const KINDS: Kind[] = ['raw', 'ping', 'udp', 'tcp'];

function traceOptions(kind: Kind) {
  const base = { cycles: 3, interval: 0.05, timeout: 1 };
  if (kind === 'raw' || kind === 'ping') return { ...base, protocol: 'icmp' as const, icmpSocket: kind };
  return { ...base, protocol: kind };
}

function checkPath(r: AgentResult, kind: Kind, expected: string[]): void {
  assert.equal(r.report.mode.socket, kind);
  assert.deepEqual(
    r.report.hops.map((h) => h.address),
    expected,
  );
  for (const h of r.report.hops) assert.equal(h.lossPercent, 0, `hop ${h.ttl} lost probes`);
  assert.equal(r.report.destinationTtl, expected.length);
  assert.equal(r.report.endReason, 'completed');
  for (const p of r.probes) {
    if (p.status !== 'reply' || p.ttl > expected.length) continue;
    // An RST (TCP to a closed port) carries no kernel stamp; everything else must.
    if (p.kind !== 'tcp-refused')
      assert.equal(p.kernelTime, true, `TTL ${p.ttl} (${p.kind}) without a kernel timestamp`);
  }
  if (kind !== 'raw')
    assert.equal(r.counters.foreign, 0, 'the kernel hands ping/UDP/TCP sockets only their own errors');
}

describe('hop discovery on real Linux routers', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  before(() => {
    chain = buildRouterChain(lab, 2);
  });
  after(() => lab.close());

  for (const family of [4, 6] as const) {
    for (const kind of KINDS) {
      test(`${kind} socket, IPv${family}${kind === 'raw' ? ' (root)' : ' (uid 65534)'}`, async () => {
        const target = family === 4 ? chain.server4 : chain.server6;
        const r = await runAgent(
          lab,
          chain.client,
          { target, trace: traceOptions(kind) },
          kind === 'raw' ? {} : { uid: NOBODY },
        );
        checkPath(r, kind, family === 4 ? chain.hops.v4 : chain.hops.v6);
      });
    }
  }

  test('raw sockets are refused to uid 65534 with the reason and the remedy', async () => {
    await assert.rejects(
      runAgent(lab, chain.client, { target: chain.server4, trace: traceOptions('raw') }, { uid: NOBODY }),
      (err: AgentError) => {
        assert.equal(err.code, 'EVPSLINE_PERMISSION');
        assert.match(err.message, /CAP_NET_RAW/);
        assert.match(err.message, /AmbientCapabilities=CAP_NET_RAW/);
        assert.match(err.message, /Do not setcap the node binary/);
        return true;
      },
    );
  });

  test('with ping sockets closed, uid 65534 falls back to UDP and says why', async () => {
    chain.client.sysctl('net.ipv4.ping_group_range', '1 0');
    try {
      const r = await runAgent(
        lab,
        chain.client,
        { target: chain.server4, trace: { cycles: 2, interval: 0.05 } },
        { uid: NOBODY },
      );
      assert.equal(r.report.mode.socket, 'udp');
      assert.equal(r.report.mode.fallbacks.length, 2);
      assert.match(r.report.mode.fallbacks[0]!, /CAP_NET_RAW/);
      assert.match(r.report.mode.fallbacks[1]!, /ping_group_range/);
      assert.deepEqual(
        r.report.hops.map((h) => h.address),
        chain.hops.v4,
      );
    } finally {
      chain.client.sysctl('net.ipv4.ping_group_range', '0 2147483647');
    }
  });
});

describe('hop discovery through the simulated path (TUN)', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');

  for (const family of [4, 6] as const) {
    for (const kind of KINDS) {
      test(`${kind} socket, IPv${family}`, async () => {
        const target = family === 4 ? '198.18.200.1' : '2001:2:0:200::1';
        const hops = ['100', '101', '102', '103', '200'].map((n) =>
          family === 4 ? `198.18.${n}.1` : `2001:2:0:${n}::1`,
        );
        const r = await runAgent(
          path.lab,
          path.sim.ns,
          { target, trace: traceOptions(kind) },
          kind === 'raw' ? {} : { uid: NOBODY },
        );
        checkPath(r, kind, hops);
      });
    }
  }
});
