// The simulated network: given a packet the client sent into the TUN device,
// decide which hop answers, with what packet, and when. Pure apart from its
// rate-limit buckets and random source, so it is unit-tested on its own.
import { addressBytes, type Family } from '../../src/packet/address.js';
import { decodeIcmp, encodeEcho, encodeIcmpError, ICMP4, ICMP6 } from '../../src/packet/icmp.js';
import {
  decodeIp,
  encodeIp,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type IpHeader,
} from '../../src/packet/ip.js';
import { decodeTcp, decodeUdp, encodeTcp, TCP_ACK, TCP_RST, TCP_SYN } from '../../src/packet/transport.js';
import type { HopSpec, PathSpec, Scenario } from './scenario.js';

export interface Emission {
  /** When to write the packet, on the pump's monotonic clock (ns). */
  atNs: number;
  packet: Buffer;
}

/** What happened to each packet, for tests that check the simulator itself. */
export interface SimCounters {
  packets: number;
  ignored: number;
  forwardLost: number;
  silent: number;
  rateLimited: number;
  replyLost: number;
  replies: number;
}

/** mulberry32: small seeded generator, so a scenario run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REPLY_TTL = 64;
/** Largest ICMP error: RFC 1812 (576 bytes) for IPv4, the minimum MTU (1280) for IPv6. */
const MAX_ERROR = { 4: 576, 6: 1280 } as const;

interface Bucket {
  tokens: number;
  lastNs: number;
}

export class PathSimulator {
  readonly counters: SimCounters = {
    packets: 0,
    ignored: 0,
    forwardLost: 0,
    silent: 0,
    rateLimited: 0,
    replyLost: 0,
    replies: 0,
  };
  /** Probes seen per TOS / traffic class value, to check what the client set. */
  readonly tosSeen = new Map<number, number>();
  private readonly byTarget = new Map<string, PathSpec>();
  private readonly buckets = new Map<HopSpec, Bucket>();
  private readonly random: () => number;

  constructor(scenario: Scenario, seed = 1) {
    this.random = seededRandom(seed);
    for (const p of scenario.paths) {
      if (p.target.v4) this.byTarget.set(p.target.v4, p);
      if (p.target.v6) this.byTarget.set(p.target.v6, p);
    }
  }

  handle(packet: Uint8Array, rxNs: number): Emission[] {
    this.counters.packets++;
    const ip = decodeIp(packet, 0);
    if (!ip.ok) return this.ignore();
    const path = this.byTarget.get(ip.value.dst);
    if (!path) return this.ignore();
    const h = ip.value;
    this.tosSeen.set(h.tos, (this.tosSeen.get(h.tos) ?? 0) + 1);
    const original = packet.subarray(0, Math.min(packet.length, h.totalLength));
    let rttMs = 0;
    for (let i = 0; i < path.hops.length; i++) {
      const hop = path.hops[i]!;
      const ttl = i + 1;
      rttMs += hop.delayMs + this.jitter(hop.jitterMs);
      if (this.random() < hop.loss) {
        this.counters.forwardLost++;
        return [];
      }
      if (hop.unreachable) return this.hopAnswer(hop, ttl, h, original, rxNs, rttMs, 'unreachable');
      if (h.ttl === ttl) return this.hopAnswer(hop, ttl, h, original, rxNs, rttMs, 'time-exceeded');
    }
    const d = path.destination;
    rttMs += d.delayMs + this.jitter(d.jitterMs);
    if (this.random() < d.loss) {
      this.counters.forwardLost++;
      return [];
    }
    const reply = this.destinationAnswer(path, h, packet, original);
    if (!reply) return [];
    this.counters.replies++;
    return [{ atNs: rxNs + Math.max(0, rttMs) * 1e6, packet: reply }];
  }

  private ignore(): Emission[] {
    this.counters.ignored++;
    return [];
  }

  private jitter(ms: number): number {
    return ms ? (this.random() * 2 - 1) * ms : 0;
  }

