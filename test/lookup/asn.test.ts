import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { answer, questionName } from '../../lab/dns-server.js';
import { AsnLookup, cymruName, hasOriginAs, parseCymru } from '../../src/lookup/asn.js';

test('Team Cymru query names: reversed octets, reversed nibbles for IPv6', () => {
  assert.equal(cymruName('59.43.1.2'), '2.1.43.59.origin.asn.cymru.com');
  assert.equal(
    cymruName('2001:2::1'),
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.origin6.asn.cymru.com',
  );
});

test('the first origin AS of an answer', () => {
  assert.equal(parseCymru('4809 | 59.43.0.0/16 | CN | apnic | 2000-10-12'), '4809');
  assert.equal(parseCymru('4134 4809 | 1.2.3.0/24 | CN | apnic |'), '4134');
  assert.equal(parseCymru('NA | x'), null);
});

test('addresses that cannot have an origin AS are never asked about', async () => {
  const asked: string[] = [];
  const server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    asked.push(questionName(msg) ?? '?');
    const reply = answer({ listen: '', txt: { [cymruName('198.18.0.1')]: '64500 | 198.18.0.0/15 | ZZ | lab |' } }, msg);
    if (reply) server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  try {
    const lookup = new AsnLookup({ servers: [`127.0.0.1:${server.address().port}`], timeoutMs: 1000 });
    const special = ['127.0.0.1', '10.1.2.3', '192.168.0.1', '100.64.0.1', '169.254.0.1', '::1', 'fe80::1', 'fd00::1'];
    for (const a of [...special, '198.18.0.1']) lookup.request(a);
    await lookup.settle();
    assert.deepEqual(asked, [cymruName('198.18.0.1')]);
    for (const a of special) assert.equal(lookup.asOf(a), null, a);
    assert.equal(lookup.asOf('198.18.0.1'), '64500');
    assert.equal(hasOriginAs('::ffff:10.0.0.1'), false);
    assert.equal(hasOriginAs('59.43.1.2'), true);
  } finally {
    server.close();
  }
});
