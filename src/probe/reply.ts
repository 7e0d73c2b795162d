// Turn what a socket delivered into a reply with the identity of the probe it
// answers. Pure: no sockets, no state. Identity always comes from headers
// (ICMP id/seq, UDP/TCP ports, the quoted destination), never from payload.
import type { Family } from '../packet/address.js';
import {
  decodeIcmp,
  decodeMplsAt,
  decodeQuotedProbe,
  decodeQuotedTransport,
  icmpKind,
  unreachableReason,
  type MplsLabel,
  type UnreachableReason,
} from '../packet/icmp.js';
import { decodeIPv4, drop, IPPROTO_ICMP, IPPROTO_TCP, type Decoded } from '../packet/ip.js';
import { decodeTcp, TCP_ACK, TCP_RST, TCP_SYN } from '../packet/transport.js';
import type { ErrorQueueMessage, NativeMessage, PacketMessage } from '../native.js';
import type { SocketKindName } from '../native.js';

export type ProbeProtocol = 'icmp' | 'udp' | 'tcp';

/** Which probe a reply belongs to: matched against the engine's registry. */
/** A constant flow's ports (Paris traceroute): fixed for every probe of the flow. */
export interface FlowPorts {
  srcPort: number;
  dstPort: number;
}

/**
 * What tells one probe from another on the wire, and the value it carried:
 * one variant per way. `dst` is the probe's destination (from the quoted
 * header, or the reply's source).
 */
export type WireIdentity =
  /** ICMP echo: the sequence number; the identifier too when the packet carries one (raw sockets check it). */
  | { by: 'icmp-seq'; dst: string; seq: number; icmpId?: number }
  /** UDP: the destination port. */
  | { by: 'udp-port'; dst: string; port: number }
  /** TCP connect probes: the source port the kernel gave the probe's socket. */
  | { by: 'tcp-port'; dst: string; port: number }
  /** Constant-flow UDP: the checksum (the ports are the flow's). */
  | { by: 'udp-checksum'; dst: string; checksum: number; flow: FlowPorts }
  /** Constant-flow TCP SYN: the sequence number. */
  | { by: 'tcp-seq'; dst: string; seq: number; flow: FlowPorts };

/** The number a wire identity carries (sequence, port or checksum). */
export function wireValue(id: WireIdentity): number {
  switch (id.by) {
    case 'icmp-seq':
    case 'tcp-seq':
      return id.seq;
    case 'udp-port':
    case 'tcp-port':
      return id.port;
    case 'udp-checksum':
      return id.checksum;
  }
}

export type ReplyKind = 'echo-reply' | 'time-exceeded' | 'unreachable' | 'tcp-open' | 'tcp-refused';

export interface DecodedReply {
  identity: WireIdentity;
  kind: ReplyKind;
  /** Who answered: the router for errors, the destination for echo/port replies. */
  from: string;
  icmpType?: number;
  icmpCode?: number;
  unreachable?: UnreachableReason;
  mpls?: MplsLabel[];
  /** TTL / hop limit of the reply packet as it reached us. */
  replyTtl?: number;
  rxNs: number;
  kernelTime: boolean;
}

/** What the receiving socket is, as far as decoding is concerned. */
export interface SocketContext {
  kind: SocketKindName;
  family: Family;
}

const SO_EE_ORIGIN_ICMP = 2;
const SO_EE_ORIGIN_ICMP6 = 3;

/** Decode one native message. Foreign and malformed packets come back as drop reasons. */
export function decodeMessage(sock: SocketContext, msg: NativeMessage): Decoded<DecodedReply> {
  // A connect result or a send stamp carries no packet: the engine reads them itself.
  if (msg.kind === 'connect' || msg.kind === 'tx-stamp') return drop('unsupported');
  if (sock.kind === 'raw') return decodeRaw(sock.family, msg);
  if (sock.kind === 'raw-tcp') return decodeRawTcp(sock.family, msg);
  if (msg.kind === 'error-queue') return decodeErrorQueue(sock, msg);
  if (sock.kind === 'ping') return decodePingReply(sock.family, msg);
  return drop('unsupported');
}

