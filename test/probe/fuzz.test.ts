// Feeds 1,000,000 random and mutated packets to the decoder and matcher the
// engine uses. Nothing may throw, and nothing may be attributed to a probe:
// the registry's probes are ours (identifier 0x1111, destinations *.9.9),
// while every corpus packet answers someone else's probe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NativeMessage } from '../../src/native.js';
import { seededRandom } from '../../lab/sim/path.js';
import { decodeMessage } from '../../src/probe/reply.js';
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

function ourRegistry(): ProbeRegistry<RegisteredProbe> {
  const r = new ProbeRegistry<RegisteredProbe>();
  for (const s of sockets) {
    // A destination per socket: probes of two sockets must not share an identity.
    const dst = s.family === 4 ? `198.18.9.${s.handle}` : `2001:2:0:9::${s.handle}`;
    const protocol = s.kind === 'udp' ? 'udp' : s.kind === 'tcp' ? 'tcp' : 'icmp';
    for (let key = 0; key < 64; key++)
      r.add({
        protocol,
        dst,
        key: protocol === 'udp' ? 33434 + key : protocol === 'tcp' ? 40000 + key : key,
        socket: s.handle,
      });
  }
  return r;
}

/** Valid answers to a *foreign* tracer (identifier 0x2222, other destinations). */
function foreignCorpus(): NativeMessage[] {
  const out: NativeMessage[] = [];
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

  let attributed = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const sock = sockets[i % sockets.length]!;
    let msg: NativeMessage;
    const strategy = i % 4;
    if (strategy === 0) {
      // Pure noise, any length, with or without error-queue metadata.
      const data = Buffer.alloc(Math.floor(random() * 160));
      for (let j = 0; j < data.length; j++) data[j] = byte();
      msg = { data, rxNs: i, kernelTime: true, addr: random() < 0.5 ? '198.18.9.9' : '2001:2:0:9::9', port: byte() };
      if (random() < 0.5)
        msg.ee = { errno: byte(), origin: byte() % 5, type: byte(), code: byte(), info: 0, offender: '198.18.1.1' };
      msg.errqueue = random() < 0.5;
    } else {
      // A real foreign packet with bytes flipped, cut short or extended.
      const base = corpus[Math.floor(random() * corpus.length)]!;
      const data = Buffer.from(base.data!);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips && data.length; f++) data[Math.floor(random() * data.length)] = byte();
      let mutated: Buffer = data;
      if (strategy === 2) mutated = data.subarray(0, Math.floor(random() * data.length));
      if (strategy === 3 && random() < 0.3)
        mutated = Buffer.concat([data, Buffer.alloc(Math.floor(random() * 64), byte())]);
      msg = { ...base, data: mutated };
      if (base.ee && random() < 0.2) msg.ee = { ...base.ee, type: byte(), code: byte() };
    }
    // The decoder itself must not throw (the registry would hide it by counting).
    decodeMessage(sock, msg);
    if (registry.match(sock, msg)) attributed++;
  }
  const c = registry.counters;
  assert.equal(attributed, 0, 'no packet may be attributed to a probe');
  assert.equal(c.received, ITERATIONS);
  assert.equal(c.matched, 0);
  assert.equal(
    c.foreign + c.truncated + c.malformed + c.unsupported,
    ITERATIONS,
    'every packet is counted under one reason',
  );
});
