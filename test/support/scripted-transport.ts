// A transport with the native addon's shape and no sockets: it answers every
// echo request the way a made-up path would (routers at TTL 1 and 2, the
// destination from TTL 3 by default), at RTTs the script chooses, and loses
// the probes it is told to. The engine, registry, decoder and statistics run
// for real on top of it.
import { echoProbe, rawEchoReply, rawTimeExceeded } from '../../lab/packets.js';
import type { NativeMessage, NativeProbe } from '../../src/native.js';

export const DST = '198.18.5.5';
export const router = (ttl: number): string => `198.18.0.${10 + ttl}`;
/** The scripted round trip at each TTL, ms. */
export const rttAt = (ttl: number): number => 10 * ttl + 0.25;

const nowNs = (): number => Number(process.hrtime.bigint());

/**
 * The addon's shape, no sockets: sends are answered by the script, losses too.
 * `sendDelayMs`: the packet leaves that long after the userland send time (a
 * thread preempted between reading the clock and the send call); answers are
 * timed from when it left. `stamps`: the kernel's send stamp comes in the
 * answer's batch, ahead of it, or waits in the sender's queue for a drain.
 */
export function scriptedTransport(
  opts: {
    loseEvery?: number;
    /** Lose this send (1-based count of sends so far, and its TTL). */
    lose?: (n: number, ttl: number) => boolean;
    /** The TTL from which the destination answers (default 3). */
    destinationTtl?: number;
    sendDelayMs?: number;
    stamps?: 'batch' | 'drain';
  } = {},
) {
  const callbacks = new Map<number, (msgs: NativeMessage[]) => void>();
  const queued = new Map<number, NativeMessage[]>();
  const sent: { handle: number; ttl: number; id: number; seq: number }[] = [];
  let next = 1;
  const transport: NativeProbe = {
    open(_family, _kind, onMessages) {
      const h = next++;
      callbacks.set(h, onMessages);
      return h;
    },
    close(handle) {
      callbacks.delete(handle);
    },
    bind() {},
    bindDevice() {},
    localAddress: () => ({ addr: '0.0.0.0', port: 4242 }),
    send(handle, packet, addr, _port, ttl, _tos, stampId) {
      const txNs = nowNs();
      const leftNs = txNs + (opts.sendDelayMs ?? 0) * 1e6;
      const stamped = opts.stamps !== undefined;
      // Raw ICMPv4 sockets send the ICMP message; id and sequence are bytes 4-7.
      const id = packet.readUInt16BE(4);
      const seq = packet.readUInt16BE(6);
      sent.push({ handle, ttl, id, seq });
      const stamp: NativeMessage[] = stamped ? [{ kind: 'tx-stamp', id: stampId, txNs: leftNs }] : [];
      if (opts.stamps === 'drain') queued.set(handle, [...(queued.get(handle) ?? []), ...stamp]);
      if (opts.loseEvery && sent.length % opts.loseEvery === 0) return { txNs, stamped };
      if (opts.lose?.(sent.length, ttl)) return { txNs, stamped };
      const destinationTtl = opts.destinationTtl ?? 3;
      const reply =
        ttl >= destinationTtl
          ? rawEchoReply(4, addr, id, seq)
          : rawTimeExceeded(4, router(ttl), echoProbe(4, addr, id, seq, ttl));
      const deliver = callbacks.get(handle);
      const answer: NativeMessage = {
        ...reply,
        rxNs: leftNs + rttAt(Math.min(ttl, destinationTtl)) * 1e6,
        kernelTime: true,
      };
      setImmediate(() => deliver?.([...(opts.stamps === 'batch' ? stamp : []), answer]));
      return { txNs, stamped };
    },
    connect: () => {
      throw new Error('no TCP in this script');
    },
    drain: (handle) => {
      const waiting = queued.get(handle) ?? [];
      queued.delete(handle);
      return waiting;
    },
    setIcmpFilter() {},
    setReceiveBuffer() {},
    ref() {},
    routeSource: () => '198.18.0.2',
    now: nowNs,
    clockOffset: () => 0,
    adopt: () => {
      throw new Error('no inherited sockets here');
    },
    fd: () => -1,
  };
  return { transport, sent };
}