/** A message that carries a packet (or the part of ours an ICMP error quotes). */
type DataMessage = PacketMessage | ErrorQueueMessage;

function base(msg: DataMessage): Pick<DecodedReply, 'rxNs' | 'kernelTime' | 'replyTtl'> {
  const b: Pick<DecodedReply, 'rxNs' | 'kernelTime' | 'replyTtl'> = { rxNs: msg.rxNs, kernelTime: msg.kernelTime };
  if (msg.ttl !== undefined) b.replyTtl = msg.ttl;
  return b;
}

interface RawPayload {
  data: Buffer;
  /** Where the transport header starts. */
  off: number;
  from: string;
  replyTtl: number | undefined;
}

/** Raw sockets: IPv4 delivers the IP header, IPv6 only what follows it (the sender is the message address). */
function rawPayload(family: Family, msg: DataMessage, protocol: number): Decoded<RawPayload> {
  const data = msg.data;
  if (!data) return drop('malformed');
  if (family === 6)
    return msg.addr ? { ok: true, value: { data, off: 0, from: msg.addr, replyTtl: msg.ttl } } : drop('malformed');
  const ip = decodeIPv4(data, 0);
  if (!ip.ok) return ip;
  if (ip.value.protocol !== protocol) return drop('unsupported');
  return { ok: true, value: { data, off: ip.value.payloadOffset, from: ip.value.src, replyTtl: ip.value.ttl } };
}

function decodeRaw(family: Family, msg: DataMessage): Decoded<DecodedReply> {
  const raw = rawPayload(family, msg, IPPROTO_ICMP);
  if (!raw.ok) return raw;
  const { data, off, from, replyTtl } = raw.value;
  const icmp = decodeIcmp(data, off, family);
  if (!icmp.ok) return icmp;
  const m = icmp.value;
  const common = { ...base(msg), from, icmpType: m.type, icmpCode: m.code };
  if (replyTtl !== undefined) common.replyTtl = replyTtl;
  if (m.kind === 'echo-reply') {
    return {
      ok: true,
      value: { ...common, kind: 'echo-reply', identity: { by: 'icmp-seq', dst: from, seq: m.seq, icmpId: m.id } },
    };
  }
  if (m.kind !== 'time-exceeded' && m.kind !== 'unreachable') return drop('unsupported');
  const q = decodeQuotedProbe(data, m.quotedOffset, m.quotedEnd);
  if (!q.ok) return q;
  const p = q.value;
  let identity: WireIdentity;
  if (p.protocol === 'icmp') {
    identity = { by: 'icmp-seq', dst: p.dst, seq: p.icmpSeq, icmpId: p.icmpId };
  } else if (p.protocol === 'udp') {
    // Constant-flow UDP probes are sent raw and answered here.
    identity = {
      by: 'udp-checksum',
      dst: p.dst,
      checksum: p.udpChecksum,
      flow: { srcPort: p.srcPort, dstPort: p.dstPort },
    };
  } else {
    // Constant-flow TCP SYNs: the sequence number is the identity.
    identity = { by: 'tcp-seq', dst: p.dst, seq: p.tcpSeq, flow: { srcPort: p.srcPort, dstPort: p.dstPort } };
  }
  const reply: DecodedReply = { ...common, kind: m.kind, identity };
  if (m.kind === 'unreachable') reply.unreachable = unreachableReason(family, m.code);
  if (m.mpls) reply.mpls = m.mpls;
  return { ok: true, value: reply };
}

/**
 * Raw TCP socket: the destination's SYN-ACK (port open) or RST (closed) to a
 * constant-flow SYN; it acknowledges our sequence number + 1. IPv4 delivers
 * the IP header, IPv6 only the TCP header.
 */
