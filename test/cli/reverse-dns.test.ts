// Reverse DNS as `vpsline mtr -b` uses it: the hosts file first (as getnameinfo
// and mtr read it), then DNS through c-ares with a timeout. Only loopback servers:
// a silent one (a UDP socket that never answers) and a closed port.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ReverseDns } from '../../src/lookup/reverse-dns.js';

describe('reverse DNS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-hosts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(
    hostsFile,
    [
      '# comment 198.18.0.1 nobody',
      '198.18.0.9   nine.lab nine   # the first name counts',
      '198.18.0.9   second.lab',
      '2001:2::9 v6.lab',
      '',
    ].join('\n'),
  );

  it('names from the hosts file, first name of the first line, no query sent', async () => {
    const dns = new ReverseDns({ hostsFile, servers: ['127.0.0.1:9'], timeoutMs: 500 });
    assert.equal(dns.nameOf('198.18.0.9'), undefined); // starts the lookup
    assert.equal(dns.nameOf('2001:2::9'), undefined);
    await dns.settle();
    assert.equal(dns.nameOf('198.18.0.9'), 'nine.lab');
    assert.equal(dns.nameOf('2001:2::9'), 'v6.lab');
  });

  it('a server that never answers is given up at the timeout, and nothing waits on it', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    let queries = 0;
    silent.on('message', () => queries++);
    try {
      const dns = new ReverseDns({ hostsFile, servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 300 });
      const t0 = performance.now();
      dns.request('198.18.0.77');
      await dns.settle();
      const waited = performance.now() - t0;
      assert.equal(dns.nameOf('198.18.0.77'), null);
      assert.ok(dns.gaveUp('198.18.0.77'));
      assert.equal(queries, 1, 'one query, to the server given');
      assert.ok(waited < 2000, `settle waited ${waited} ms`);
    } finally {
      silent.close();
    }
  });
});
