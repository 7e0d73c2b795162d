// The addon polls on the event loop of the thread that opened the socket, so
// engines work inside worker threads, several at once. Loopback only.
// Workers load the compiled package (dist/, built by `npm test` first), as a
// user's program would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

const worker = `
  const { parentPort } = require('node:worker_threads');
  const engineUrl = ${JSON.stringify(new URL('../../dist/probe/engine.js', import.meta.url).href)};
  import(engineUrl).then(async ({ ProbeEngine }) => {
    const engine = new ProbeEngine();
    engine.prepare(4, 'udp');
    await engine.ready();
    const results = [];
    for (let i = 0; i < 20; i++) {
      const probe = { family: 4, protocol: 'udp', dst: '127.0.0.1', ttl: 64, timeoutMs: 1000 };
      results.push(await engine.probe(probe));
    }
    parentPort.postMessage({
      replies: results.filter((r) => r.status === 'reply').length,
      kernel: results.every((r) => r.reply && r.reply.kernelTime),
      counters: engine.counters,
    });
    engine.close();
  });
`;

test('probe engines in three worker threads at once each get their own replies', async () => {
  const runs = await Promise.all(
    [1, 2, 3].map(
      () =>
        new Promise<{ replies: number; kernel: boolean; counters: { foreign: number; matched: number } }>(
          (resolve, reject) => {
            const w = new Worker(worker, { eval: true });
            w.once('message', (m) => {
              resolve(m);
              void w.terminate();
            });
            w.once('error', reject);
          },
        ),
    ),
  );
  for (const r of runs) {
    assert.equal(r.replies, 20);
    assert.equal(r.kernel, true, 'kernel receive stamps in a worker too');
    assert.equal(r.counters.matched, 20);
    assert.equal(r.counters.foreign, 0);
  }
});
