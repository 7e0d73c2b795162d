// Constant-flow UDP (Paris traceroute): one flow stays on one ECMP path,
// several flows show the several paths; identity travels in the UDP checksum.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../lab/checkout.js';
import { labSkipReason } from '../../lab/netns.js';
import { type AgentError, runAgent } from '../../lab/run-agent.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();

describe('constant-flow UDP probes (--flows)', { skip }, () => {
  const path = useSimulatedPath('features');

  for (const family of [4, 6] as const) {
    test(`IPv${family}: one flow, one path through the ECMP hop; identities in the checksum`, async () => {
      const target = family === 4 ? '198.18.210.1' : '2001:2:0:210::1';
      const r = await runAgent(path.lab, path.sim.ns, {
        target,
        trace: { protocol: 'udp', flow: 0, cycles: 12, interval: 0.05, timeout: 0.5 },
      });
      assert.equal(r.report.mode.socket, 'raw-udp');
      assert.equal(r.report.hops[1]!.responders.length, 1, 'a constant flow never switches router');
      assert.equal(r.report.destinationTtl, 7);
      assert.equal(r.report.hops[6]!.lossPercent, 0);
      assert.deepEqual(
        r.report.hops[2]!.mpls?.map((l) => l.label),
        [24005, 16],
      );
      for (const p of r.probes) if (p.status === 'reply') assert.equal(p.kernelTime, true);
      assert.equal(r.counters.malformed + r.counters.truncated, 0);
    });
  }

  for (const family of [4, 6] as const) {
    test(`IPv${family} TCP: constant-flow SYNs; the SYN-ACK is matched by its ack and kernel-stamped`, async () => {
      const target = family === 4 ? '198.18.210.1' : '2001:2:0:210::1';
      const r = await runAgent(path.lab, path.sim.ns, {
        target,
        trace: { protocol: 'tcp', port: 443, flow: 3, cycles: 12, interval: 0.05, timeout: 0.5 },
      });
      assert.equal(r.report.mode.socket, 'raw-tcp');
      assert.equal(r.report.hops[1]!.responders.length, 1);
      assert.equal(r.report.destinationTtl, 7);
      const opens = r.probes.filter((p) => p.kind === 'tcp-open');
      assert.ok(opens.length >= 12, `${opens.length} SYN-ACKs`);
      for (const p of opens) assert.equal(p.kernelTime, true);
      assert.equal(r.counters.late, 0);
    });
  }

  test('sixteen flows find both routers of the ECMP hop, each flow only one', async () => {
    const { stdout } = await promisify(execFile)(
      'ip',
      [
        'netns',
        'exec',
        path.sim.ns.name,
        process.execPath,
        `${projectRoot}/bin/vpsline.js`,
        'mtr',
        '-rwn',
        '--flows',
        '16',
        '-c',
        '3',
        '-i',
        '0.05',
        '-Z',
        '0.5',
        '198.18.210.1',
      ],
      { cwd: projectRoot, encoding: 'utf8' },
    );
    const blocks = stdout.split(/\n(?=Flow \d+ of 16)/);
    assert.equal(blocks.length, 16);
    const seen = new Set<string>();
    for (const b of blocks) {
      const hop2 = b.split('\n').filter((l) => l.startsWith('  2.|-- ') || /^ {8}\S/.test(l));
      assert.equal(hop2.length, 1, `one router at hop 2 per flow:\n${b}`);
      seen.add(hop2[0]!.split(/\s+/)[2]!);
    }
    assert.deepEqual([...seen].sort(), ['198.18.111.1', '198.18.111.2']);
  });

  test('without raw sockets, a clear refusal', async () => {
    await assert.rejects(
      runAgent(
        path.lab,
        path.sim.ns,
        { target: '198.18.210.1', trace: { protocol: 'udp', flow: 0, cycles: 1 } },
        { uid: 65534 },
      ),
      (err: AgentError) => {
        assert.equal(err.code, 'EVPSLINE_PERMISSION');
        assert.match(err.message, /CAP_NET_RAW/);
        return true;
      },
    );
  });
});
