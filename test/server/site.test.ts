// What the page is told about the server: the operator's words, its addresses
// with their AS (from the shipped dataset; looked up, never contacted), the
// other family's host name, and the choices a visitor has.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ProbeEngine } from '../../src/probe/engine.js';
import { createLookingGlass } from '../../src/server/app.js';
import { scratchDir } from '../support/scratch.js';

describe('whoami: the server as the page shows it', () => {
  test("the operator's facts, the addresses' AS, the choices within the server's limits", async () => {
    const engine = new ProbeEngine();
    const lg = await createLookingGlass({
      db: join(scratchDir('vpsline-site-'), 'lg.db'),
      engine,
      dns: false,
      limits: { maxCount: 30, defaultCount: 5 },
      site: {
        name: 'lax-1',
        location: 'Los Angeles',
        description: 'CN2 GIA both ways, says the seller',
        addresses: ['59.43.0.1', '202.97.1.1'],
        hosts: { v6: 'lg6.example.com' },
      },
    });
    try {
      const me = (await lg.app.inject({ url: '/api/v1/whoami', remoteAddress: '127.0.0.1' })).json();
      assert.deepEqual(me.site.addresses, [
        { address: '59.43.0.1', asn: 4809, asName: me.site.addresses[0].asName },
        { address: '202.97.1.1', asn: 4134, asName: me.site.addresses[1].asName },
      ]);
      assert.match(me.site.addresses[0].asName, /\S/, 'the AS has its name from the dataset');
      assert.equal(me.site.name, 'lax-1');
      assert.equal(me.site.location, 'Los Angeles');
      assert.deepEqual(me.site.hosts, { v6: 'lg6.example.com' });
      assert.deepEqual(me.choices, { protocols: ['icmp', 'udp', 'tcp', 'auto'], maxCount: 30, defaultCount: 5 });
      assert.equal(me.returnRoutes, false, 'no return routes configured here');
      // A count over the server's limit is refused, not cut down.
      const over = await lg.app.inject({
        method: 'POST',
        url: '/api/v1/traces',
        payload: { count: 31 },
        remoteAddress: '127.0.0.1',
      });
      assert.equal(over.statusCode, 400);
      assert.equal(engine.counters.sent, 0);
    } finally {
      await lg.close();
      engine.close();
    }
  });
});
