// TCP probes (-T) time one SYN each: on real Linux routers, with iptables
// dropping 30 % of the SYNs on the last link, a lost SYN is loss (the kernel's
// retransmission one second later is never counted as an answer), and every
// RTT is a kernel receive stamp of the SYN-ACK or RST, close to the path's
// real RTT (taken from kernel-stamped ICMP echoes over the same path).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentResult } from '../../lab/agent-types.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { buildRouterChain, type RouterChain } from '../../lab/routers.js';
import { runAgent } from '../../lab/run-agent.js';

const skip = labSkipReason();
const NOBODY = 65534;
/** SYNs to this port are dropped at random (30 %) by the last router. */
const LOSSY_PORT = 8080;
const OPEN_PORT = 8082;
const CLOSED_PORT = 8081;
const DROP_PROBABILITY = 0.3;

/** The destination's probes of a trace (the last hop). */
function destinationProbes(r: AgentResult): AgentResult['probes'] {
  const ttl = r.report.destinationTtl;
  assert.ok(ttl !== null, 'the destination answered');
  return r.probes.filter((p) => p.ttl === ttl);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

interface EngineSample {
  status: string;
  rttMs: number | null;
  kind?: string;
  kernelTime?: boolean;
  replyTtl?: number;
}

/** `count` TCP probes sent one by one with the library's engine, in the client namespace. */
function engineSamples(chain: RouterChain, family: 4 | 6, port: number, count: number): EngineSample[] {
  const dst = family === 4 ? chain.server4 : chain.server6;
  const engine = new URL('../../src/probe/engine.ts', import.meta.url).pathname;
  const script = `
    import { ProbeEngine } from ${JSON.stringify(engine)};
    const engine = new ProbeEngine();
    const mode = engine.prepare(${family}, 'tcp');
    await engine.ready();
    const out = [];
    const request = { family: ${family}, protocol: 'tcp', dst: '${dst}', port: ${port}, ttl: 64, timeoutMs: 1000 };
    for (let i = 0; i < ${count}; i++) {
      const r = await engine.probe(request);
      out.push({ status: r.status, rttMs: r.rttMs, kind: r.reply?.kind, kernelTime: r.reply?.kernelTime,
                 replyTtl: r.reply?.replyTtl });
    }
    engine.close();
    console.log(JSON.stringify({ mode, out }));`;
  const line = chain.client.exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
  const parsed = JSON.parse(line.trim().split('\n').pop() ?? '{}') as {
    mode: { fallbacks: string[] };
    out: EngineSample[];
  };
  assert.deepEqual(parsed.mode.fallbacks, [], 'root: the raw TCP socket opened');
  return parsed.out;
}

describe('TCP probes time one SYN each (real routers, iptables SYN loss)', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  /** The path's real RTT to the server, per family: median of kernel-stamped ICMP echoes. */
  const realRtt = new Map<4 | 6, number>();

  before(async () => {
    chain = buildRouterChain(lab, 1);
    const router = chain.routers[0];
    assert.ok(router);
    for (const [tool, server] of [
      ['iptables', chain.server4],
      ['ip6tables', chain.server6],
    ] as const) {
      router.exec(tool, [
        ...['-A', 'FORWARD', '-p', 'tcp', '--syn', '-d', server, '--dport', String(LOSSY_PORT)],
        ...['-m', 'statistic', '--mode', 'random', '--probability', String(DROP_PROBABILITY), '-j', 'DROP'],
      ]);
    }
    // Listeners on both ports; the kernel answers their SYNs, the closed port gets an RST.
    const listener = lab.spawn(
      chain.server,
      process.execPath,
      [
        '-e',
        `const net = require('node:net');
         let n = 0;
         for (const [port, host] of [[${LOSSY_PORT}, '::'], [${OPEN_PORT}, '::']])
           net.createServer((s) => s.destroy()).listen({ port, host, backlog: 1024 }, () => {
             if (++n === 2) process.stdout.write('ready\\n');
           });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      listener.stdout?.once('data', () => resolve());
      listener.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
    });
    for (const family of [4, 6] as const) {
      const target = family === 4 ? chain.server4 : chain.server6;
      const r = await runAgent(lab, chain.client, {
        target,
        trace: { protocol: 'icmp', icmpSocket: 'raw', cycles: 20, interval: 0.02, timeout: 1 },
      });
      const rtts = destinationProbes(r).flatMap((p) => (p.status === 'reply' && p.rttMs !== null ? [p.rttMs] : []));
      assert.ok(rtts.length >= 15, `${rtts.length} ICMP echoes answered`);
      realRtt.set(family, median(rtts));
    }
  });
  after(() => lab.close());

  for (const family of [4, 6] as const) {
    for (const who of ['root', 'uid 65534'] as const) {
      test(`IPv${family}, ${who}: 30 % SYN loss reads as ~30 % loss, RTTs within the real one + 1 ms`, async () => {
        const target = family === 4 ? chain.server4 : chain.server6;
        const r = await runAgent(
          lab,
          chain.client,
          { target, trace: { protocol: 'tcp', port: LOSSY_PORT, cycles: 100, interval: 0.05, timeout: 2 } },
          who === 'root' ? {} : { uid: NOBODY },
        );
        const probes = destinationProbes(r);
        const answered = probes.filter((p) => p.status === 'reply');
        const lossPercent = (100 * (probes.length - answered.length)) / probes.length;
        const real = realRtt.get(family) ?? Number.NaN;
        const rtts = answered.map((p) => p.rttMs ?? Number.NaN);
        const worst = Math.max(...rtts);
        console.log(
          `IPv${family} ${who}: ${probes.length} SYNs, loss ${lossPercent.toFixed(1)} % ` +
            `(report ${r.report.hops.at(-1)?.lossPercent} %), real RTT ${real.toFixed(3)} ms, ` +
            `TCP median ${median(rtts).toFixed(3)} ms, worst ${worst.toFixed(3)} ms, ` +
            `kernel-stamped ${answered.filter((p) => p.kernelTime).length}/${answered.length}, ` +
            `resent ${r.counters.resent}, ` +
            `mode ${r.report.mode.socket}` +
            (r.report.mode.fallbacks.length ? ` (${r.report.mode.fallbacks.join(' ')})` : ''),
        );
        assert.equal(probes.length, 100);
        // The kernel resent lost SYNs after 1 s (within the 2 s timeout) and got answers: none may count.
        assert.ok(r.counters.resent > 0, 'no SYN was resent: the scenario does not test retransmissions');
        // Binomial(100, 0.3): 18..42 % holds with probability > 99.4 %.
        assert.ok(lossPercent >= 18 && lossPercent <= 42, `loss ${lossPercent} % for 30 % dropped SYNs`);
        assert.equal(r.report.hops.at(-1)?.lossPercent, lossPercent, 'the report counts what the probes saw');
        // No retransmission is counted (that would read 1 s and more). Each sample is bounded by the
        // kernel's own SYN -> SYN-ACK time, so what reads high was late inside this machine's kernel: once
        // in CI (1 of 73) both the kernel's time and the raw stamp read 2.97 ms on a 0.03 ms path.
        const high = rtts.filter((x) => x > real + 1);
        assert.ok(worst < 100, `worst RTT ${worst} ms on a path of ${real} ms: a resent SYN counted?`);
        assert.ok(high.length <= 1, `RTTs over ${real} + 1 ms: ${high.join(', ')}`);
        for (const p of answered) assert.equal(p.kind, 'tcp-open');
        if (who === 'root') for (const p of answered) assert.equal(p.kernelTime, true, 'root: kernel-stamped SYN-ACKs');
      });
    }

    for (const [what, port, kind] of [
      ['open port (SYN-ACK)', OPEN_PORT, 'tcp-open'],
      ['closed port (RST)', CLOSED_PORT, 'tcp-refused'],
    ] as const) {
      test(`IPv${family}, root: ${what} is kernel-stamped and close to the path's RTT`, async () => {
        const target = family === 4 ? chain.server4 : chain.server6;
        const r = await runAgent(lab, chain.client, {
          target,
          trace: { protocol: 'tcp', port, cycles: 20, interval: 0.02, timeout: 1 },
        });
        const probes = destinationProbes(r);
        const real = realRtt.get(family) ?? Number.NaN;
        const rtts = probes.map((p) => p.rttMs ?? Number.NaN);
        console.log(
          `IPv${family} ${what}: real ${real.toFixed(3)} ms, TCP median ${median(rtts).toFixed(3)} ms, ` +
            `samples ${rtts.map((x) => x.toFixed(3)).join(' ')}, counters ${JSON.stringify(r.counters)}`,
        );
        assert.equal(probes.length, 20);
        for (const p of probes) {
          assert.equal(p.status, 'reply');
          assert.equal(p.kind, kind);
          assert.equal(p.kernelTime, true, `${kind} without a kernel stamp`);
        }
        // A kernel stamp of a 0.1 ms path is within a fraction of a millisecond of the ICMP echo's:
        // TCP's millisecond estimate (1,000 µs) or a read time on a busy loop is not.
        assert.ok(Math.abs(median(rtts) - real) < 0.3, `median ${median(rtts)} ms against ${real} ms`);
        // An open port's sample is also bounded by TCP's own SYN -> SYN-ACK time (kernel clock), so none
        // may read high. A refused one has only the send time read before connect() (Linux stamps no SYN
        // it sends): a thread preempted there reads high by as long (3.2 ms once in CI, 1 sample in 20).
        const high = rtts.filter((x) => x > real + 1);
        if (kind === 'tcp-open') assert.deepEqual(high, [], `samples over ${real} + 1 ms`);
        else assert.ok(high.length <= 1, `samples over ${real} + 1 ms: ${high.join(', ')}`);
      });
    }
    test(`IPv${family}, root: each answer is the SYN-ACK or RST packet itself (its TTL, its kernel stamp)`, () => {
      // TCP's own RTT estimate has no packet behind it: only the raw copy carries the answer's TTL.
      for (const [port, kind] of [
        [OPEN_PORT, 'tcp-open'],
        [CLOSED_PORT, 'tcp-refused'],
      ] as const) {
        const samples = engineSamples(chain, family, port, 10);
        for (const s of samples) {
          assert.equal(s.status, 'reply');
          assert.equal(s.kind, kind);
          assert.equal(s.kernelTime, true);
          assert.equal(s.replyTtl, 63, `${kind}: the answer crossed one router (64 - 1)`);
        }
      }
    });
  }
});