function decodeRawTcp(family: Family, msg: DataMessage): Decoded<DecodedReply> {
  const raw = rawPayload(family, msg, IPPROTO_TCP);
  if (!raw.ok) return raw;
  const { data, off, from, replyTtl } = raw.value;
  const t = decodeTcp(data, off);
  if (!t.ok) return t;
  const { flags, ack } = t.value;
  if (flags === undefined || ack === undefined) return drop('truncated');
  const open = (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
  if (!open && !(flags & TCP_RST)) return drop('unsupported');
  const reply: DecodedReply = {
    ...base(msg),
    kind: open ? 'tcp-open' : 'tcp-refused',
    from,
    identity: {
      by: 'tcp-seq',
      dst: from,
      seq: (ack - 1) >>> 0,
      flow: { srcPort: t.value.dstPort, dstPort: t.value.srcPort },
    },
  };
  if (replyTtl !== undefined) reply.replyTtl = replyTtl;
  return { ok: true, value: reply };
}

/** Ping sockets: the kernel hands over only the ICMP echo reply addressed to this socket. */
function decodePingReply(family: Family, msg: PacketMessage): Decoded<DecodedReply> {
  if (!msg.data || !msg.addr) return drop('malformed');
  const icmp = decodeIcmp(msg.data, 0, family);
  if (!icmp.ok) return icmp;
  if (icmp.value.kind !== 'echo-reply') return drop('unsupported');
  return {
    ok: true,
    value: {
      ...base(msg),
      kind: 'echo-reply',
      from: msg.addr,
      icmpType: icmp.value.type,
      icmpCode: icmp.value.code,
      identity: { by: 'icmp-seq', dst: msg.addr, seq: icmp.value.seq, icmpId: icmp.value.id },
    },
  };
}

/**
 * Error queue (ping, UDP, TCP sockets): the kernel already matched the error
 * to this socket. The payload is the quoted transport header (ping, TCP) or
 * the original UDP payload; the message address is the original destination.
 */
function decodeErrorQueue(sock: SocketContext, msg: ErrorQueueMessage): Decoded<DecodedReply> {
  const ee = msg.ee;
  if (!ee || !msg.addr || !msg.data) return drop('malformed');
  if (ee.origin !== SO_EE_ORIGIN_ICMP && ee.origin !== SO_EE_ORIGIN_ICMP6) return drop('unsupported');
  if (!ee.offender) return drop('malformed');
  const family: Family = ee.origin === SO_EE_ORIGIN_ICMP ? 4 : 6;
  const kind = icmpKind(family, ee.type);
  if (kind !== 'time-exceeded' && kind !== 'unreachable') return drop('unsupported');
  let identity: WireIdentity;
  if (sock.kind === 'udp') {
    if (msg.port === undefined) return drop('malformed');
    identity = { by: 'udp-port', dst: msg.addr, port: msg.port };
  } else {
    const protocol = sock.kind === 'ping' ? 'icmp' : 'tcp';
    const t = decodeQuotedTransport(msg.data, 0, protocol, sock.family);
    if (!t.ok) return t;
    const quoted = t.value;
    identity =
      quoted.protocol === 'icmp'
        ? { by: 'icmp-seq', dst: msg.addr, seq: quoted.icmpSeq, icmpId: quoted.icmpId }
        : { by: 'tcp-port', dst: msg.addr, port: quoted.srcPort };
  }
  const reply: DecodedReply = {
    ...base(msg),
    identity,
    kind,
    from: ee.offender,
    icmpType: ee.type,
    icmpCode: ee.code,
  };
  if (kind === 'unreachable') reply.unreachable = unreachableReason(family, ee.code);
  if (ee.extensionOffset !== undefined && ee.extensionOffset < msg.data.length) {
    const mpls = decodeMplsAt(msg.data, ee.extensionOffset);
    if (mpls) reply.mpls = mpls;
  }
  return { ok: true, value: reply };
}
