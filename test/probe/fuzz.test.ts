// Feeds 1,000,000 random and mutated packets to the decoder and matcher the
// engine uses (ProbeRegistry.match). Nothing may throw, and no noise may be
// attributed to a probe. A positive control runs through the same loop: one
// packet in ten is a real answer to one of our probes (it must match, counted
// exactly) or a near miss that differs from one only in what the matcher
// checks: another tracer's ICMP identifier, or the right answer arriving on
// another socket of the same kind (neither may match). Removing the
// identifier check or the socket check fails this test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorQueueMessage, NativeMessage, PacketMessage } from '../../src/native.js';
import { seededRandom } from '../../lab/sim/path.js';
import { decodeMessage, type WireIdentity } from '../../src/probe/reply.js';
import { ProbeRegistry, type ReceivingSocket, type RegisteredProbe } from '../../src/probe/registry.js';
import { echoProbe, errqueueMessage, rawEchoReply, rawTimeExceeded, tcpProbe, udpProbe } from '../../lab/packets.js';

const ITERATIONS = 1_000_000;

const sockets: ReceivingSocket[] = [
  { handle: 1, kind: 'raw', family: 4, icmpId: 0x1111 },
  { handle: 2, kind: 'raw', family: 6, icmpId: 0x1111 },
  { handle: 3, kind: 'ping', family: 4, icmpId: 0x1111 },
  { handle: 4, kind: 'ping', family: 6, icmpId: 0x1111 },
  { handle: 5, kind: 'udp', family: 4 },
  { handle: 6, kind: 'udp', family: 6 },
  { handle: 7, kind: 'tcp', family: 4 },
  { handle: 8, kind: 'tcp', family: 6 },
];

/** Sockets with no probes of their own: a right answer arriving here is someone else's. */
const idle: ReceivingSocket[] = [
  { handle: 9, kind: 'raw', family: 4, icmpId: 0x1111 },
  { handle: 10, kind: 'raw', family: 6, icmpId: 0x1111 },
  { handle: 11, kind: 'udp', family: 4 },
  { handle: 12, kind: 'udp', family: 6 },
];

const probeDst = (s: ReceivingSocket): string => (s.family === 4 ? `198.18.9.${s.handle}` : `2001:2:0:9::${s.handle}`);

interface Planted {
  sock: ReceivingSocket;
  msg: NativeMessage;
}

/** Answers to our own probes (raw ICMP, UDP error queue), each with the socket it belongs to. */
function ourAnswers(): Planted[] {
  const out: Planted[] = [];
  for (const sock of sockets) {
    const dst = probeDst(sock);
    const router = sock.family === 4 ? '198.18.1.1' : '2001:2:0:1::1';
    for (let key = 0; key < 64; key += 5) {
      if (sock.kind === 'raw') {
        out.push({ sock, msg: rawEchoReply(sock.family, dst, 0x1111, key) });
        out.push({ sock, msg: rawTimeExceeded(sock.family, router, echoProbe(sock.family, dst, 0x1111, key)) });
      } else if (sock.kind === 'udp') {
        out.push({ sock, msg: errqueueMessage(sock.family, dst, 33434 + key, router, Buffer.alloc(36)) });
      }
    }
  }
  return out;
}

/** Each answer made foreign by one thing the matcher checks. */
function nearMisses(ours: Planted[]): Planted[] {
  const out: Planted[] = [];
  for (const { sock, msg } of ours) {
    const twin = idle.find((s) => s.kind === sock.kind && s.family === sock.family);
    if (twin) out.push({ sock: twin, msg }); // the socket check
  }
  for (const sock of sockets.filter((s) => s.kind === 'raw')) {
    const dst = probeDst(sock);
    const router = sock.family === 4 ? '198.18.1.1' : '2001:2:0:1::1';
    for (let key = 0; key < 64; key += 5) {
      out.push({ sock, msg: rawEchoReply(sock.family, dst, 0x2222, key) }); // the identifier check
      out.push({ sock, msg: rawTimeExceeded(sock.family, router, echoProbe(sock.family, dst, 0x2222, key)) });
    }
  }
  return out;
}

function ourRegistry(): ProbeRegistry<RegisteredProbe> {
  const r = new ProbeRegistry<RegisteredProbe>();
  for (const s of sockets) {
    // A destination per socket: probes of two sockets must not share an identity.
    const dst = probeDst(s);
    for (let key = 0; key < 64; key++) {
      const identity: WireIdentity =
        s.kind === 'udp'
          ? { by: 'udp-port', dst, port: 33434 + key }
          : s.kind === 'tcp'
            ? { by: 'tcp-port', dst, port: 40000 + key }
            : { by: 'icmp-seq', dst, seq: key };
      r.add({ identity, socket: s.handle });
    }
  }
  return r;
}

