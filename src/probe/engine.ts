// The probe engine: one per process (or worker), shared by every trace in it.
// It owns the sockets, gives each probe an identity carried in packet headers,
// matches replies to probes, and judges timeouts by kernel time.
import { performance } from 'node:perf_hooks';
import { VpslineError } from '../errors.js';
import {
  isNativeError,
  native,
  SocketKind,
  type NativeMessage,
  type NativeProbe,
  type SendStampMessage,
  type SocketKindName,
} from '../native.js';
import { addressBytes, addressFamily, type Family } from '../packet/address.js';
import { encodeEcho, ICMP4, ICMP6 } from '../packet/icmp.js';
import { encodeTcp, encodeUdpWithChecksum, TCP_SYN } from '../packet/transport.js';
import { ClockWatch, DeadlineHeap } from './deadlines.js';
import { pingRemedy, RAW_REMEDY } from './privileges.js';
import { ProbeRegistry, type EngineCounters, type ReceivingSocket, type RegisteredProbe } from './registry.js';
import { decodeMessage, type DecodedReply, type ProbeProtocol, type WireIdentity, wireValue } from './reply.js';

export type { EngineCounters } from './registry.js';

/** How ICMP probes are sent: raw sockets (CAP_NET_RAW) or unprivileged ping sockets. */
export type IcmpSocketKind = 'raw' | 'ping';

export interface ProbeRequest {
  family: Family;
  protocol: ProbeProtocol;
  dst: string;
  ttl: number;
  /** IPv4 TOS / IPv6 traffic class. */
  tos?: number;
  /** Whole IP packet size in bytes, like mtr's -s (headers included). */
  size?: number;
  /** UDP: fixed destination port (default: one port per probe from 33434 up). TCP: destination port (default 80). */
  port?: number;
  /**
   * UDP or TCP: send as constant flow number `flow` (Paris traceroute): the
   * same ports for every probe, so ECMP routers keep them on one path; the
   * probe's identity travels in the UDP checksum or the TCP sequence number.
   * Needs raw sockets.
   */
  flow?: number;
  timeoutMs: number;
}

export type ProbeStatus = 'reply' | 'timeout' | 'error';

export interface ProbeResult {
  request: ProbeRequest;
  status: ProbeStatus;
  /**
   * Send time (ns, addon clock): the kernel's send stamp when `kernelSendTime`,
   * else read in native code right before the send syscall.
   */
  txNs: number;
  kernelSendTime?: boolean;
  rxNs?: number;
  /** Round-trip time in ms; null when no reply, or when the clock was stepped meanwhile. */
  rttMs: number | null;
  reply?: DecodedReply;
  /** The wall clock was stepped while this probe was out: its RTT is not trusted. */
  clockStepped?: boolean;
  /** The identity used on the wire (ICMP seq, UDP destination port, TCP source port). */
  key: number;
  error?: string;
}

interface InFlight extends RegisteredProbe {
  request: ProbeRequest;
  /**
   * TCP probes on their own socket: the local port on the wire. Their
   * registry key is the socket handle, because the kernel frees the port as
   * soon as a time-exceeded or RST closes the connection, before we have read
   * the answer, and the next probe may get the same port.
   */
  wirePort?: number;
  txNs: number;
  /** The kernel's send stamp replaced the userland one. */
  kernelSendTime?: boolean;
  /** Sent under this id for a kernel send stamp that has not been read yet, on this socket. */
  awaitingStamp?: { id: number; sender: SharedSocket } | undefined;
  deadlineNs: number;
  clockStepped: boolean;
  /** Set when the probe was sent on its own socket (TCP). */
  ownSocket: boolean;
  /**
   * TCP probes on their own socket: the latest SYN-ACK and the latest RST for
   * its ports seen on the raw TCP socket (for their kernel receive stamps),
   * and that key. Both can come: a server may reset a connection it accepted.
   */
  rawAnswers?: { 'tcp-open'?: DecodedReply; 'tcp-refused'?: DecodedReply };
  connectKey?: string;
  done: (r: ProbeResult) => void;
}

/**
 * `localPort`: the UDP socket's own port, which its probes must never be sent
 * to (a probe of a local target would land on it).
 */
type SharedSocket = ReceivingSocket & { localPort?: number };

const DEFAULT_TCP_PORT = 80;
const FLOW_DST_PORT = 33434;
const ECONNREFUSED = 111;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const ICMP_OR_UDP_HEADER = 8;
/** Raw sockets see every ICMP packet of the host: give them room. */
const RAW_RECEIVE_BUFFER = 4 * 1024 * 1024;
/** Time for the kernel's deferred work that turns receive stamping on. */
const STAMPING_SETTLE_MS = 20;