  /** Token bucket per hop, refilled by the packets' own arrival times. */
  private allowed(hop: HopSpec, nowNs: number): boolean {
    const rl = hop.rateLimit;
    if (!rl) return true;
    let b = this.buckets.get(hop);
    if (!b) {
      b = { tokens: rl.burst, lastNs: nowNs };
      this.buckets.set(hop, b);
    }
    b.tokens = Math.min(rl.burst, b.tokens + ((nowNs - b.lastNs) / 1e9) * rl.perSecond);
    b.lastNs = nowNs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private pickAddress(hop: HopSpec, h: IpHeader, packet: Uint8Array): string | undefined {
    const list = h.family === 4 ? hop.v4 : hop.v6;
    if (list.length <= 1) return list[0];
    if (hop.ecmp === 'packet') return list[Math.floor(this.random() * list.length)];
    return list[flowHash(h, packet) % list.length];
  }

  private hopAnswer(
    hop: HopSpec,
    ttl: number,
    h: IpHeader,
    original: Uint8Array,
    rxNs: number,
    rttMs: number,
    kind: 'time-exceeded' | 'unreachable',
  ): Emission[] {
    const from = this.pickAddress(hop, h, original);
    if (hop.silent || !from) {
      this.counters.silent++;
      return [];
    }
    if (!this.allowed(hop, rxNs)) {
      this.counters.rateLimited++;
      return [];
    }
    if (this.random() < hop.replyLoss) {
      this.counters.replyLost++;
      return [];
    }
    const v4 = h.family === 4;
    let type: number;
    let code = 0;
    if (kind === 'time-exceeded') {
      type = v4 ? ICMP4.timeExceeded : ICMP6.timeExceeded;
    } else {
      type = v4 ? ICMP4.unreachable : ICMP6.unreachable;
      const codes = { net: [0, 0], host: [1, 3], prohibited: [13, 1] } as const;
      code = codes[hop.unreachable!][v4 ? 0 : 1];
    }
    const headerLength = h.payloadOffset;
    const quoteBytes = hop.quote !== undefined ? headerLength + hop.quote : MAX_ERROR[h.family] - (v4 ? 28 : 48);
    const packet = this.icmpPacket(h.family, from, h.src, REPLY_TTL - ttl + 1, (ep) =>
      encodeIcmpError(h.family, { type, code, original, quoteBytes, ...(hop.mpls ? { mpls: hop.mpls } : {}) }, ep),
    );
    this.counters.replies++;
    return [{ atNs: rxNs + Math.max(0, rttMs + hop.replyDelayMs) * 1e6, packet }];
  }

  private destinationAnswer(path: PathSpec, h: IpHeader, packet: Uint8Array, original: Uint8Array): Buffer | undefined {
    const d = path.destination;
    const v4 = h.family === 4;
    const ttl = REPLY_TTL - path.hops.length;
    const me = h.dst;
    if (h.protocol === (v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
      const icmp = decodeIcmp(packet, h.payloadOffset, h.family);
      if (!icmp.ok || icmp.value.kind !== 'echo-request' || d.icmp === 'silent') return undefined;
      const payload = packet.subarray(h.payloadOffset + 8, h.totalLength);
      return this.icmpPacket(h.family, me, h.src, ttl, (ep) =>
        encodeEcho(h.family, true, { id: icmp.value.id!, seq: icmp.value.seq!, payload }, ep),
      );
    }
    if (h.protocol === IPPROTO_UDP) {
      if (d.udp === 'silent' || !decodeUdp(packet, h.payloadOffset).ok) return undefined;
      const type = v4 ? ICMP4.unreachable : ICMP6.unreachable;
      const code = v4 ? 3 : 4;
      const quoteBytes = MAX_ERROR[h.family] - (v4 ? 28 : 48);
      return this.icmpPacket(h.family, me, h.src, ttl, (ep) =>
        encodeIcmpError(h.family, { type, code, original, quoteBytes }, ep),
      );
    }
    if (h.protocol === IPPROTO_TCP) {
      const t = decodeTcp(packet, h.payloadOffset);
      if (
        !t.ok ||
        d.tcp === 'silent' ||
        t.value.flags === undefined ||
        (t.value.flags & TCP_SYN) === 0 ||
        (t.value.flags & TCP_ACK) !== 0
      )
        return undefined;
      const src = addressBytes(me, h.family);
      const dst = addressBytes(h.src, h.family);
      const ep = { family: h.family, src, dst };
      const ack = (t.value.seq + 1) >>> 0;
      const seg =
        d.tcp === 'syn-ack'
          ? encodeTcp(ep, {
              srcPort: t.value.dstPort,
              dstPort: t.value.srcPort,
              seq: Math.floor(this.random() * 2 ** 32),
              ack,
              flags: TCP_SYN | TCP_ACK,
            })
          : encodeTcp(ep, {
              srcPort: t.value.dstPort,
              dstPort: t.value.srcPort,
              seq: 0,
              ack,
              flags: TCP_RST | TCP_ACK,
            });
      return encodeIp(h.family, { src, dst, protocol: IPPROTO_TCP, ttl }, seg);
    }
    return undefined;
  }

  private icmpPacket(
    family: Family,
    from: string,
    to: string,
    ttl: number,
    body: (ep: { family: Family; src: Uint8Array; dst: Uint8Array }) => Buffer,
  ): Buffer {
    const src = addressBytes(from, family);
    const dst = addressBytes(to, family);
    const payload = body({ family, src, dst });
    return encodeIp(family, { src, dst, protocol: family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, ttl }, payload);
  }
}

/** Flow hash like a router's L4 ECMP policy: addresses, protocol and ports. */
function flowHash(h: IpHeader, packet: Uint8Array): number {
  let key = `${h.src}|${h.dst}|${h.protocol}`;
  if (h.protocol === IPPROTO_UDP || h.protocol === IPPROTO_TCP) {
    const u = decodeUdp(packet, h.payloadOffset);
    if (u.ok) key += `|${u.value.srcPort}|${u.value.dstPort}`;
  }
  let x = 2166136261;
  for (let i = 0; i < key.length; i++) x = Math.imul(x ^ key.charCodeAt(i), 16777619);
  return x >>> 0;
}

/** What a tracer matches its answers by, as the probe crossed the simulated path. */
export interface ProbeIdentity {
  family: Family;
  protocol: 'icmp' | 'udp' | 'tcp' | 'other';
  src: string;
  dst: string;
  /** TTL / hop limit as the probe arrived: the hop it was meant for. */
  ttl: number;
  /** ICMP echo request identifier and sequence (ping sockets: the id the kernel chose). */
  icmpId?: number;
  icmpSeq?: number;
  srcPort?: number;
  dstPort?: number;
  tcpSeq?: number;
}

/**
 * One probe as the lab saw it, on the pump's CLOCK_MONOTONIC in ns since the
 * simulator started. The true RTT of the probe is `emittedNs - arrivalNs`
 * plus the TUN device's few µs each way; a tracer's RTT can be compared with
 * that sample by sample.
 */
export interface ProbeTruth extends ProbeIdentity {
  /**
   * When the kernel handed the probe to the TUN device (a packet socket's
   * stamp), or when the pump read it if that stamp is missing.
   */
  arrivalNs: number;
  /** When the pump read the probe (later than arrivalNs by its wake-up). */
  readNs?: number;
  /** arrivalNs is the kernel's stamp. */
  kernelStamped?: boolean;
  /** Who answered, if anyone did. */
  answeredBy?: string;
  /** When the path meant the answer to leave (arrival + the scenario's delays). */
  dueNs?: number;
  /** Right before the pump's write() of the answer into the TUN device. */
  emittedNs?: number;
  /** Right after that write() returned (the kernel has queued, usually delivered, the answer). */
  writtenNs?: number;
}

/** The true RTT of an answered probe, in ms, or undefined if no answer has left (yet). */
export function truthRttMs(t: ProbeTruth): number | undefined {
  return t.emittedNs === undefined ? undefined : (t.emittedNs - t.arrivalNs) / 1e6;
}

/** The identity of a packet the client sent, or undefined if it is not IP. */
export function probeIdentity(packet: Uint8Array): ProbeIdentity | undefined {
  const ip = decodeIp(packet, 0);
  if (!ip.ok) return undefined;
  const h = ip.value;
  const id: ProbeIdentity = { family: h.family, protocol: 'other', src: h.src, dst: h.dst, ttl: h.ttl };
  if (h.protocol === (h.family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
    id.protocol = 'icmp';
    const icmp = decodeIcmp(packet, h.payloadOffset, h.family);
    if (icmp.ok && icmp.value.kind === 'echo-request') {
      if (icmp.value.id !== undefined) id.icmpId = icmp.value.id;
      if (icmp.value.seq !== undefined) id.icmpSeq = icmp.value.seq;
    }
  } else if (h.protocol === IPPROTO_UDP) {
    id.protocol = 'udp';
    const u = decodeUdp(packet, h.payloadOffset);
    if (u.ok) {
      id.srcPort = u.value.srcPort;
      id.dstPort = u.value.dstPort;
    }
  } else if (h.protocol === IPPROTO_TCP) {
    id.protocol = 'tcp';
    const t = decodeTcp(packet, h.payloadOffset);
    if (t.ok) {
      id.srcPort = t.value.srcPort;
      id.dstPort = t.value.dstPort;
      id.tcpSeq = t.value.seq;
    }
  }
  return id;
}

/**
 * The probe a tracer's sample belongs to: same protocol and TTL, and the
 * identity the tracer keys its probes by (ICMP: the echo sequence; UDP: the
 * destination port; TCP: the source port). Undefined if none or several match.
 */
export function findTruth(
  truth: readonly ProbeTruth[],
  probe: { protocol: ProbeIdentity['protocol']; ttl: number; key: number; dst?: string },
): ProbeTruth | undefined {
  const keyOf = (t: ProbeTruth): number | undefined =>
    t.protocol === 'icmp' ? t.icmpSeq : t.protocol === 'udp' ? t.dstPort : t.srcPort;
  const found = truth.filter(
    (t) =>
      t.protocol === probe.protocol &&
      t.ttl === probe.ttl &&
      keyOf(t) === probe.key &&
      (probe.dst === undefined || t.dst === probe.dst),
  );
  return found.length === 1 ? found[0] : undefined;
}
