// The simulator's own process (started by Simulator.start inside the lab
// namespace): runs tunpump and answers its packets with PathSimulator. Kept
// apart from the test runner so nothing there (GC, other work) can make a
// simulated link late. Reports its counters, and each probe's arrival and
// its answer's real emission (the truth for RTT tests), over the IPC channel.
// A 'scenario' message swaps the path for another one (a route changing under
// a running tracer); the TUN device and its routes stay.
// Usage: node --import tsx main.ts <tunpump> '<Scenario JSON>' <seed>
import { spawn } from 'node:child_process';
import { addressBytes, type Family } from '../../src/packet/address.js';
import { encodeEcho } from '../../src/packet/icmp.js';
import { encodeIp, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from '../../src/packet/ip.js';
import { encodeUdp } from '../../src/packet/transport.js';
import { CLIENT_V4, CLIENT_V6 } from './addresses.js';
import { PathSimulator, type ProbeTruth, probeIdentity } from './path.js';
import type { Scenario } from './scenario.js';

/**
 * Run the path logic on synthetic probes first, on a throwaway instance: a
 * cold Node process needs milliseconds for its first answers, which would
 * show up as latency of the path under test.
 */
function warmUp(scenario: Scenario): void {
  const sim = new PathSimulator(scenario, 0);
  for (let i = 0; i < 300; i++) {
    for (const p of scenario.paths) {
      for (const [family, target, client] of [
        [4, p.target.v4, CLIENT_V4],
        [6, p.target.v6, CLIENT_V6],
      ] as const) {
        if (!target) continue;
        const ep = { family: family as Family, src: addressBytes(client, family), dst: addressBytes(target, family) };
        const ttl = 1 + (i % (p.hops.length + 2));
        const echo = encodeEcho(family, false, { id: i, seq: i, payload: new Uint8Array(36) }, ep);
        sim.handle(
          encodeIp(family, { ...ep, protocol: family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, ttl }, echo),
          i * 1e6,
        );
        const udp = encodeUdp(ep, 40000, 33434 + i, new Uint8Array(36));
        sim.handle(encodeIp(family, { ...ep, protocol: IPPROTO_UDP, ttl }, udp), i * 1e6);
      }
    }
  }
}

/** Probes kept for truth() queries at least; beyond twice that, the oldest half is dropped at once. */
const MAX_TRUTH = 50_000;
/** Bit 31 of a frame's length: tagged frame (tunpump.c). */
const TAGGED = 0x80000000;
/** Bit 30: an arrival stamped by the kernel, with the pump's read time after it. */
const KERNEL = 0x40000000;

function main(): void {
  const [pumpPath, scenarioJson, seedText] = process.argv.slice(2);
  const scenario = JSON.parse(scenarioJson!) as Scenario;
  warmUp(scenario);
  const seed = Number(seedText ?? 1);
  let path = new PathSimulator(scenario, seed);
  const pump = spawn(pumpPath!, ['sim0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  pump.once('exit', () => process.exit(1));
  let buffered: Buffer = Buffer.alloc(0);
  let baseNs: bigint | undefined;
  // Every probe in arrival order; `dropped` of them have been let go (MAX_TRUTH).
  const truth: ProbeTruth[] = [];
  let dropped = 0;
  // Answers in the pump, by tag, until it reports when they left.
  const awaiting = new Map<number, ProbeTruth>();
  let nextTag = 0;
  const sinceBase = (ns: bigint): number => Number(ns - (baseNs ?? ns));
  // Frames from tunpump: [u32 len][u64 monotonic ns][packet], or [u32 len|KERNEL][u64 kernel ns][u64 read ns]
  // [packet]; a zero-length one means ready; a tagged one, [u32 12|TAGGED][u64 ns before write][u32 tag]
  // [u64 ns after], an answer that left.
  pump.stdout!.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    let off = 0;
    while (buffered.length - off >= 12) {
      const word = buffered.readUInt32LE(off);
      const len = word & ~(TAGGED | KERNEL);
      const head = word & KERNEL ? 20 : 12;
      if (buffered.length - off < head + len) break;
      const at = buffered.readBigUInt64LE(off + 4);
      baseNs ??= at;
      if (word & TAGGED) {
        const tag = buffered.readUInt32LE(off + 12);
        const t = awaiting.get(tag);
        awaiting.delete(tag);
        if (t) {
          t.emittedNs = sinceBase(at);
          t.writtenNs = sinceBase(buffered.readBigUInt64LE(off + 16));
        }
      } else if (len === 0) process.send?.({ type: 'ready', zeroNs: String(baseNs) });
      else {
        const packet = buffered.subarray(off + head, off + head + len);
        const arrivalNs = sinceBase(at);
        const id = probeIdentity(packet);
        const readNs = word & KERNEL ? sinceBase(buffered.readBigUInt64LE(off + 12)) : arrivalNs;
        const record: ProbeTruth | undefined = id && { ...id, arrivalNs, readNs, kernelStamped: (word & KERNEL) !== 0 };
        if (record) {
          truth.push(record);
          // In one splice, not a shift per probe: a long load test must not make the path slow.
          if (truth.length >= 2 * MAX_TRUTH) {
            truth.splice(0, MAX_TRUTH);
            dropped += MAX_TRUTH;
          }
        }
        for (const e of path.handle(packet, arrivalNs)) {
          const frame = Buffer.alloc(16 + e.packet.length);
          frame.writeUInt32LE((e.packet.length | TAGGED) >>> 0, 0);
          frame.writeBigUInt64LE(baseNs + BigInt(Math.round(e.atNs)), 4);
          const tag = nextTag;
          nextTag = (nextTag + 1) >>> 0;
          frame.writeUInt32LE(tag, 12);
          e.packet.copy(frame, 16);
          if (record) {
            record.dueNs = Math.round(e.atNs);
            const from = probeIdentity(e.packet)?.src;
            if (from) record.answeredBy = from;
            awaiting.set(tag, record);
          }
          pump.stdin!.write(frame);
        }
      }
      off += head + len;
    }
    buffered = buffered.subarray(off);
  });
  process.on('message', (m: { type: string; from?: number; id?: number; scenario?: Scenario }) => {
    if (m.type === 'scenario' && m.scenario) {
      // No warm-up: this process is warm, and a pause here would delay probes in flight.
      // Counted since the start, whatever path the packets met.
      const next = new PathSimulator(m.scenario, seed);
      Object.assign(next.counters, path.counters);
      for (const [tos, n] of path.tosSeen) next.tosSeen.set(tos, n);
      path = next;
      process.send?.({ type: 'scenario', id: m.id });
    }
    if (m.type === 'stats') process.send?.({ type: 'stats', counters: path.counters, tosSeen: [...path.tosSeen] });
    // Probes from index `from` on (counted since the start, dropped ones included).
    if (m.type === 'truth')
      process.send?.({
        type: 'truth',
        id: m.id,
        total: dropped + truth.length,
        probes: truth.slice(Math.max(0, (m.from ?? 0) - dropped)),
      });
  });
  process.on('disconnect', () => {
    pump.kill('SIGKILL');
    process.exit(0);
  });
}

main();