export interface EngineOptions {
  /** ICMP socket kind; by default raw when CAP_NET_RAW, else ping sockets. */
  icmpSocket?: IcmpSocketKind;
  /**
   * CLOCK_REALTIME - CLOCK_MONOTONIC in ns (default: the kernel's). A change
   * means the wall clock was stepped. Replaceable because tests cannot step
   * the machine's clock.
   */
  clockOffset?: () => number;
  /**
   * The sockets, sends and clocks the engine drives (default: the native
   * addon). Anything with the addon's shape will do: tests drive the engine
   * with a scripted transport, no kernel involved.
   */
  transport?: NativeProbe;
  /**
   * Where every socket of this engine sends from (mtr's -a and -I): a source
   * address, and an interface (SO_BINDTODEVICE). For one process's one run
   * (the CLI): every trace on this engine shares them.
   */
  binding?: SourceBinding;
}

export interface SourceBinding {
  address?: string;
  device?: string;
}

/** A shared socket handed across execve: its name in the engine and its descriptor. */
export interface InheritedSocket {
  name: string;
  fd: number;
}

/** Which sockets a trace will use and why (the mode ladder's answer). */
export interface ProbeMode {
  protocol: ProbeProtocol;
  socket: SocketKindName;
  /** Why better modes were not used, in order tried. Empty when the first choice worked. */
  fallbacks: string[];
}

export class ProbeEngine {
  private readonly addon: NativeProbe;
  private readonly shared = new Map<string, SharedSocket>();
  private readonly registry = new ProbeRegistry<InFlight>();
  private readonly deadlines = new DeadlineHeap<InFlight>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  /** When this engine opened its first socket (performance.now ms). */
  private firstOpenMs: number | undefined;
  private readonly icmpPreference: IcmpSocketKind | undefined;
  private readonly clock: ClockWatch;
  /**
   * Probes whose kernel send stamp is still to be read, by the id they were
   * sent under. The stamp is queued when the device takes the packet, before
   * any answer can come, but possibly on another socket than the answer's.
   */
  private readonly awaitingStamps = new Map<number, InFlight>();
  private nextStampId = 0;
  /** Sockets handed over across execve, by name, not yet taken up (see adoptInherited). */
  private readonly inherited = new Map<string, number>();
  private readonly binding: SourceBinding;

  constructor(options: EngineOptions = {}) {
    this.addon = options.transport ?? native();
    this.binding = options.binding ?? {};
    this.icmpPreference = options.icmpSocket;
    const addon = this.addon;
    this.clock = new ClockWatch(options.clockOffset ?? (() => addon.clockOffset()));
  }

  /** What the engine sent, received, matched and dropped so far. */
  get counters(): EngineCounters {
    return this.registry.counters;
  }

  /** Current time on the clock that send and receive stamps use (ns). */
  now(): number {
    return this.addon.now();
  }

  /**
   * Open what `protocol` needs for `family` now (before dropping privileges),
   * walking the mode ladder: raw ICMP, then ping sockets, then (for 'auto') UDP.
   * `protocol: 'auto'` means ICMP when possible, UDP otherwise. `icmpSocket`
   * forces one ICMP socket kind: then its failure is the error.
   */
  prepare(family: Family, protocol: ProbeProtocol | 'auto', icmpSocket?: IcmpSocketKind): ProbeMode {
    if (protocol === 'udp') {
      this.sharedSocket(family, 'udp');
      return { protocol: 'udp', socket: 'udp', fallbacks: [] };
    }
    if (protocol === 'tcp') {
      // One socket per probe, opened when sent; check now that TCP sockets can be had at all.
      const h = this.openNative(family, 'tcp');
      this.addon.close(h);
      // Probe sockets come and go; a long-lived stamping socket keeps the
      // kernel's receive stamping switched on between them.
      this.sharedSocket(family, 'udp');
      return { protocol: 'tcp', socket: 'tcp', fallbacks: this.openTcpStamping(family) };
    }
    const fallbacks: string[] = [];
    const forced = icmpSocket ?? this.icmpPreference;
    const order: IcmpSocketKind[] = forced ? [forced] : ['raw', 'ping'];
    for (const kind of order) {
      try {
        this.sharedSocket(family, kind);
        return { protocol: 'icmp', socket: kind, fallbacks };
      } catch (err) {
        if (!(err instanceof VpslineError) || err.code !== 'EVPSLINE_PERMISSION') throw err;
        if (protocol === 'icmp' && (forced || kind === order[order.length - 1])) throw err;
        fallbacks.push(err.message);
      }
    }
    if (protocol === 'icmp') throw new VpslineError('EVPSLINE_PERMISSION', fallbacks.join(' '));
    this.sharedSocket(family, 'udp');
    return { protocol: 'udp', socket: 'udp', fallbacks };
  }

