// `vpsline serve` with no privilege at all (uid 65534, no capabilities): it
// still serves traces, through the engine's mode ladder (ping sockets or UDP).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkoutFor } from '../../lab/checkout.js';
import { serverBase } from '../support/serve-process.js';

const NOBODY = 65534;
const skip = process.getuid?.() === 0 ? false : 'needs root to switch to uid 65534';

test('uid 65534 without capabilities: traces run on unprivileged sockets', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-serve-nobody-'));
  chmodSync(dir, 0o755);
  chownSync(dir, NOBODY, NOBODY);
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({ allow: ['127.0.0.0/8'], allowSelf: true, limits: { defaultCount: 2, interval: 0.05 } }),
  );
  const child = spawn(
    'setpriv',
    [
      '--reuid',
      String(NOBODY),
      '--regid',
      String(NOBODY),
      '--clear-groups',
      '--inh-caps=-all',
      process.execPath,
      join(checkoutFor(NOBODY), 'bin', 'vpsline.js'),
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--db',
      join(dir, 'lg.db'),
      '--config',
      config,
      '--no-dns',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: dir,
    },
  );
  try {
    const base = await serverBase(child);
    const start = await fetch(`${base}/api/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(start.status, 202);
    const { id } = (await start.json()) as { id: string };
    let doc: { status: string; report?: { vpsline: { socket: string; protocol: string }; hubs: { host: string }[] } } =
      { status: 'running' };
    for (let i = 0; i < 100 && doc.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      doc = (await (await fetch(`${base}/api/v1/traces/${id}`)).json()) as typeof doc;
    }
    assert.equal(doc.status, 'done');
    assert.notEqual(doc.report!.vpsline.socket, 'raw', 'no raw socket without CAP_NET_RAW');
    assert.equal(doc.report!.hubs.at(-1)!.host, '127.0.0.1');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
