// The looking glass behind a reverse proxy (nginx, Caddy), in process: the proxy
// connects from a --trust-proxy address with Host 127.0.0.1:8080 and passes the
// browser's host in X-Forwarded-Host. POSTs from the page are accepted there;
// the same headers from anyone else are cross-site. whoami names the host the
// visitor used, never the proxy's upstream address.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProbeEngine } from '../../src/probe/engine.js';
import { createLookingGlass, type LookingGlass } from '../../src/server/app.js';
import { scratchDir } from '../support/scratch.js';

const PROXY = '127.0.0.1';
const STRANGER = '127.0.0.3';
const MTR_REPORT = [
  'Start: 2026-11-28T04:38:04+0000',
  'HOST: home                      Loss%   Snt   Last   Avg  Best  Wrst StDev',
  '  1.|-- 192.168.1.1               0.0%    10    0.5   0.5   0.4   0.6   0.1',
  '  2.|-- 59.43.1.1                 0.0%    10   10.1  10.2  10.0  10.5   0.1',
].join('\n');
// What nginx and Caddy send upstream for a page at http://lg.example/.
const PROXIED = { host: '127.0.0.1:8080', 'x-forwarded-host': 'lg.example', 'x-forwarded-for': '203.0.113.9' };

describe('looking glass behind a reverse proxy', () => {
  let engine: ProbeEngine;
  let lg: LookingGlass;
  let named: LookingGlass;
  before(async () => {
    const dir = scratchDir('vpsline-lg-proxy-');
    engine = new ProbeEngine();
    const common = { engine, dns: false, trustProxy: [`${PROXY}/32`, '::1'] };
    lg = await createLookingGlass({ ...common, db: join(dir, 'lg.db') });
    named = await createLookingGlass({ ...common, db: join(dir, 'named.db'), publicHost: 'lg.example.com' });
  });
  after(async () => {
    await lg.close();
    await named.close();
    engine.close();
  });

  const upload = (remoteAddress: string, headers: Record<string, string>) =>
    lg.app.inject({
      method: 'POST',
      url: '/api/v1/reports',
      payload: { text: MTR_REPORT },
      headers: { origin: 'http://lg.example', ...headers },
      remoteAddress,
    });
  const serverOf = async (remoteAddress: string, headers: Record<string, string>, app = lg) => {
    const r = await app.app.inject({ url: '/api/v1/whoami', headers, remoteAddress });
    assert.equal(r.statusCode, 200);
    return (r.json() as { server: string }).server;
  };

  test("a POST from the page through a trusted proxy is accepted: its X-Forwarded-Host is the browser's", async () => {
    const r = await upload(PROXY, PROXIED);
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(await serverOf(PROXY, PROXIED), 'lg.example');
    // The same through an IPv6 proxy address in the list.
    assert.equal((await upload('::1', PROXIED)).statusCode, 201);
  });

  test('the same headers from an address that is no trusted proxy: cross-site, and whoami names Host', async () => {
    const r = await upload(STRANGER, PROXIED);
    assert.equal(r.statusCode, 403, r.body);
    assert.equal((r.json() as { code: string }).code, 'cross-site');
    assert.equal(await serverOf(STRANGER, PROXIED), '127.0.0.1');
  });

  test('a trusted proxy: the forwarded host wins over Host for the Origin check too', async () => {
    // The page was http://lg.example; an Origin matching only the upstream Host is another site.
    const r = await upload(PROXY, { ...PROXIED, origin: 'http://127.0.0.1:8080' });
    assert.equal(r.statusCode, 403, r.body);
    // A proxy on another port passes it along; the Origin carries it too.
    const port = { ...PROXIED, 'x-forwarded-host': 'lg.example:8443', origin: 'https://lg.example:8443' };
    assert.equal((await upload(PROXY, port)).statusCode, 201);
    assert.equal(await serverOf(PROXY, port), 'lg.example');
    // Without X-Forwarded-Host a trusted proxy is compared with Host, as a direct visitor is.
    const plain = { host: 'lg.example', 'x-forwarded-for': '203.0.113.9' };
    assert.equal((await upload(PROXY, plain)).statusCode, 201);
    assert.equal(await serverOf(PROXY, plain), 'lg.example');
  });

  test('whoami: the first forwarded value, no port, no IPv6 brackets; --public-host first', async () => {
    assert.equal(await serverOf(PROXY, { ...PROXIED, 'x-forwarded-host': 'lg.example, inner.example' }), 'lg.example');
    assert.equal(await serverOf(PROXY, { ...PROXIED, 'x-forwarded-host': '[2001:2::1]:8080' }), '2001:2::1');
    assert.equal(await serverOf(PROXY, { ...PROXIED, 'x-forwarded-host': '198.18.3.2' }), '198.18.3.2');
    assert.equal(await serverOf(STRANGER, { host: '[2001:2::1]:8080' }), '2001:2::1');
    assert.equal(await serverOf(STRANGER, { host: 'LG.example:80' }), 'LG.example');
    assert.equal(await serverOf(PROXY, PROXIED, named), 'lg.example.com');
    assert.equal(await serverOf(STRANGER, { host: 'other.example' }, named), 'lg.example.com');
  });

  test('junk in X-Forwarded-Host or Host never reaches the page', async () => {
    for (const junk of [
      '<img src=x>',
      'lg.example/path',
      'a b',
      'lg.example:80x',
      '[::1',
      '-lead.example',
      'x'.repeat(300),
    ]) {
      // From the proxy: the junk is passed over for Host.
      assert.equal(await serverOf(PROXY, { ...PROXIED, 'x-forwarded-host': junk }), '127.0.0.1', junk);
      // Junk in Host as well: the connection's own address (none under inject).
      assert.equal(await serverOf(STRANGER, { host: junk }), '', junk);
      const r = await upload(PROXY, { host: junk, 'x-forwarded-host': junk, origin: `http://${junk}` });
      assert.equal(r.statusCode, 403, `${junk}: ${r.body}`);
    }
  });
});
