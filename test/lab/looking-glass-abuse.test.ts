// A hostile visitor against a listening looking glass, over real TCP on
// loopback: slow headers and slow bodies are cut off at their timeouts, one
// address cannot hold more than its share of connections, and meanwhile
// another client is still served quickly. /metrics answers loopback only.
// (Bounded: timeouts are set to a second or two for the test.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProbeEngine } from '../../src/probe/engine.js';
import { createLookingGlass, type LookingGlass } from '../../src/server/app.js';

/** Open a TCP connection; resolves once connected. */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A GET over a fresh connection from `from`; resolves with the raw response text. */
function get(port: number, path: string, from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = connect({ host: '127.0.0.1', port, localAddress: from }, () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no answer in 5 s'));
    }, 5000);
    s.on('data', (d) => {
      text += d;
    });
    s.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    s.once('error', reject);
  });
}

/** Resolves with the ms until the server closes `s` (or rejects after `limitMs`). */
function closedWithin(s: Socket, limitMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    s.on('data', () => {});
    s.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
    s.on('error', () => {});
  });
}

describe('abuse limits of a listening looking glass', () => {
  let dir: string;
  let engine: ProbeEngine;
  let lg: LookingGlass;
  let port: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-abuse-'));
    engine = new ProbeEngine();
    lg = await createLookingGlass({
      db: join(dir, 'lg.db'),
      engine,
      dns: false,
      metricsAllow: ['127.0.0.0/8'],
      limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, maxConnectionsPerClient: 8 },
    });
    await lg.app.listen({ host: '127.0.0.1', port: 0 });
    const address = lg.app.server.address();
    assert.ok(address && typeof address === 'object');
    port = address.port;
  });
  after(async () => {
    await lg.close();
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('slow headers are cut off at the headers timeout', async () => {
    const s = await open(port);
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 300);
    try {
      const ms = await closedWithin(s, 10_000);
      assert.ok(ms < 5000, `closed after ${ms.toFixed(0)} ms`);
    } finally {
      clearInterval(drip);
    }
  });

  test('a slow body is cut off at the request timeout', async () => {
    const s = await open(port);
    s.write(
      'POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n',
    );
    const drip = setInterval(() => s.writable && s.write('{"text":"'.slice(0, 1)), 300);
    try {
      const ms = await closedWithin(s, 10_000);
      assert.ok(ms < 6000, `closed after ${ms.toFixed(0)} ms`);
    } finally {
      clearInterval(drip);
    }
  });

  test('one address holds at most its share of connections; another address is still served', async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 20; i++) held.push(await open(port));
      // Connections beyond the cap are closed by the server at once.
      await new Promise((r) => setTimeout(r, 500));
      const alive = held.filter((s) => !s.destroyed && s.readyState === 'open');
      assert.ok(alive.length <= 8, `${alive.length} of 20 connections stayed open`);
      // Another address (127.0.0.2) is served meanwhile, at once.
      const t0 = performance.now();
      const answer = await get(port, '/healthz', '127.0.0.2');
      assert.match(answer, /^HTTP\/1\.1 200 /);
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      for (const s of held) s.destroy();
    }
  });

  test('/metrics answers addresses in --metrics-allow only', async () => {
    await new Promise((r) => setTimeout(r, 200));
    assert.match(await get(port, '/metrics', '127.0.0.3'), /^HTTP\/1\.1 200 /);
    const refused = await lg.app.inject({ url: '/metrics', remoteAddress: '203.0.113.9' });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.body, /metrics-allow/);
  });
});