  /**
   * TCP probes are connect() calls, and a connect result carries no receive
   * stamp. With CAP_NET_RAW a raw TCP socket (filtered in the kernel to
   * SYN-ACKs and RSTs) gets a kernel-stamped copy of each answer, matched to
   * its probe by ports and address. Without it, an open port is timed by the
   * kernel's own measurement of that one SYN (tcpi_rtt: its send stamp to the
   * SYN-ACK's processing, in µs) and a refusal when it is read (kernelTime
   * false); the returned fallback says so.
   */
  private openTcpStamping(family: Family): string[] {
    if (this.shared.has(`${family}/raw-tcp`)) return [];
    try {
      const sock = this.sharedSocket(family, 'raw-tcp');
      this.addon.setReceiveBuffer(sock.handle, RAW_RECEIVE_BUFFER);
      return [];
    } catch (err) {
      const cause = err instanceof VpslineError ? err.cause : undefined;
      if (!isNativeError(cause) || (cause.code !== 'EPERM' && cause.code !== 'EACCES')) throw err;
      return [
        `Cannot open a raw TCP socket for IPv${family} (${cause.code}; needs CAP_NET_RAW): ` +
          "SYN-ACKs are timed by the kernel's SYN -> SYN-ACK measurement, RSTs when read (no kernel stamp).",
      ];
    }
  }

  /**
   * Open what constant-flow probes need: a raw ICMP socket for the routers'
   * answers, and a raw UDP (send-only) or raw TCP socket (which also gets the
   * destination's SYN-ACK or RST). All need CAP_NET_RAW.
   */
  prepareFlow(family: Family, protocol: 'udp' | 'tcp' = 'udp'): ProbeMode {
    const mode = this.prepare(family, 'icmp', 'raw');
    const kind = protocol === 'udp' ? 'raw-udp' : 'raw-tcp';
    const sock = this.sharedSocket(family, kind);
    if (kind === 'raw-tcp') this.addon.setReceiveBuffer(sock.handle, RAW_RECEIVE_BUFFER);
    return { protocol, socket: kind, fallbacks: mode.fallbacks };
  }

  /** Source port of constant flow `flow` (reserved by a bound socket, so no other program uses it). */
  flowPort(family: Family, flow: number, protocol: 'udp' | 'tcp' = 'udp'): number {
    const name = `${family}/${protocol}-flow${flow}`;
    let sock = this.shared.get(name);
    if (!sock) {
      const s: SharedSocket = { handle: -1, kind: protocol, family };
      const adopted = this.inherited.has(name);
      // Errors for our UDP flow probes reach this socket too; matching counts them as foreign.
      s.handle = this.openNative(family, protocol, (msgs) => this.onMessages(s, msgs), name);
      this.addon.ref(s.handle, false);
      if (!adopted) this.place(s.handle, family, true);
      this.shared.set(name, s);
      sock = s;
    }
    return this.addon.localAddress(sock.handle).port;
  }

  /**
   * The open shared sockets, by name, with their descriptors: what a process
   * that is about to give up its privileges hands over to its next image.
   */
  inheritable(): InheritedSocket[] {
    return [...this.shared].map(([name, s]) => ({ name, fd: this.addon.fd(s.handle) }));
  }

  /**
   * Sockets handed over by this process's privileged image: `prepare` and
   * the other openers take them up by name instead of opening new ones.
   */
  adoptInherited(sockets: InheritedSocket[]): void {
    for (const s of sockets) this.inherited.set(s.name, s.fd);
  }

  /** Which ICMP socket kind is open for `family`, if any. */
  icmpSocketKind(family: Family): IcmpSocketKind | undefined {
    if (this.shared.has(`${family}/raw`)) return 'raw';
    if (this.shared.has(`${family}/ping`)) return 'ping';
    return undefined;
  }

