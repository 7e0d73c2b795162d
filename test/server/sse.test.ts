// The event stream's backpressure, over a real socket on loopback: a viewer
// that stops reading does not make the server buffer every event. While the
// socket is full only the newest event of each name waits; when the viewer
// reads again it gets that newest one, then the end, in order.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { openEventStream } from '../../src/server/sse.js';

const EVENTS = 3000;
/** About 8 KB each: 24 MB in all, far beyond any socket buffer. */
const filler = 'x'.repeat(8000);

describe('event stream backpressure', () => {
  test('a viewer that stops reading gets the newest event and the end, not every event', async () => {
    let peakBuffered = 0;
    let sent = 0;
    const server = createServer((_req, res: ServerResponse) => {
      const stream = openEventStream(res, () => {});
      const pump = (): void => {
        for (let i = 0; i < 100 && sent < EVENTS; i++, sent++) {
          stream.send('progress', { n: sent, filler });
          peakBuffered = Math.max(peakBuffered, res.writableLength);
        }
        if (sent < EVENTS) setImmediate(pump);
        else {
          stream.send('end', { n: sent });
          stream.end();
        }
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // Read nothing until the server has sent every event.
    socket.pause();
    while (sent < EVENTS) await new Promise((r) => setTimeout(r, 10));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.resume();
    await new Promise((resolve) => socket.on('end', resolve));
    server.close();
    const text = Buffer.concat(chunks).toString();
    const events = [...text.matchAll(/event: (\w+)\ndata: (\{.*?\})\n\n/g)].map((m) => ({
      name: m[1],
      n: (JSON.parse(m[2] ?? '{}') as { n: number }).n,
    }));
    const progress = events.filter((e) => e.name === 'progress');
    assert.ok(progress.length < EVENTS / 10, `${progress.length} of ${EVENTS} progress events reached the viewer`);
    assert.equal(progress.at(-1)?.n, EVENTS - 1, 'the newest one among them');
    assert.deepEqual(events.at(-1), { name: 'end', n: EVENTS }, 'the end comes last');
    assert.ok(
      progress.every((e, i) => i === 0 || e.n > (progress[i - 1]?.n ?? -1)),
      'in order',
    );
    // What waited in the server's buffer stayed near one socket buffer, not 24 MB.
    assert.ok(peakBuffered < 1024 * 1024, `${peakBuffered} bytes buffered at most`);
  });
});
