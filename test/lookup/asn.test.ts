import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cymruName, parseCymru } from '../../src/lookup/asn.js';

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
