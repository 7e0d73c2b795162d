// vpsline beside real mtr (Debian's mtr 0.95) on the same simulated path,
// each compared with the truth rather than with the other: the simulator
// stamps when each probe reached it and when its answer really left, and
// both tools' raw output (`-l`: one line per probe, keyed by the probe's
// ICMP sequence or UDP port) is matched to those stamps probe by probe.
// vpsline must be within the per-sample bound and at least as close to the
// truth as mtr, beside a CPU hog (mtr's userland clocks read high under load).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../lab/checkout.js';
import { type CpuHog, startCpuHog } from '../../lab/cpu-hog.js';
import { labSkipReason, type Netns } from '../../lab/netns.js';
import { findTruth, type ProbeTruth, truthRttMs } from '../../lab/sim/simulator.js';
import { toolSkipReason } from '../../lab/tools.js';
import { type SimulatedPath, useSimulatedPath } from './suite.js';

const skip = labSkipReason() ?? toolSkipReason('mtr', 'mtr-tiny');
/** vpsline against the truth, in ms: every sample, and 95 % of them (why: timing.test.ts). */
const SAMPLE_BOUND_MS = 0.5;
const BODY_BOUND_MS = 0.1;

interface Raw {
  /** TTL -> addresses that answered (`h` lines). */
  hosts: Map<number, Set<string>>;
  /** Probes sent (`x` lines). */
  sent: { ttl: number; key: number }[];
  /** Replies (`p` lines): RTT in ms. */
  replies: { ttl: number; key: number; rttMs: number }[];
}

/** mtr's raw format (`-l`): hop numbers are 0-based, RTTs in µs. */
function parseRaw(text: string): Raw {
  const raw: Raw = { hosts: new Map(), sent: [], replies: [] };
  for (const line of text.split('\n')) {
    const [kind, hop, a, b] = line.split(' ');
    const ttl = Number(hop) + 1;
    if (kind === 'h' && a) {
      const set = raw.hosts.get(ttl) ?? new Set<string>();
      set.add(a);
      raw.hosts.set(ttl, set);
    } else if (kind === 'x') raw.sent.push({ ttl, key: Number(a) });
    else if (kind === 'p') raw.replies.push({ ttl, key: Number(b), rttMs: Number(a) / 1000 });
  }
  return raw;
}

/** Run a command in the namespace and collect its output. */
async function run(ns: Netns, cmd: string, args: string[]): Promise<string> {
  const r = await promisify(execFile)('ip', ['netns', 'exec', ns.name, cmd, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return r.stdout;
}

interface Judged {
  raw: Raw;
  truth: ProbeTruth[];
  /** |tool - truth| of each reply, ms. */
  errors: number[];
}

/** Run one tool and match each reply it printed to the truth of exactly its own probes. */
async function judged(
  path: SimulatedPath,
  cmd: string,
  args: string[],
  protocol: 'icmp' | 'udp',
  dst: string,
): Promise<Judged> {
  const mark = await path.sim.truthMark();
  const raw = parseRaw(await run(path.sim.ns, cmd, args));
  const truth = (await path.sim.truth(mark)).filter((t) => t.dst === dst);
  const errors = raw.replies.map((p) => {
    const t = findTruth(truth, { protocol, ttl: p.ttl, key: p.key });
    const truthMs = t && truthRttMs(t);
    assert.ok(truthMs !== undefined, `${cmd}: TTL ${p.ttl} key ${p.key}: ${p.rttMs} ms for no answer the path sent`);
    return Math.abs(p.rttMs - truthMs);
  });
  return { raw, truth, errors };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} us`;
const summary = (xs: number[]): string =>
  `${xs.length} samples, |error| median ${us(median(xs))}, mean ${us(mean(xs))}, max ${us(Math.max(...xs))}`;

/** TTL -> who the path says answered, for the probes that got an answer. */
function answeredBy(truth: ProbeTruth[]): Map<number, Set<string>> {
  const m = new Map<number, Set<string>>();
  for (const t of truth)
    if (t.answeredBy && t.emittedNs !== undefined) {
      const set = m.get(t.ttl) ?? new Set<string>();
      set.add(t.answeredBy);
      m.set(t.ttl, set);
    }
  return m;
}

const sorted = (m: Map<number, Set<string>>): [number, string[]][] =>
  [...m].map(([ttl, s]): [number, string[]] => [ttl, [...s].sort()]).sort((a, b) => a[0] - b[0]);

describe('vpsline mtr and real mtr, each against the truth, beside a CPU hog', { skip }, () => {
  const path = useSimulatedPath('mtr-compare');
  let hog: CpuHog | undefined;
  before(() => {
    hog = startCpuHog();
  });
  after(() => hog?.stop());

  for (const [family, target, flags] of [
    [4, '198.18.250.1', []],
    [6, '2001:2:0:250::1', []],
    [4, '198.18.250.1', ['-u']],
    [6, '2001:2:0:250::1', ['-u']],
  ] as const) {
    const name = `IPv${family}${flags.length ? ` ${flags.join(' ')}` : ''}`;
    const protocol = flags.length ? 'udp' : 'icmp';
    test(`${name}: vpsline close to the truth, sample by sample, and at least as close as mtr`, async (t) => {
      const args = ['-ln', '-c', '10', '-i', '0.2', ...flags, target];
      const theirs = await judged(path, 'mtr', args, protocol, target);
      const ours = await judged(
        path,
        process.execPath,
        [`${projectRoot}/bin/vpsline.js`, 'mtr', ...args],
        protocol,
        target,
      );
      t.diagnostic(`mtr:     ${summary(theirs.errors)}`);
      t.diagnostic(`vpsline: ${summary(ours.errors)}`);
      // Hops as the path answered each tool's probes (hop 2 is silent: no h line for it).
      assert.deepEqual(sorted(ours.raw.hosts), sorted(answeredBy(ours.truth)));
      assert.deepEqual(sorted(theirs.raw.hosts), sorted(answeredBy(theirs.truth)));
      assert.equal(ours.raw.hosts.has(2), false);
      // Every answer the path sent vpsline was reported, and nothing else.
      assert.equal(ours.raw.replies.length, ours.truth.filter((x) => x.emittedNs !== undefined).length);
      assert.ok(ours.errors.length >= 40 && theirs.errors.length >= 40);
      const off = ours.errors.filter((e) => e > SAMPLE_BOUND_MS);
      assert.deepEqual(off.map(us), [], `vpsline samples more than ${SAMPLE_BOUND_MS} ms from the truth`);
      const p95 = [...ours.errors].sort((a, b) => a - b)[Math.ceil(ours.errors.length * 0.95) - 1] ?? NaN;
      assert.ok(p95 <= BODY_BOUND_MS, `95 % of vpsline's samples within ${us(p95)} of the truth`);
      assert.ok(median(ours.errors) <= median(theirs.errors), 'vpsline is further from the truth than mtr (median)');
      assert.ok(mean(ours.errors) <= mean(theirs.errors), 'vpsline is further from the truth than mtr (mean)');
    });
  }
});