  /**
   * Resolves once kernel receive stamps are live. Opening the first
   * timestamping socket makes the kernel enable stamping in deferred work;
   * replies in the first moments after it would carry no kernel stamp.
   */
  async ready(): Promise<void> {
    if (this.firstOpenMs === undefined) return;
    const wait = this.firstOpenMs + STAMPING_SETTLE_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /**
   * Send one probe; `done` is called exactly once, with a reply, a timeout or
   * an error. Returns the identity the probe carries on the wire.
   */
  send(request: ProbeRequest, done: (r: ProbeResult) => void): number {
    if (this.closed) throw new VpslineError('EVPSLINE_SOCKET', 'the probe engine is closed');
    if (addressFamily(request.dst) !== request.family)
      throw new VpslineError('EVPSLINE_BAD_OPTION', `${request.dst} is not an IPv${request.family} address`, 2);
    if (request.flow !== undefined && request.protocol !== 'icmp') return this.sendFlow(request, request.flow, done);
    if (request.protocol === 'tcp') return this.sendTcp(request, done);
    const sock =
      request.protocol === 'udp' ? this.sharedSocket(request.family, 'udp') : this.icmpSocket(request.family);
    const udp = request.protocol === 'udp';
    const key = this.registry.allocate(
      udp ? 'udp-port' : 'icmp-seq',
      request.dst,
      udp ? request.port : undefined,
      sock.localPort,
    );
    const identity: WireIdentity = udp
      ? { by: 'udp-port', dst: request.dst, port: key }
      : { by: 'icmp-seq', dst: request.dst, seq: key };
    const entry = this.register(request, done, { identity, socket: sock.handle });
    const payload = probePayload(request);
    let packet: Buffer;
    let port = 0;
    if (request.protocol === 'icmp') {
      packet = encodeEcho(request.family, false, { id: sock.icmpId ?? 0, seq: key, payload });
    } else {
      packet = Buffer.from(payload);
      port = key;
    }
    return this.transmit(entry, sock, packet, port);
  }

  /** A probe in flight, registered so that replies can find it. */
  private register(
    request: ProbeRequest,
    done: (r: ProbeResult) => void,
    identity: Pick<InFlight, 'identity' | 'socket' | 'altSocket'>,
    ownSocket = false,
  ): InFlight {
    const entry: InFlight = {
      request,
      ...identity,
      txNs: 0,
      deadlineNs: 0,
      clockStepped: false,
      ownSocket,
      done,
    };
    this.registry.add(entry);
    return entry;
  }

  /** Send a registered probe's packet and start its clock; a send error settles it at once. */
  private transmit(entry: InFlight, sender: SharedSocket, packet: Buffer, port: number): number {
    const { request } = entry;
    const stampId = this.nextStampId;
    this.nextStampId = (this.nextStampId + 1) >>> 0;
    try {
      const sent = this.addon.send(sender.handle, packet, request.dst, port, request.ttl, request.tos ?? 0, stampId);
      entry.txNs = sent.txNs;
      if (sent.stamped) {
        entry.awaitingStamp = { id: stampId, sender };
        this.awaitingStamps.set(stampId, entry);
      }
    } catch (err) {
      this.registry.delete(entry);
      this.counters.sendErrors++;
      const message = isNativeError(err) ? err.code : String(err);
      const txNs = this.now();
      const key = wireKey(entry);
      queueMicrotask(() => entry.done({ request, status: 'error', txNs, rttMs: null, key, error: message }));
      return key;
    }
    this.counters.sent++;
    this.arm(entry);
    return wireKey(entry);
  }

  /** Promise form of `send`. */
  probe(request: ProbeRequest): Promise<ProbeResult> {
    return new Promise((resolve) => this.send(request, resolve));
  }

  /** Close every socket; probes still out end as timeouts. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const entry of [...this.registry.probes()]) this.finish(entry, { status: 'timeout' });
    for (const s of this.shared.values()) this.addon.close(s.handle);
    this.shared.clear();
  }

  get inFlightCount(): number {
    return this.registry.size;
  }

  // ---- sockets ----

  /**
   * Put a new socket where --address and --interface say: the interface
   * first (SO_BINDTODEVICE), then the source address. `always`: bind to the
   * wildcard address when no source is chosen (to get a port).
   */
  private place(handle: number, family: Family, always: boolean): void {
    const { address, device } = this.binding;
    if (device)
      try {
        this.addon.bindDevice(handle, device);
      } catch (err) {
        const code = isNativeError(err) ? err.code : String(err);
        const why =
          code === 'ENODEV' ? 'there is no such interface' : code === 'EPERM' ? 'this needs CAP_NET_RAW' : code;
        throw new VpslineError('EVPSLINE_BAD_OPTION', `-I ${device}: ${why} (${code}).`, 1, { cause: err });
      }
    if (address && addressFamily(address) !== family)
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `-a ${address} is an IPv${addressFamily(address)} address, but the target is IPv${family}.`,
        2,
      );
    if (!address && !always) return;
    try {
      this.addon.bind(handle, address ?? (family === 4 ? '0.0.0.0' : '::'), 0);
    } catch (err) {
      if (!address || !isNativeError(err)) throw err;
      const why = err.code === 'EADDRNOTAVAIL' ? 'it is not an address of this machine' : err.code;
      throw new VpslineError('EVPSLINE_BAD_OPTION', `-a ${address}: ${why} (${err.code}).`, 1, { cause: err });
    }
  }

