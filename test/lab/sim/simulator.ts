// Runs a scenario: a TUN device in a fresh namespace, fed by tunpump, with
// PathSimulator deciding the answers. The client (the tracer under test) runs
// in the same namespace and reaches the simulated path through the TUN route.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { Lab, Netns } from '../netns.js';
import { addressBytes, type Family } from '../../../src/packet/address.js';
import { encodeEcho } from '../../../src/packet/icmp.js';
import { encodeIp, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from '../../../src/packet/ip.js';
import { encodeUdp } from '../../../src/packet/transport.js';
import { PathSimulator } from './path.js';
import type { Scenario } from './scenario.js';

const root = new URL('../../../', import.meta.url).pathname;
const source = `${root}test/lab/sim/tunpump.c`;
const binary = `${root}build/lab/tunpump`;

/** Compile tunpump once (it is test tooling, not part of the package). */
export function tunpumpBinary(): string {
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(`${root}build/lab`, { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-o', binary, source]);
  }
  return binary;
}

export const CLIENT_V4 = '198.18.0.2';
export const CLIENT_V6 = '2001:2::2';

export class Simulator {
  readonly path: PathSimulator;
  private buffered: Buffer = Buffer.alloc(0);
  private baseNs: bigint | undefined;

  private constructor(
    readonly ns: Netns,
    scenario: Scenario,
    seed: number,
    private readonly send: (b: Buffer) => void,
  ) {
    this.path = new PathSimulator(scenario, seed);
  }

  /** Start the simulated path in a new namespace of `lab`. */
  static async start(lab: Lab, scenario: Scenario, opts: { seed?: number } = {}): Promise<Simulator> {
    const ns = lab.namespace('sim');
    const pump = lab.spawn(ns, tunpumpBinary(), ['sim0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    warmUp(scenario);
    const sim = new Simulator(ns, scenario, opts.seed ?? 1, (b) => pump.stdin!.write(b));
    await new Promise<void>((resolve, reject) => {
      pump.once('exit', (code) => reject(new Error(`tunpump exited with ${code}`)));
      pump.stdout!.on('data', (chunk: Buffer) => sim.onData(chunk, resolve));
    });
    ns.ip('link', 'set', 'sim0', 'up');
    ns.ip('addr', 'add', `${CLIENT_V4}/24`, 'dev', 'sim0');
    ns.ip('-6', 'addr', 'add', `${CLIENT_V6}/64`, 'dev', 'sim0', 'nodad');
    ns.ip('route', 'add', '198.18.0.0/15', 'dev', 'sim0');
    ns.ip('-6', 'route', 'add', '2001:2::/48', 'dev', 'sim0');
    ns.sysctl('net.ipv4.ping_group_range', '0 2147483647');
    ns.sysctl('net.ipv4.conf.all.rp_filter', '0');
    ns.sysctl('net.ipv4.conf.sim0.rp_filter', '0');
    return sim;
  }

  /** Frames from tunpump: [u32 len][u64 monotonic ns][packet]; a zero-length one means ready. */
  private onData(chunk: Buffer, ready: () => void): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    let off = 0;
    while (this.buffered.length - off >= 12) {
      const len = this.buffered.readUInt32LE(off);
      if (this.buffered.length - off < 12 + len) break;
      const at = this.buffered.readBigUInt64LE(off + 4);
      this.baseNs ??= at;
      if (len === 0) ready();
      else this.respond(this.buffered.subarray(off + 12, off + 12 + len), Number(at - this.baseNs));
      off += 12 + len;
    }
    this.buffered = this.buffered.subarray(off);
  }

  private respond(packet: Buffer, rxNs: number): void {
    for (const e of this.path.handle(packet, rxNs)) {
      const frame = Buffer.alloc(12 + e.packet.length);
      frame.writeUInt32LE(e.packet.length, 0);
      frame.writeBigUInt64LE(this.baseNs! + BigInt(Math.round(e.atNs)), 4);
      e.packet.copy(frame, 12);
      this.send(frame);
    }
  }
}

/**
 * Run the path logic on synthetic probes before the test starts, on a
 * throwaway instance: a cold Node process needs milliseconds for its first
 * answers, which would show up as latency of the path under test.
 */
function warmUp(scenario: Scenario): void {
  const sim = new PathSimulator(scenario, 0);
  for (let i = 0; i < 300; i++) {
    for (const p of scenario.paths) {
      for (const [family, target, client] of [[4, p.target.v4, CLIENT_V4], [6, p.target.v6, CLIENT_V6]] as const) {
        if (!target) continue;
        const ep = { family: family as Family, src: addressBytes(client, family), dst: addressBytes(target, family) };
        const ttl = 1 + (i % (p.hops.length + 2));
        const echo = encodeEcho(family, false, { id: i, seq: i, payload: new Uint8Array(36) }, ep);
        sim.handle(encodeIp(family, { ...ep, protocol: family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, ttl }, echo), i * 1e6);
        const udp = encodeUdp(ep, 40000, 33434 + i, new Uint8Array(36));
        sim.handle(encodeIp(family, { ...ep, protocol: IPPROTO_UDP, ttl }, udp), i * 1e6);
      }
    }
  }
}
