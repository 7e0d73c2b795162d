// RTT accuracy on the simulated path, sample by sample against the truth:
// the simulator stamps when each probe reached it and when its answer really
// left (tunpump), so every RTT vpsline reports is checked against what the
// path really took, not against the nominal 20 ms (a busy host makes the
// simulator itself late, which is no error of vpsline's). A CPU hog runs
// beside the whole suite: the checks must hold on a loaded machine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentProbe, AgentResult } from '../../lab/agent-types.js';
import { type CpuHog, startCpuHog } from '../../lab/cpu-hog.js';
import { labSkipReason } from '../../lab/netns.js';
import { runAgent } from '../../lab/run-agent.js';
import { findTruth, type ProbeTruth, truthRttMs } from '../../lab/sim/simulator.js';
import { type SimulatedPath, useSimulatedPath } from './suite.js';

const skip = labSkipReason();
const TARGET = { 4: '198.18.200.1', 6: '2001:2:0:200::1' } as const;
/**
 * How far vpsline's RTT may be from the truth, in ms. vpsline's RTT is the
 * kernel's receive stamp minus the kernel's send stamp (TX_SCHED: when the
 * probe is handed to the TUN device's queue); the truth starts a little later,
 * when a packet socket on the device sees it (kernel stamp), and ends right
 * before the pump's write() of the answer, in which the kernel stamps it. So
 * vpsline reads high by a few kernel steps and never low. Measured on a 2-CPU
 * VM beside the hog (2026-12-02): median 12-14 us, 95th percentile under
 * 21 us, worst 226 us in about 1,400 samples.
 *
 * With the send time read in userland before sendmsg (Linux before 6.13
 * cannot name a packet's send stamp), the same runs gave median 50 us, 95th
 * percentile 60-130 us, and one sample in about 12,000 read 8 ms high: the
 * hog preempted the sender between its clock read and sendmsg.
 */
const BODY_BOUND_MS = 0.05;
/** Rounds per case: enough samples that the 95th percentile is not three unlucky ones. */
const ROUNDS = 40;
/** No sample may be further than this from the truth. */
const SAMPLE_BOUND_MS = 0.5;
/** Both are differences of one clock (the truth's CLOCK_MONOTONIC, vpsline's CLOCK_REALTIME): a few µs of slack. */
const LOW_SLACK_MS = 0.005;

interface Compared {
  ttl: number;
  key: number;
  rttMs: number;
  truthMs: number;
  errorMs: number;
  kernelSendTime: boolean;
}

/** Each answered probe of `r` beside its truth; fails on a probe the simulator never answered. */
function compare(r: AgentResult, truth: readonly ProbeTruth[], protocol: 'icmp' | 'udp'): Compared[] {
  const answered = r.probes.filter((p): p is AgentProbe & { rttMs: number } => p.rttMs !== null);
  return answered.map((p) => {
    const t = findTruth(truth, { protocol, ttl: p.ttl, key: p.key });
    const truthMs = t && truthRttMs(t);
    assert.ok(truthMs !== undefined, `TTL ${p.ttl} key ${p.key}: an RTT of ${p.rttMs} ms for no answer the path sent`);
    const kernelSendTime = p.kernelSendTime === true;
    return { ttl: p.ttl, key: p.key, rttMs: p.rttMs, truthMs, errorMs: p.rttMs - truthMs, kernelSendTime };
  });
}