  private openNative(
    family: Family,
    kind: SocketKindName,
    onMessages?: (m: NativeMessage[]) => void,
    name?: string,
  ): number {
    const fd = name === undefined ? undefined : this.inherited.get(name);
    if (name !== undefined && fd !== undefined) {
      this.inherited.delete(name);
      return this.addon.adopt(fd, family, SocketKind[kind], onMessages ?? (() => {}));
    }
    try {
      return this.addon.open(family, SocketKind[kind], onMessages ?? (() => {}));
    } catch (err) {
      if (isNativeError(err) && (err.code === 'EPERM' || err.code === 'EACCES')) {
        if (kind === 'raw')
          throw new VpslineError(
            'EVPSLINE_PERMISSION',
            `Cannot open a raw ICMP socket for IPv${family} (${err.code}): ` +
              `this process lacks CAP_NET_RAW. ${RAW_REMEDY}`,
            1,
            { cause: err },
          );
        if (kind === 'ping')
          throw new VpslineError(
            'EVPSLINE_PERMISSION',
            `Cannot open an ICMP ping socket for IPv${family} (${err.code}). ${pingRemedy()}`,
            1,
            { cause: err },
          );
      }
      if (isNativeError(err) && err.code === 'EAFNOSUPPORT')
        throw new VpslineError('EVPSLINE_SOCKET', `IPv${family} is not available on this machine (EAFNOSUPPORT).`, 1, {
          cause: err,
        });
      throw new VpslineError('EVPSLINE_SOCKET', `Cannot open a ${kind} socket for IPv${family}: ${errorText(err)}`, 1, {
        cause: err,
      });
    }
  }

  /** The open ICMP socket of `family`, opened by the mode ladder when there is none yet. */
  private icmpSocket(family: Family): SharedSocket {
    const kind = this.icmpSocketKind(family) ?? this.prepare(family, 'icmp').socket;
    return this.sharedSocket(family, kind);
  }

  private sharedSocket(family: Family, kind: SocketKindName): SharedSocket {
    const name = `${family}/${kind}`;
    const existing = this.shared.get(name);
    if (existing) return existing;
    const sock: SharedSocket = { handle: -1, kind, family };
    // An inherited socket was set up (bound, filtered) before the exec; only its numbers are read again.
    const adopted = this.inherited.has(name);
    sock.handle = this.openNative(family, kind, (msgs) => this.onMessages(sock, msgs), name);
    this.firstOpenMs ??= performance.now();
    this.addon.ref(sock.handle, false);
    // Raw sockets are bound only to a chosen source; ping and UDP sockets always (for their port).
    try {
      if (!adopted) this.place(sock.handle, family, kind === 'ping' || kind === 'udp');
    } catch (err) {
      this.addon.close(sock.handle);
      throw err;
    }
    if (kind === 'raw') {
      this.addon.setReceiveBuffer(sock.handle, RAW_RECEIVE_BUFFER);
      this.addon.setIcmpFilter(
        sock.handle,
        family === 4
          ? [ICMP4.echoReply, ICMP4.unreachable, ICMP4.timeExceeded]
          : [ICMP6.echoReply, ICMP6.unreachable, ICMP6.timeExceeded],
      );
      // Our UDP socket's port is unique among live sockets of this network
      // namespace, which is exactly the set of raw sockets that can see our
      // replies: as an ICMP identifier it cannot collide with another vpsline.
      sock.icmpId = this.addon.localAddress(this.sharedSocket(family, 'udp').handle).port;
    } else if (kind === 'ping' || kind === 'udp') {
      if (kind === 'ping') sock.icmpId = this.addon.localAddress(sock.handle).port;
      else sock.localPort = this.addon.localAddress(sock.handle).port;
    }
    this.shared.set(name, sock);
    return sock;
  }

  // ---- constant flows (Paris): raw UDP/TCP out; ICMP back on the raw ICMP
  // socket, the destination's SYN-ACK/RST on the raw TCP socket ----

  private readonly sources = new Map<string, Uint8Array>();

  private sendFlow(request: ProbeRequest, flow: number, done: (r: ProbeResult) => void): number {
    const { family, dst } = request;
    const tcp = request.protocol === 'tcp';
    const senderKind = tcp ? 'raw-tcp' : 'raw-udp';
    if (!this.shared.has(`${family}/raw`) || !this.shared.has(`${family}/${senderKind}`))
      this.prepareFlow(family, tcp ? 'tcp' : 'udp');
    // Both are open now: these return them.
    const receiving = this.sharedSocket(family, 'raw');
    const sender = this.sharedSocket(family, senderKind);
    const srcPort = this.flowPort(family, flow, tcp ? 'tcp' : 'udp');
    const dstPort = request.port ?? (tcp ? DEFAULT_TCP_PORT : FLOW_DST_PORT);
    let src = this.sources.get(dst);
    if (!src) {
      const bound = this.binding.address;
      src = addressBytes(
        bound && addressFamily(bound) === family ? bound : this.addon.routeSource(family, dst),
        family,
      );
      this.sources.set(dst, src);
    }
    const key = this.registry.allocate(tcp ? 'tcp-seq' : 'udp-checksum', dst);
    const flowPorts = { srcPort, dstPort };
    const entry = this.register(request, done, {
      identity: tcp
        ? { by: 'tcp-seq', dst, seq: key, flow: flowPorts }
        : { by: 'udp-checksum', dst, checksum: key, flow: flowPorts },
      socket: receiving.handle,
      ...(tcp ? { altSocket: sender.handle } : {}),
    });
    const ep = { family, src, dst: addressBytes(dst, family) };
    const headers = (family === 4 ? IPV4_HEADER : IPV6_HEADER) + ICMP_OR_UDP_HEADER;
    const packet = tcp
      ? encodeTcp(ep, { srcPort, dstPort, seq: key, ack: 0, flags: TCP_SYN })
      : encodeUdpWithChecksum(ep, srcPort, dstPort, (request.size ?? 64) - headers, key);
    return this.transmit(entry, sender, packet, 0);
  }

