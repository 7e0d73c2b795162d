// The simulator's own process (started by Simulator.start inside the lab
// namespace): runs tunpump and answers its packets with PathSimulator. Kept
// apart from the test runner so nothing there (GC, other work) can make a
// simulated link late. Reports its counters over the IPC channel.
// Usage: node --import tsx main.ts <tunpump> '<Scenario JSON>' <seed>
import { spawn } from 'node:child_process';
import { addressBytes, type Family } from '../../src/packet/address.js';
import { encodeEcho } from '../../src/packet/icmp.js';
import { encodeIp, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from '../../src/packet/ip.js';
import { encodeUdp } from '../../src/packet/transport.js';
import { CLIENT_V4, CLIENT_V6 } from './addresses.js';
import { PathSimulator } from './path.js';
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

function main(): void {
  const [pumpPath, scenarioJson, seedText] = process.argv.slice(2);
  const scenario = JSON.parse(scenarioJson!) as Scenario;
  warmUp(scenario);
  const path = new PathSimulator(scenario, Number(seedText ?? 1));
  const pump = spawn(pumpPath!, ['sim0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  pump.once('exit', () => process.exit(1));
  let buffered: Buffer = Buffer.alloc(0);
  let baseNs: bigint | undefined;
  // Frames from tunpump: [u32 len][u64 monotonic ns][packet]; a zero-length one means ready.
  pump.stdout!.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    let off = 0;
    while (buffered.length - off >= 12) {
      const len = buffered.readUInt32LE(off);
      if (buffered.length - off < 12 + len) break;
      const at = buffered.readBigUInt64LE(off + 4);
      baseNs ??= at;
      if (len === 0) process.send?.({ type: 'ready' });
      else {
        for (const e of path.handle(buffered.subarray(off + 12, off + 12 + len), Number(at - baseNs))) {
          const frame = Buffer.alloc(12 + e.packet.length);
          frame.writeUInt32LE(e.packet.length, 0);
          frame.writeBigUInt64LE(baseNs + BigInt(Math.round(e.atNs)), 4);
          e.packet.copy(frame, 12);
          pump.stdin!.write(frame);
        }
      }
      off += 12 + len;
    }
    buffered = buffered.subarray(off);
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') process.send?.({ type: 'stats', counters: path.counters, tosSeen: [...path.tosSeen] });
  });
  process.on('disconnect', () => {
    pump.kill('SIGKILL');
    process.exit(0);
  });
}

main();
