// Probes in flight, the identities they carry on the wire, and the matching of
// received messages to them. Pure (no sockets), so the decoder and matcher can
// be fuzzed exactly as the engine uses them.
import { randomInt } from 'node:crypto';
import { VpslineError } from '../errors.js';
import type { NativeMessage, SocketKindName } from '../native.js';
import type { Family } from '../packet/address.js';
import { decodeMessage, type DecodedReply, type WireIdentity, wireValue } from './reply.js';

/** Counters for everything read; nothing is ever thrown at the event loop. */
export interface EngineCounters {
  sent: number;
  sendErrors: number;
  received: number;
  matched: number;
  /** Well-formed packets that answer no probe of ours (other tracers, other traffic). */
  foreign: number;
  /** Replies that came after the probe had timed out (by kernel time) or was already settled. */
  late: number;
  /**
   * TCP probes answered only after the kernel had sent their SYN again: the
   * answer may be to either SYN, so the probe counts as lost.
   */
  resent: number;
  truncated: number;
  malformed: number;
  unsupported: number;
  clockSteps: number;
  /** Probes whose send time is the kernel's send stamp (the rest: read just before the send call). */
  kernelSendStamps: number;
}

/**
 * How the registry tells a probe apart: what it carries on the wire, or, for a
 * TCP connect probe, its own socket (the kernel may give its port to the next
 * probe as soon as an answer closes the connection, before we read it).
 */
export type ProbeIdentity = WireIdentity | { by: 'tcp-socket'; dst: string; handle: number };

/** What the registry needs to know about a probe. */
export interface RegisteredProbe {
  identity: ProbeIdentity;
  /** Socket handle its answers come back on. */
  socket: number;
  /** A second socket that may answer it (the raw TCP socket for constant-flow SYNs). */
  altSocket?: number;
}

/** The socket a message came from, as far as matching is concerned. */
export interface ReceivingSocket {
  handle: number;
  kind: SocketKindName;
  family: Family;
  /** ICMP identifier this socket's probes carry (raw: ours; ping: the kernel's). */
  icmpId?: number;
}

const UDP_BASE_PORT = 33434;
const UDP_PORT_RANGE = 8192;

/** Each way of telling probes apart has its own space: a checksum is not a port. */
export function registryKey(id: ProbeIdentity): string {
  return keyString(id.by, id.dst, id.by === 'tcp-socket' ? id.handle : wireValue(id));
}

function keyString(by: ProbeIdentity['by'], dst: string, value: number): string {
  return `${by}|${dst}|${value}`;
}

/** The ways a probe's identity is handed out by the registry (allocate). */
export type AllocatedBy = 'icmp-seq' | 'udp-port' | 'udp-checksum' | 'tcp-seq';

export class ProbeRegistry<P extends RegisteredProbe> {
  readonly counters: EngineCounters = {
    sent: 0,
    sendErrors: 0,
    received: 0,
    matched: 0,
    foreign: 0,
    late: 0,
    resent: 0,
    truncated: 0,
    malformed: 0,
    unsupported: 0,
    clockSteps: 0,
    kernelSendStamps: 0,
  };

  private readonly inFlight = new Map<string, P>();
  private readonly cursors = new Map<string, number>();

  get size(): number {
    return this.inFlight.size;
  }

  probes(): IterableIterator<P> {
    return this.inFlight.values();
  }

  private keyOf(probe: P): string {
    return registryKey(probe.identity);
  }

  add(probe: P): void {
    const key = this.keyOf(probe);
    // Overwriting a live probe would leave it unsettled forever: refuse loudly.
    if (this.inFlight.has(key))
      throw new VpslineError('EVPSLINE_SOCKET', `internal: two probes in flight with one identity (${key})`);
    this.inFlight.set(key, probe);
  }

  has(probe: P): boolean {
    return this.inFlight.get(this.keyOf(probe)) === probe;
  }

  /** Remove a probe; false when it was already gone (settled before). */
  delete(probe: P): boolean {
    if (!this.has(probe)) return false;
    this.inFlight.delete(this.keyOf(probe));
    return true;
  }

  /**
   * A free value for one more probe to `dst`: the next ICMP sequence or UDP
   * destination port not in flight, from a random start per destination.
   * `fixedPort` (UDP) asks for exactly that port; `avoid` is one value never to
   * hand out (the sending UDP socket's own port). Constant flows: a checksum
   * or a sequence number.
   */
  allocate(by: AllocatedBy, dst: string, fixedPort?: number, avoid?: number): number {
    if (fixedPort !== undefined && by === 'udp-port') {
      if (this.inFlight.has(keyString(by, dst, fixedPort)))
        throw new VpslineError(
          'EVPSLINE_SOCKET',
          `a probe to port ${fixedPort} of ${dst} is still in flight; use a longer interval`,
        );
      return fixedPort;
    }
    // ICMP sequence 0..65535; UDP destination ports from 33434; flow checksums and sequences 1..0xfffe.
    const flow = by === 'udp-checksum' || by === 'tcp-seq';
    const size = by === 'udp-port' ? UDP_PORT_RANGE : flow ? 0xfffe : 0x10000;
    const base = by === 'udp-port' ? UDP_BASE_PORT : flow ? 1 : 0;
    const space = `${by}|${dst}`;
    let cursor = this.cursors.get(space) ?? randomInt(0, size);
    for (let i = 0; i < size; i++) {
      const value = base + (cursor % size);
      cursor = (cursor + 1) % size;
      if (value !== avoid && !this.inFlight.has(keyString(by, dst, value))) {
        this.cursors.set(space, cursor);
        return value;
      }
    }
    throw new VpslineError('EVPSLINE_SOCKET', `too many probes in flight to ${dst}`);
  }

  /**
   * Decode one message from `sock` and find the probe it answers. Never
   * throws: malformed, truncated and foreign packets are counted and dropped.
   */
  match(sock: ReceivingSocket, msg: NativeMessage): { probe: P; reply: DecodedReply } | undefined {
    this.counters.received++;
    let decoded: ReturnType<typeof decodeMessage>;
    try {
      decoded = decodeMessage(sock, msg);
    } catch {
      this.counters.malformed++;
      return undefined;
    }
    if (!decoded.ok) {
      this.counters[decoded.reason]++;
      return undefined;
    }
    const reply = decoded.value;
    const id = reply.identity;
    // Raw sockets see every tracer's ICMP: the identifier must be this socket's.
    if (sock.icmpId !== undefined && id.by === 'icmp-seq' && id.icmpId !== sock.icmpId) {
      this.counters.foreign++;
      return undefined;
    }
    const probe = this.inFlight.get(registryKey(id));
    if (!probe || (probe.socket !== sock.handle && probe.altSocket !== sock.handle) || !sameFlow(probe.identity, id)) {
      this.counters.foreign++;
      return undefined;
    }
    return { probe, reply };
  }
}

/** A constant-flow answer must come back on the flow's own ports. */
function sameFlow(probe: ProbeIdentity, reply: WireIdentity): boolean {
  if (probe.by !== 'udp-checksum' && probe.by !== 'tcp-seq') return true;
  if (reply.by !== probe.by) return false;
  return probe.flow.srcPort === reply.flow.srcPort && probe.flow.dstPort === reply.flow.dstPort;
}