  // ---- TCP: one socket per probe ----

  private sendTcp(request: ProbeRequest, done: (r: ProbeResult) => void): number {
    let entry: InFlight | undefined;
    let handle = -1;
    handle = this.openNative(request.family, 'tcp', (msgs) => {
      if (entry) this.onTcpMessages(entry, msgs);
    });
    this.addon.ref(handle, false);
    try {
      this.place(handle, request.family, true);
    } catch (err) {
      this.addon.close(handle);
      throw err;
    }
    const wirePort = this.addon.localAddress(handle).port;
    entry = this.register(
      request,
      done,
      { identity: { by: 'tcp-socket', dst: request.dst, handle }, socket: handle },
      true,
    );
    entry.wirePort = wirePort;
    if (this.shared.has(`${request.family}/raw-tcp`)) {
      entry.connectKey = connectKey(request.dst, wirePort, request.port ?? DEFAULT_TCP_PORT);
      this.connectProbes.set(entry.connectKey, entry);
    }
    const key = wirePort;
    let result: { txNs: number; errno: number };
    try {
      result = this.addon.connect(handle, request.dst, request.port ?? DEFAULT_TCP_PORT, request.ttl, request.tos ?? 0);
    } catch (err) {
      this.registry.delete(entry);
      if (entry.connectKey) this.connectProbes.delete(entry.connectKey);
      this.addon.close(handle);
      this.counters.sendErrors++;
      const message = isNativeError(err) ? err.code : String(err);
      const txNs = this.now();
      queueMicrotask(() => done({ request, status: 'error', txNs, rttMs: null, key, error: message }));
      return key;
    }
    entry.txNs = result.txNs;
    this.counters.sent++;
    this.arm(entry);
    if (result.errno === ECONNREFUSED) {
      // Loopback answers inside connect() itself: the RST has already come back.
      const rxNs = this.now();
      this.onTcpMessages(entry, [
        { kind: 'connect', result: 'refused', errno: result.errno, rxNs, kernelTime: false, retransmits: 0 },
      ]);
    }
    return key;
  }

  /*
   * One SYN, one sample. The kernel sends a SYN again after its initial RTO
   * (1 s; TCP_SYNCNT cannot be 0 on Linux, so there is always one retry), and
   * an answer to it would be timed from the first SYN, or the answer read then
   * may be to either: every message of a probe socket says how often the SYN
   * was resent so far, and a probe answered after a resend (or when that is
   * unknown) counts as lost.
   */
  private onTcpMessages(entry: InFlight, msgs: NativeMessage[]): void {
    for (const msg of msgs) {
      if (!this.registry.has(entry)) {
        this.counters.received++;
        this.counters.late++;
        continue;
      }
      this.counters.received++;
      if (msg.kind !== 'connect') {
        // An error-queue message of this probe's own socket: check that it quotes our port.
        const decoded = decodeMessage({ kind: 'tcp', family: entry.request.family }, msg);
        if (!decoded.ok) this.counters[decoded.reason]++;
        else if (decoded.value.identity.by !== 'tcp-port' || decoded.value.identity.port !== entry.wirePort)
          this.counters.foreign++;
        else if (msg.kind === 'error-queue' && (msg.retransmits ?? 0) !== 0) this.resent(entry);
        else this.accept(entry, decoded.value);
        continue;
      }
      if (msg.result === 'error') continue; // the error-queue entry (if any) carries the details
      if (msg.retransmits !== 0) {
        this.resent(entry);
        continue;
      }
      const kind = msg.result === 'open' ? 'tcp-open' : 'tcp-refused';
      const identity: WireIdentity = { by: 'tcp-port', dst: entry.request.dst, port: wireKey(entry) };
      const stamped = this.rawAnswerOf(entry, kind);
      if (stamped) {
        // The raw socket's copy of the very segment that ended the connect: its kernel receive stamp.
        // The SYN itself gets no kernel send stamp, and the userland one is read before connect() and
        // may be late by however long this thread was preempted there. For an open port TCP's own
        // sample (tcpi_rtt: SYN sent -> SYN-ACK handled, kernel clock) is an upper bound as well: the
        // receive stamp minus it is no later than the real send, so the smaller RTT is the tighter one.
        const fromStamp = (stamped.rxNs - entry.txNs) / 1e6;
        const kernelRttMs =
          msg.result === 'open' && msg.tcpRttUs ? Math.min(fromStamp, msg.tcpRttUs / 1000) : undefined;
        this.accept(entry, { ...stamped, identity }, kernelRttMs);
        continue;
      }
      // No raw socket (no CAP_NET_RAW) or its copy was lost: an open port is
      // timed by the kernel itself (tcpi_rtt, µs, from its send stamp of this
      // one SYN); a refusal (RST) has no kernel stamp and is timed when read.
      const rttMs = msg.result === 'open' && msg.tcpRttUs ? msg.tcpRttUs / 1000 : undefined;
      const reply: DecodedReply = {
        identity,
        kind,
        from: entry.request.dst,
        rxNs: msg.rxNs,
        kernelTime: rttMs !== undefined,
      };
      this.accept(entry, reply, rttMs);
    }
  }

