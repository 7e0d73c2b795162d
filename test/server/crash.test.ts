// Nothing lost: finished traces and uploads survive a SIGKILL of the server
// and are served after a restart; a trace that was running when it died is
// marked "interrupted", not left running forever. Real processes, a real
// SQLite file, loopback only.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { serverBase } from '../support/serve-process.js';

const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vpsline-crash-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Start `vpsline serve` on a free loopback port; resolves with its base URL. */
function serve(config: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'lg.db'), '--config', config, '--no-dns'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return serverBase(child).then((base) => ({ child, base }));
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, init);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const postJson = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

test('kill -9, restart: every finished trace and upload is still there', async () => {
  const config = join(dir, 'config.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    config,
    JSON.stringify({
      allow: ['127.0.0.0/8'],
      allowSelf: true,
      limits: { maxPerClient: 10, maxPerTarget: 10, interval: 0.05, defaultCount: 3 },
    }),
  );
  const first = await serve(config);
  const traces: string[] = [];
  for (let i = 0; i < 5; i++) traces.push((await json(`${first.base}/api/v1/traces`, postJson({}))).body.id as string);
  for (const id of traces) {
    for (let i = 0; i < 200; i++) {
      if ((await json(`${first.base}/api/v1/traces/${id}`)).body.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const uploads: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await json(
      `${first.base}/api/v1/reports`,
      postJson({
        text: `traceroute to 198.18.9.9\n 1  198.18.1.${i + 1}  0.5 ms\n 2  59.43.1.1  10 ms\n 3  59.43.2.1  11 ms\n`,
        traceId: traces[i],
      }),
    );
    assert.equal(r.status, 201);
    uploads.push(r.body.id as string);
  }
  // One long trace still running at the moment of death.
  const running = (await json(`${first.base}/api/v1/traces`, postJson({ count: 100 }))).body.id as string;
  const before = Object.fromEntries(
    await Promise.all(traces.map(async (id) => [id, (await json(`${first.base}/api/v1/traces/${id}`)).body] as const)),
  );
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));

  const second = await serve(config);
  for (const id of traces) {
    const r = await json(`${second.base}/api/v1/traces/${id}`);
    assert.equal(r.status, 200, id);
    assert.equal(r.body.status, 'done');
    assert.deepEqual(r.body, before[id], 'the same document as before the crash');
  }
  for (const [i, id] of uploads.entries()) {
    const r = await json(`${second.base}/api/v1/reports/${id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.traceId, traces[i]);
    assert.equal(r.body.verdict, 'cn2-gia');
  }
  const died = await json(`${second.base}/api/v1/traces/${running}`);
  assert.equal(died.body.status, 'interrupted');
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});
