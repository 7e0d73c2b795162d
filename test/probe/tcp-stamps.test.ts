// TCP probes on loopback: the open port's SYN-ACK and the closed port's RST
// (which comes back inside connect() itself) are the answer packets' own
// kernel stamps when a raw TCP socket could be opened (CAP_NET_RAW), and the
// mode says so when it could not.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ProbeEngine, type ProbeMode } from '../../src/probe/engine.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    }),
  );
}

describe('TCP probe timing on loopback', () => {
  let engine: ProbeEngine;
  let mode: ProbeMode;
  // A server that closes at once: its FIN can come before the connect result is read.
  const server = createServer((s) => s.destroy());
  let open = 0;
  let closed = 0;

  before(async () => {
    engine = new ProbeEngine();
    mode = engine.prepare(4, 'tcp');
    await engine.ready();
    open = await listen(server);
    const gone = createServer();
    closed = await listen(gone);
    await new Promise((resolve) => gone.close(resolve));
  });
  after(() => {
    engine.close();
    server.close();
  });

  for (const which of ['open', 'closed'] as const) {
    test(`${which} port: one reply per probe, from the answer packet when raw sockets are there`, async () => {
      const raw = mode.fallbacks.length === 0;
      if (!raw) assert.match(mode.fallbacks.join(' '), /CAP_NET_RAW/);
      for (let i = 0; i < 20; i++) {
        const port = which === 'open' ? open : closed;
        const r = await engine.probe({ family: 4, protocol: 'tcp', dst: '127.0.0.1', port, ttl: 64, timeoutMs: 1000 });
        assert.equal(r.status, 'reply', `probe ${i}: ${r.status}`);
        assert.equal(r.reply?.kind, which === 'open' ? 'tcp-open' : 'tcp-refused');
        assert.ok(r.rttMs !== null && r.rttMs >= 0 && r.rttMs < 50, `RTT ${r.rttMs} ms on loopback`);
        if (raw) {
          assert.equal(r.reply?.kernelTime, true);
          // Only a received packet has a TTL: TCP's own estimate and a read time have none.
          assert.equal(r.reply?.replyTtl, 64);
        }
      }
      assert.equal(engine.counters.resent, 0);
    });
  }
});