  /** TCP probes whose raw TCP answer is awaited, by destination and both ports. */
  private readonly connectProbes = new Map<string, InFlight>();

  /**
   * A SYN-ACK or RST on the raw TCP socket for a connect() probe: keep it
   * (its stamp) until the probe's socket says how the connect ended. The raw
   * copy is queued before TCP handles the segment, so it is read first or
   * found by draining the raw socket then. Later copies replace earlier
   * ones: a stale answer to an earlier probe that had the same port leaves
   * this connect pending, so the copy read last is the one that ended it.
   */
  private noteConnectAnswer(sock: SharedSocket, msg: NativeMessage): boolean {
    const decoded = decodeMessage(sock, msg);
    if (!decoded.ok) return false;
    const { identity } = decoded.value;
    if (identity.by !== 'tcp-seq') return false;
    const entry = this.connectProbes.get(connectKey(identity.dst, identity.flow.srcPort, identity.flow.dstPort));
    if (!entry || decoded.value.rxNs < entry.txNs) return false;
    this.counters.received++;
    const { kind } = decoded.value;
    if (kind === 'tcp-open' || kind === 'tcp-refused') {
      entry.rawAnswers ??= {};
      entry.rawAnswers[kind] = decoded.value;
    }
    return true;
  }

  /** The kernel-stamped raw copy of the answer that ended `entry`'s connect, if the raw socket has it. */
  private rawAnswerOf(entry: InFlight, kind: 'tcp-open' | 'tcp-refused'): DecodedReply | undefined {
    if (!entry.connectKey) return undefined;
    const raw = this.shared.get(`${entry.request.family}/raw-tcp`);
    if (raw) this.onMessages(raw, this.addon.drain(raw.handle));
    const answer = entry.rawAnswers?.[kind];
    return answer && answer.kind === kind && answer.kernelTime ? answer : undefined;
  }

  /** The SYN was sent again before the answer came: lost, like mtr's lost probes. */
  private resent(entry: InFlight): void {
    this.counters.resent++;
    this.finish(entry, { status: 'timeout' });
  }

  // ---- receiving ----

  private onMessages(sock: SharedSocket, msgs: NativeMessage[]): void {
    this.checkClock();
    for (const msg of msgs) {
      if (msg.kind === 'tx-stamp') {
        this.noteSendStamp(sock, msg);
        continue;
      }
      if (sock.kind === 'raw-tcp' && this.noteConnectAnswer(sock, msg)) continue;
      const m = this.registry.match(sock, msg);
      if (m) this.accept(m.probe, m.reply);
    }
  }

  /** A kernel send stamp: it becomes its probe's send time. */
  private noteSendStamp(sock: SharedSocket, msg: SendStampMessage): void {
    const entry = this.awaitingStamps.get(msg.id);
    if (!entry || entry.awaitingStamp?.sender !== sock) return;
    this.awaitingStamps.delete(msg.id);
    entry.awaitingStamp = undefined;
    if (msg.txNs === undefined) return;
    entry.txNs = msg.txNs;
    entry.kernelSendTime = true;
    this.counters.kernelSendStamps++;
  }

  /**
   * An answer came before its probe's send stamp was read (it came on
   * another socket, or in an earlier batch): read the sender's queues now.
   * Without a stamp there (the packet never reached a device: a local firewall answered it), the userland send
   * time stands.
   */
  private collectSendStamp(entry: InFlight): void {
    const awaiting = entry.awaitingStamp;
    if (!awaiting) return;
    this.onMessages(awaiting.sender, this.addon.drain(awaiting.sender.handle));
    if (entry.awaitingStamp !== awaiting) return;
    this.awaitingStamps.delete(awaiting.id);
    entry.awaitingStamp = undefined;
  }