/** The checks on vpsline's samples against the truth (see BODY_BOUND_MS). */
function assertClose(c: Compared[]): void {
  const show = (x: Compared): string => `TTL ${x.ttl}: ${x.rttMs.toFixed(4)} ms, truth ${x.truthMs.toFixed(4)} ms`;
  assert.deepEqual(c.filter((x) => x.errorMs < -LOW_SLACK_MS).map(show), [], 'samples below the truth');
  // At most one sample per case beyond the bound: in fresh-clone CI runs beside the hog, one sample in
  // about 1,400 read 3 ms above the truth although both of its stamps are the kernel's (the receive
  // side, it seems: not verified). Two would be a pattern, not a stray.
  const far = c.filter((x) => x.errorMs > SAMPLE_BOUND_MS).map(show);
  assert.ok(far.length <= 1, `samples more than ${SAMPLE_BOUND_MS} ms from the truth: ${far.join('; ')}`);
  const userland = c.filter((x) => !x.kernelSendTime).map(show);
  assert.deepEqual(userland, [], 'samples timed from a userland send time, not the kernel send stamp');
  const p95 = percentile(
    c.map((x) => x.errorMs),
    0.95,
  );
  assert.ok(p95 <= BODY_BOUND_MS, `95 % of the samples within ${(p95 * 1000).toFixed(1)} us of the truth`);
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

function describeErrors(c: Compared[]): string {
  const abs = c.map((x) => Math.abs(x.errorMs));
  const us = (ms: number): string => `${(ms * 1000).toFixed(1)} us`;
  const truth = c.filter((x) => x.ttl >= 2).map((x) => x.truthMs);
  return (
    `${c.length} samples: |vpsline - truth| median ${us(median(abs))}, ` +
    `95th percentile ${us(percentile(abs, 0.95))}, max ${us(Math.max(...abs))}, ` +
    `least (signed) ${us(Math.min(...c.map((x) => x.errorMs)))}; ` +
    `the path's own RTT behind the 20 ms link ${Math.min(...truth).toFixed(3)}-${Math.max(...truth).toFixed(3)} ms`
  );
}

/** Run the agent and compare its samples with the truth of exactly its own probes. */
async function measured(
  path: SimulatedPath,
  job: Parameters<typeof runAgent>[2],
  protocol: 'icmp' | 'udp',
  uid?: number,
): Promise<{ r: AgentResult; compared: Compared[] }> {
  const mark = await path.sim.truthMark();
  const r = await runAgent(path.lab, path.sim.ns, job, uid === undefined ? {} : { uid });
  return { r, compared: compare(r, await path.sim.truth(mark), protocol) };
}

describe('RTT accuracy on a simulated 20 ms link, beside a CPU hog', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');
  let hog: CpuHog | undefined;
  before(() => {
    hog = startCpuHog();
  });
  after(() => hog?.stop());

  const cases = [
    { name: 'raw ICMP, IPv4', family: 4, trace: { protocol: 'icmp', icmpSocket: 'raw' } },
    { name: 'raw ICMP, IPv6', family: 6, trace: { protocol: 'icmp', icmpSocket: 'raw' } },
    { name: 'ping socket, IPv4 (uid 65534)', family: 4, trace: { protocol: 'icmp', icmpSocket: 'ping' }, uid: 65534 },
    { name: 'ping socket, IPv6 (uid 65534)', family: 6, trace: { protocol: 'icmp', icmpSocket: 'ping' }, uid: 65534 },
    { name: 'UDP, IPv4 (uid 65534)', family: 4, trace: { protocol: 'udp' }, uid: 65534 },
    { name: 'UDP, IPv6 (uid 65534)', family: 6, trace: { protocol: 'udp' }, uid: 65534 },
  ] as const;
  for (const c of cases) {
    test(`${c.name}: RTTs sample by sample against the path's true ones`, async (t) => {
      const job = { target: TARGET[c.family], trace: { ...c.trace, cycles: ROUNDS, interval: 0.05 } };
      const { r, compared } = await measured(path, job, c.trace.protocol, 'uid' in c ? c.uid : undefined);
      t.diagnostic(describeErrors(compared));
      const hop2 = r.report.hops[1];
      assert.equal(hop2?.received, ROUNDS);
      // Every hop answers every probe (the first round also probes beyond the destination).
      assert.ok(compared.length >= 5 * ROUNDS, `only ${compared.length} samples`);
      assertClose(compared);
      // The path never answers early, so a sample below the link's delay would be vpsline's error.
      const behind = compared.filter((x) => x.ttl >= 2);
      assert.ok(behind.every((x) => x.rttMs >= 20 - LOW_SLACK_MS && x.truthMs >= 20));
    });
  }

  test('a busy event loop (~80 %) moves the error against the truth by less than 50 us', async (t) => {
    const trace = { protocol: 'icmp' as const, cycles: 40, interval: 0.05 };
    const idle = await measured(path, { target: TARGET[4], trace }, 'icmp');
    const busy = await measured(path, { target: TARGET[4], trace, busy: { busyMs: 5, periodMs: 6 } }, 'icmp');
    assert.ok(busy.r.loopUtilization >= 0.7, `the loop was only ${(busy.r.loopUtilization * 100).toFixed(0)} % busy`);
    const a = median(idle.compared.map((x) => x.errorMs));
    const b = median(busy.compared.map((x) => x.errorMs));
    const shift = Math.abs(a - b);
    // Report figures for the record (visible with --test-reporter=spec).
    t.diagnostic(
      `median error idle ${(a * 1000).toFixed(1)} us, busy ${(b * 1000).toFixed(1)} us, ` +
        `loop ${(busy.r.loopUtilization * 100).toFixed(0)} % busy; busy: ${describeErrors(busy.compared)}`,
    );
    assert.ok(shift < 0.05, `the median error moved by ${(shift * 1000).toFixed(1)} us`);
    assertClose(busy.compared);
    // Every reply still came back inside the timeout, judged by kernel time.
    assert.equal(busy.r.report.hops[1]?.lost, 0);
  });
});