/** Valid answers to a *foreign* tracer (identifier 0x2222, other destinations). */
function foreignCorpus(): (PacketMessage | ErrorQueueMessage)[] {
  const out: (PacketMessage | ErrorQueueMessage)[] = [];
  for (const family of [4, 6] as const) {
    const dst = family === 4 ? '198.18.7.7' : '2001:2:0:7::7';
    const router = family === 4 ? '198.18.1.1' : '2001:2:0:1::1';
    for (let seq = 0; seq < 64; seq += 7) {
      out.push(rawEchoReply(family, dst, 0x2222, seq));
      out.push(
        rawTimeExceeded(family, router, echoProbe(family, dst, 0x2222, seq), [
          { label: 16000 + seq, tc: 0, s: 1, ttl: 1 },
        ]),
      );
      out.push(
        rawTimeExceeded(family, router, udpProbe(family, dst, 40000, 33434 + seq), undefined, family === 4 ? 28 : 48),
      );
      out.push(rawTimeExceeded(family, router, tcpProbe(family, dst, 40000 + seq, 80)));
      const headerLength = family === 4 ? 20 : 40;
      out.push(errqueueMessage(family, dst, 33434 + seq, router, Buffer.alloc(36)));
      out.push(errqueueMessage(family, dst, 0, router, echoProbe(family, dst, 0x2222, seq).subarray(headerLength)));
      out.push(errqueueMessage(family, dst, 80, router, tcpProbe(family, dst, 40000 + seq, 80).subarray(headerLength)));
    }
  }
  return out;
}

test(`fuzz: ${ITERATIONS.toLocaleString('en')} random and mutated packets, no exception, nothing attributed`, () => {
  const random = seededRandom(0xf022);
  const byte = (): number => Math.floor(random() * 256);
  const registry = ourRegistry();
  const corpus = foreignCorpus();
  // Sanity: the corpus decodes (so mutations start from real packets) and matches nothing of ours.
  let decodable = 0;
  for (const m of corpus) for (const s of sockets) if (decodeMessage(s, m).ok) decodable++;
  assert.ok(decodable > corpus.length, `corpus should be decodable, got ${decodable}`);

  const ours = ourAnswers();
  const misses = nearMisses(ours);
  // Sanity: every planted answer matches, every near miss does not (checked again in the loop).
  assert.ok(ours.length >= 60 && misses.length >= 60, `${ours.length} answers, ${misses.length} near misses`);

  let attributed = 0;
  let planted = 0;
  let missesMatched = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    if (i % 10 === 9) {
      // The positive control, in the same stream as the noise.
      const pick = Math.floor(random() * (ours.length + misses.length));
      const own = pick < ours.length;
      const p = own ? ours[pick] : misses[pick - ours.length];
      assert.ok(p);
      decodeMessage(p.sock, p.msg);
      const hit = registry.match(p.sock, p.msg) !== undefined;
      if (own) {
        planted++;
        if (hit) attributed++;
      } else if (hit) missesMatched++;
      continue;
    }
    const sock = sockets[i % sockets.length]!;
    let msg: NativeMessage;
    const strategy = i % 4;
    if (strategy === 0) {
      // Pure noise, any length, with or without error-queue metadata.
      const data = Buffer.alloc(Math.floor(random() * 160));
      for (let j = 0; j < data.length; j++) data[j] = byte();
      const addr = random() < 0.5 ? '198.18.9.9' : '2001:2:0:9::9';
      const common = { data, truncated: false, rxNs: i, kernelTime: true, addr, port: byte() };
      const ee = { errno: byte(), origin: byte() % 5, type: byte(), code: byte(), info: 0, offender: '198.18.1.1' };
      msg =
        random() < 0.5
          ? { kind: 'error-queue', ...common, ...(random() < 0.5 ? { ee } : {}) }
          : { kind: 'packet', ...common };
    } else {
      // A real foreign packet with bytes flipped, cut short or extended.
      const base = corpus[Math.floor(random() * corpus.length)]!;
      const data = Buffer.from(base.data);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips && data.length; f++) data[Math.floor(random() * data.length)] = byte();
      let mutated: Buffer = data;
      if (strategy === 2) mutated = data.subarray(0, Math.floor(random() * data.length));
      if (strategy === 3 && random() < 0.3)
        mutated = Buffer.concat([data, Buffer.alloc(Math.floor(random() * 64), byte())]);
      msg =
        base.kind === 'error-queue' && base.ee && random() < 0.2
          ? { ...base, data: mutated, ee: { ...base.ee, type: byte(), code: byte() } }
          : { ...base, data: mutated };
    }
    // The decoder itself must not throw (the registry would hide it by counting).
    decodeMessage(sock, msg);
    if (registry.match(sock, msg)) attributed++;
  }
  const c = registry.counters;
  assert.ok(planted > 30_000, `${planted} answers planted`);
  assert.equal(attributed, planted, 'every planted answer of ours matches, and nothing else does');
  assert.equal(missesMatched, 0, 'no near miss (other identifier, other socket) may match');
  assert.equal(c.received, ITERATIONS);
  assert.equal(
    c.foreign + c.truncated + c.malformed + c.unsupported + planted,
    ITERATIONS,
    'every other packet is counted under one reason',
  );
});
