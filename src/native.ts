// Typed face of the C addon (native/*.c). Nothing here does work of its own.
import { createRequire } from 'node:module';
import { VpslineError } from './errors.js';

/** Socket kinds, numbered as the addon expects them. */
export const SocketKind = { raw: 0, ping: 1, udp: 2, tcp: 3, 'raw-udp': 4, 'raw-tcp': 5 } as const;
export type SocketKindName = keyof typeof SocketKind;

/** Extended error from the error queue (struct sock_extended_err). */
export interface NativeExtendedError {
  errno: number;
  /** 2 = ICMP, 3 = ICMPv6 (SO_EE_ORIGIN_*) */
  origin: number;
  type: number;
  code: number;
  info: number;
  /** The router that sent the ICMP error (SO_EE_OFFENDER). */
  offender?: string;
  /** RFC 4884: where extensions start in the quoted payload (IP_RECVERR_RFC4884). */
  extensionOffset?: number;
}

/** When a message was received: ns on the addon's clock scale, a kernel stamp when `kernelTime`. */
interface Received {
  rxNs: number;
  kernelTime: boolean;
}

/** A packet read from a socket's normal queue: an echo reply, or any packet a raw socket sees. */
export interface PacketMessage extends Received {
  kind: 'packet';
  data: Buffer;
  truncated: boolean;
  /** The sender (raw IPv4 sockets: also in the IP header). */
  addr?: string;
  port?: number;
  /** TTL / hop limit of the received packet. */
  ttl?: number;
}

/** An ICMP error the kernel queued for a packet we sent (MSG_ERRQUEUE). */
export interface ErrorQueueMessage extends Received {
  kind: 'error-queue';
  /** The quoted part of our packet. */
  data: Buffer;
  truncated: boolean;
  /** The original destination (and port) of the packet the error answers. */
  addr?: string;
  port?: number;
  ttl?: number;
  ee?: NativeExtendedError;
  /** TCP probe sockets: how often the kernel has sent the SYN again so far (tcpi_total_retrans); -1 unknown. */
  retransmits?: number;
}

/** How a TCP probe socket's connect() ended. Read when it ended: never a kernel stamp. */
export interface ConnectMessage extends Received {
  kind: 'connect';
  result: 'open' | 'refused' | 'error';
  /** open: the kernel's own SYN -> SYN-ACK time (tcpi_rtt, µs). */
  tcpRttUs?: number;
  /** refused or error: the socket's error (0: taken already). */
  errno?: number;
  /** How often the kernel has sent the SYN again so far (tcpi_total_retrans); -1 unknown. */
  retransmits: number;
}

/**
 * The kernel's send stamp of a packet sent under `id` (SO_TIMESTAMPING's
 * TX_SCHED, from the error queue): when the packet was handed to the device's
 * queue. No `txNs` when the message holds no stamp.
 */
export interface SendStampMessage {
  kind: 'tx-stamp';
  id: number;
  txNs?: number;
}

/** One message from a socket: what each kind carries, and nothing else. */
export type NativeMessage = PacketMessage | ErrorQueueMessage | ConnectMessage | SendStampMessage;

export interface NativeProbe {
  open(family: 4 | 6, kind: number, onMessages: (msgs: NativeMessage[]) => void): number;
  close(handle: number): void;
  bind(handle: number, addr: string, port: number): void;
  /** SO_BINDTODEVICE: one interface only. */
  bindDevice(handle: number, name: string): void;
  localAddress(handle: number): { addr: string; port: number };
  /**
   * Returns the send time (ns) read in native code right before sendmsg, and
   * `stamped` when the packet was sent under `stampId` for a kernel send
   * stamp (a SendStampMessage on this socket; Linux >= 6.13).
   */
  send(
    handle: number,
    packet: Buffer,
    addr: string,
    port: number,
    ttl: number,
    tos: number,
    stampId: number,
  ): { txNs: number; stamped: boolean };
  connect(handle: number, addr: string, port: number, ttl: number, tos: number): { txNs: number; errno: number };
  drain(handle: number): NativeMessage[];
  setIcmpFilter(handle: number, allowedTypes: number[]): void;
  setReceiveBuffer(handle: number, bytes: number): void;
  ref(handle: number, keepAlive: boolean): void;
  /** The source address the kernel would use toward `addr` (nothing is sent). */
  routeSource(family: 4 | 6, addr: string): string;
  now(): number;
  clockOffset(): number;
  /** Take over a socket inherited across execve (checked to be of that family and kind). */
  adopt(fd: number, family: 4 | 6, kind: number, onMessages: (msgs: NativeMessage[]) => void): number;
  /** The descriptor behind a handle. */
  fd(handle: number): number;
}

/** The privilege boundary (native/privileges.c); only the CLI's commands use it. */
export interface NativePrivileges {
  lookupUser(name: string): { uid: number; gid: number } | null;
  /**
   * Give up the uid (unless `uid` is -1), every capability and the bounding
   * set, set no_new_privs, keep `keepFds` open and execve. Returns only by
   * throwing.
   */
  dropPrivilegesAndExec(
    uid: number,
    gid: number,
    keepFds: number[],
    file: string,
    argv: string[],
    envp: string[],
  ): never;
}

/** Errors the addon throws carry the errno name as `code`. */
export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isNativeError(err: unknown): err is NativeError {
  return err instanceof Error && 'errno' in err && typeof err.errno === 'number';
}

let loaded: (NativeProbe & NativePrivileges) | undefined;

/** Load the addon once; a missing build gets an error that says how to build it. */
export function native(): NativeProbe & NativePrivileges {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    // The addon's shape is declared above; require() cannot know it.
    loaded = require('../build/Release/vpsline_probe.node') as NativeProbe & NativePrivileges;
  } catch (err) {
    throw new VpslineError(
      'EVPSLINE_NO_ADDON',
      'the vpsline native probe addon is not built (build/Release/vpsline_probe.node). ' +
        'Run `npm install` (or `npm run install`) in the vpsline package to build it; ' +
        'it needs make, a C compiler and python3.',
      1,
      { cause: err },
    );
  }
  return loaded;
}
