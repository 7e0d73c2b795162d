// Looking-glass throughput on loopback: uploads (parse + classify + store),
// reading a stored report, and opening event streams. HTTP over real sockets
// to a server in this process; the one trace it runs goes to 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLookingGlass } from '../src/server/app.js';

const UPLOAD = [
  'HOST: home                      Loss%   Snt   Last   Avg  Best  Wrst StDev',
  ...Array.from({ length: 15 }, (_, i) => `  ${i + 1}.|-- 59.43.${i}.1   0.0%    10   10.1  10.2  10.0  10.5   0.1`),
].join('\n');

async function pool(total: number, concurrency: number, job: () => Promise<void>): Promise<number> {
  let left = total;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await job();
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

export async function lookingGlassBench(row: (name: string, value: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-bench-'));
  const lg = await createLookingGlass({
    db: join(dir, 'lg.db'),
    dns: false,
    allow: ['127.0.0.0/8'],
    allowSelf: true,
    limits: {
      uploadsPerClientPerHour: 1e9,
      uploadsPerNetworkPerHour: 1e9,
      maxStreams: 10_000,
      maxStreamsPerClient: 10_000,
      // Every client of the benchmark comes from one address.
      maxConnectionsPerClient: 100_000,
      requestsPerClientPerMinute: 100_000,
      defaultCount: 2,
      interval: 0.05,
    },
  });
  try {
    await lg.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = lg.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${addr.port}`;
    const post = (url: string, body: unknown): Promise<Response> =>
      fetch(`${base}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const uploads = await pool(3000, 32, async () => {
      const r = await post('/api/v1/reports', { text: UPLOAD });
      if (r.status !== 201) throw new Error(`upload: ${r.status}`);
      await r.arrayBuffer();
    });
    row(
      'looking glass: uploads (15-hop mtr -r, classify, SQLite)',
      `${Math.round(uploads).toLocaleString('en')} req/s`,
    );
    const { id } = (await (await post('/api/v1/traces', {})).json()) as { id: string };
    while (((await (await fetch(`${base}/api/v1/traces/${id}`)).json()) as { status: string }).status === 'running')
      await new Promise((r) => setTimeout(r, 50));
    const reads = await pool(10_000, 32, async () => {
      const r = await fetch(`${base}/api/v1/traces/${id}`);
      if (r.status !== 200) throw new Error(`read: ${r.status}`);
      await r.arrayBuffer();
    });
    row('looking glass: GET a stored trace (mtr JSON + verdict)', `${Math.round(reads).toLocaleString('en')} req/s`);
    const streams = await pool(3000, 64, async () => {
      const r = await fetch(`${base}/api/v1/traces/${id}/events`);
      const text = await r.text();
      if (!text.includes('event: end')) throw new Error('stream without end');
    });
    row('looking glass: event streams opened and read to the end', `${Math.round(streams).toLocaleString('en')} /s`);
  } finally {
    await lg.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