  private accept(entry: InFlight, reply: DecodedReply, kernelRttMs?: number): void {
    this.collectSendStamp(entry);
    // Reading the sender's queue may have settled this probe (a second copy of its answer).
    if (!this.registry.has(entry)) return;
    let rttMs: number | null = kernelRttMs ?? (reply.rxNs - entry.txNs) / 1e6;
    if (rttMs > entry.request.timeoutMs) {
      // Read late, but judged by kernel time: it came after the timeout.
      this.counters.late++;
      this.finish(entry, { status: 'timeout' });
      return;
    }
    let clockStepped = entry.clockStepped;
    if (rttMs < 0) clockStepped = true;
    if (clockStepped) rttMs = null;
    this.counters.matched++;
    this.finish(entry, { status: 'reply', reply, rxNs: reply.rxNs, rttMs, clockStepped });
  }

  private finish(entry: InFlight, outcome: Partial<ProbeResult> & { status: ProbeStatus }): void {
    if (!this.registry.delete(entry)) return;
    if (entry.awaitingStamp) this.awaitingStamps.delete(entry.awaitingStamp.id);
    if (entry.ownSocket) this.addon.close(entry.socket);
    if (entry.connectKey && this.connectProbes.get(entry.connectKey) === entry)
      this.connectProbes.delete(entry.connectKey);
    const result: ProbeResult = {
      request: entry.request,
      txNs: entry.txNs,
      rttMs: null,
      key: wireKey(entry),
      ...outcome,
    };
    if (entry.kernelSendTime) result.kernelSendTime = true;
    if (!result.clockStepped) delete result.clockStepped;
    if (this.registry.size === 0) this.idle();
    entry.done(result);
  }

  // ---- timeouts, judged by kernel time ----

  private arm(entry: InFlight): void {
    entry.deadlineNs = entry.txNs + entry.request.timeoutMs * 1e6;
    this.deadlines.push(entry);
    this.schedule();
  }

  /** Nothing out: no timer may keep the process alive. */
  private idle(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.deadlines.clear();
  }

  private schedule(): void {
    let next = this.deadlines.peek();
    while (next && !this.registry.has(next)) {
      this.deadlines.pop();
      next = this.deadlines.peek();
    }
    if (!next) return;
    if (next.deadlineNs >= this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next.deadlineNs;
    const delayMs = Math.max(0, (next.deadlineNs - this.now()) / 1e6);
    this.timer = setTimeout(() => this.expire(), Math.ceil(delayMs));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    // A reply may be sitting unread because the loop was busy: read it before judging.
    this.drainAll();
    this.checkClock();
    const now = this.now();
    for (let top = this.deadlines.peek(); top && top.deadlineNs <= now; top = this.deadlines.peek()) {
      this.deadlines.pop();
      this.finish(top, { status: 'timeout' });
    }
    if (!this.closed) this.schedule();
  }

  private drainAll(): void {
    for (const s of this.shared.values()) this.onMessages(s, this.addon.drain(s.handle));
    for (const entry of [...this.registry.probes()]) {
      if (entry.ownSocket) this.onTcpMessages(entry, this.addon.drain(entry.socket));
    }
  }

  /** Wall-clock steps move kernel timestamps: flag probes out during a step and move their deadlines. */
  private checkClock(): void {
    const delta = this.clock.step();
    if (delta === 0) return;
    this.counters.clockSteps++;
    for (const entry of this.registry.probes()) {
      entry.clockStepped = true;
      entry.deadlineNs += delta;
    }
    this.deadlines.rebuild();
  }
}

/** The message of a thrown value, or its text when it has none. */
function errorText(err: unknown): string {
  const message = typeof err === 'object' && err !== null && 'message' in err ? err.message : undefined;
  return String(message ?? err);
}

/** Identity of a connect() probe's answer on the raw TCP socket. */
function connectKey(dst: string, localPort: number, remotePort: number): string {
  return `${dst}|${localPort}|${remotePort}`;
}

/** Payload of zeros sized so the whole IP packet is `size` bytes (mtr's -s). */
function probePayload(req: ProbeRequest): Uint8Array {
  const headers = (req.family === 4 ? IPV4_HEADER : IPV6_HEADER) + ICMP_OR_UDP_HEADER;
  const size = req.size ?? 64;
  return new Uint8Array(Math.max(0, size - headers));
}

/** The number a probe carried on the wire (its ICMP sequence, UDP port, TCP source port, checksum or sequence). */
function wireKey(entry: InFlight): number {
  const id = entry.identity;
  return id.by === 'tcp-socket' ? (entry.wirePort ?? -1) : wireValue(id);
}
