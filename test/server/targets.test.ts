// Target checks: every spelling of special address space is refused, odd
// literal forms never reach a resolver, and names are resolved once with
// every address checked (against a lab DNS server on loopback).
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import {
  checkTarget,
  clientKey,
  networkKey,
  parseTarget,
  refusal,
  TargetError,
  type TargetPolicy,
} from '../../src/server/targets.js';
import { refusalText } from '../../src/server/refusals.js';

/** A refusal's English words, or undefined. */
const why = (address: string, policy: TargetPolicy): string | undefined => {
  const r = refusal(address, policy);
  return r && refusalText(r, 'en');
};

const policy = { allow: [] };

describe('target syntax', () => {
  test('odd literal forms of 127.0.0.1 are refused before any lookup', () => {
    for (const s of [
      '127.1',
      '2130706433',
      '0x7f000001',
      '0177.0.0.1',
      '127.0.0.01',
      '017700000001',
      '0x7f.1',
      '1.2.3',
    ])
      assert.throws(() => parseTarget(s), TargetError, s);
  });
  test('injection and junk', () => {
    for (const s of [
      '-w 60',
      '--help',
      '8.8.8.8;id',
      '8.8.8.8 -c 1000',
      '$(id).example.com',
      '`id`.example.com',
      'a b',
      'x\n.example.com',
      'fe80::1%eth0',
      '[2001:4860::1]',
      '2001:4860::/32',
      '<script>.example.com',
      '',
      'a'.repeat(254),
      'example',
      'exa_mple.com',
      '.example.com',
      'example..com',
    ])
      assert.throws(() => parseTarget(s), TargetError, JSON.stringify(s));
  });
  test('plain addresses and host names pass', () => {
    assert.deepEqual(parseTarget('8.8.8.8'), { kind: 'address', address: '8.8.8.8', family: 4 });
    assert.deepEqual(parseTarget('2001:4860:4860:0:0:0:0:8888'), {
      kind: 'address',
      address: '2001:4860:4860::8888',
      family: 6,
    });
    assert.deepEqual(parseTarget('Example.NET.'), { kind: 'name', name: 'example.net' });
  });
});

describe('special address space', () => {
  test('IPv4: private, loopback, link-local, CGN, documentation, benchmarking, multicast, reserved, broadcast', () => {
    for (const a of [
      '0.1.2.3',
      '10.0.0.1',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.169.254',
      '172.16.5.4',
      '192.0.0.8',
      '192.0.2.1',
      '192.88.99.1',
      '192.168.1.1',
      '198.18.0.1',
      '198.51.100.1',
      '203.0.113.1',
      '224.0.0.1',
      '240.0.0.1',
      '255.255.255.255',
    ])
      assert.ok(why(a, policy), a);
    assert.equal(why('8.8.8.8', policy), undefined);
    assert.equal(why('59.43.1.1', policy), undefined);
  });
  test('IPv6: everything outside 2000::/3, and the special blocks inside it', () => {
    for (const a of [
      '::',
      '::1',
      'fe80::1',
      'fc00::1',
      'fd12::1',
      'ff02::1',
      '100::1',
      '2001:db8::1',
      '2001:2::1',
      '3fff::1',
      '5f00::1',
    ])
      assert.ok(why(a, policy), a);
    assert.equal(why('2001:4860:4860::8888', policy), undefined);
    assert.equal(why('240e::1', policy), undefined);
  });
  test('IPv4 hidden in IPv6 is unwrapped and named', () => {
    assert.match(why('::ffff:127.0.0.1', policy)!, /IPv4-mapped.*loopback/);
    assert.match(why('::ffff:7f00:1', policy)!, /IPv4-mapped.*loopback/);
    assert.match(why('::7f00:1', policy)!, /IPv4-compatible.*loopback/);
    assert.match(why('::127.0.0.1', policy)!, /loopback/);
    assert.match(why('64:ff9b::7f00:1', policy)!, /NAT64.*loopback/);
    assert.match(why('64:ff9b::a9fe:a9fe', policy)!, /NAT64.*link-local/);
    assert.match(why('2002:7f00:1::', policy)!, /6to4.*loopback/);
    assert.match(why('2002:a00:1::', policy)!, /6to4.*private/);
    assert.match(why('2001:0:4136:e378:8000:63bf:80ff:fffe', policy)!, /Teredo/);
    // Even a public IPv4 inside an embedding form: trace the IPv4 address itself.
    assert.match(why('::ffff:8.8.8.8', policy)!, /trace the IPv4 address itself/);
  });
  test('the operator can allow a range (a lab), and the server never traces itself', () => {
    assert.equal(why('198.18.1.1', { allow: ['198.18.0.0/15'] }), undefined);
    assert.equal(why('2001:2::1', { allow: ['2001:2::/48'] }), undefined);
    assert.ok(why('10.0.0.1', { allow: ['198.18.0.0/15'] }));
    // An allowed range never opens this server's own addresses (loopback is one); only refuseOwnAddresses does.
    assert.equal(why('127.0.0.1', { allow: ['127.0.0.0/8'] }), "127.0.0.1 is this server's own address.");
    assert.equal(why('127.0.0.2', { allow: ['127.0.0.0/8'] }), undefined, 'loopback, but no address of an interface');
    assert.equal(why('127.0.0.1', { allow: ['127.0.0.0/8'], refuseOwnAddresses: false }), undefined);
  });
});

describe('host names: resolved once, every address checked', () => {
  let server: Socket;
  let resolver: Resolver;
  // A tiny authoritative answerer on loopback: rebinding.example has a public and a loopback address.
  const answers: Record<string, { a?: string[]; aaaa?: string[] }> = {
    'public.example': { a: ['8.8.8.8'] },
    'rebinding.example': { a: ['8.8.4.4', '127.0.0.1'] },
    'metadata.example': { a: ['169.254.169.254'] },
    'v6only.example': { aaaa: ['2001:4860:4860::8888'] },
  };
  before(async () => {
    server = createSocket('udp4');
    server.on('message', (q, rinfo) => {
      const name = readName(q);
      const type = q.readUInt16BE(12 + encodedLength(name));
      const rr = (type === 1 ? answers[name]?.a : type === 28 ? answers[name]?.aaaa : undefined) ?? [];
      server.send(reply(q, name, type, rr), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.address().port}`]);
  });
  after(() => server.close());

  test('a public name passes and its checked address is what gets traced', async () => {
    assert.deepEqual(await checkTarget('public.example', policy, resolver), {
      input: 'public.example',
      address: '8.8.8.8',
      family: 4,
    });
    assert.deepEqual(await checkTarget('v6only.example', policy, resolver), {
      input: 'v6only.example',
      address: '2001:4860:4860::8888',
      family: 6,
    });
  });
  test('a name with any forbidden address is refused (rebinding, metadata)', async () => {
    await assert.rejects(checkTarget('rebinding.example', policy, resolver), /resolves to 127\.0\.0\.1.*loopback/);
    await assert.rejects(checkTarget('metadata.example', policy, resolver), /169\.254\.169\.254.*link-local/);
    await assert.rejects(checkTarget('nothing.example', policy, resolver), /no A or AAAA record/);
  });
});

test('rate-limit keys: IPv4 address, IPv6 /64, mapped addresses as IPv4', () => {
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), clientKey('2001:db8:1:2:bbbb::9'));
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
});

// --- minimal DNS wire helpers for the loopback answerer ---
function readName(q: Buffer): string {
  const labels: string[] = [];
  let off = 12;
  while (q[off]) {
    labels.push(q.toString('ascii', off + 1, off + 1 + q[off]!));
    off += 1 + q[off]!;
  }
  return labels.join('.').toLowerCase();
}
function encodedLength(name: string): number {
  return name.split('.').reduce((n, l) => n + 1 + l.length, 1);
}
function reply(q: Buffer, name: string, type: number, rr: string[]): Buffer {
  const qlen = encodedLength(name) + 4;
  const head = Buffer.alloc(12);
  q.copy(head, 0, 0, 2);
  head.writeUInt16BE(rr.length || answers_exist(name) ? 0x8180 : 0x8183, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(rr.length, 6);
  const records = rr.map((addr) => {
    const data = type === 1 ? Buffer.from(addr.split('.').map(Number)) : ipv6Bytes(addr);
    const r = Buffer.alloc(12);
    r.writeUInt16BE(0xc00c, 0);
    r.writeUInt16BE(type, 2);
    r.writeUInt16BE(1, 4);
    r.writeUInt32BE(60, 6);
    r.writeUInt16BE(data.length, 10);
    return Buffer.concat([r, data]);
  });
  return Buffer.concat([head, q.subarray(12, 12 + qlen), ...records]);
}
function answers_exist(name: string): boolean {
  return ['public.example', 'rebinding.example', 'metadata.example', 'v6only.example'].includes(name);
}
function ipv6Bytes(addr: string): Buffer {
  const [head, tail] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const parts = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(parts.flatMap((p) => [parseInt(p, 16) >> 8, parseInt(p, 16) & 0xff]));
}

test('refusal reasons name what the address is: IPv6 loopback, and embedded IPv4 checked as itself', () => {
  const policy = { allow: [] };
  assert.equal(why('::1', policy), '::1 is the IPv6 loopback address.');
  assert.equal(why('::', policy), ':: is the unspecified address.');
  assert.equal(
    why('::127.0.0.1', policy),
    '::127.0.0.1 is the IPv4-compatible form of 127.0.0.1, and 127.0.0.1 is loopback address space.',
  );
  assert.equal(
    why('::ffff:8.8.8.8', policy),
    '::ffff:8.8.8.8 is IPv4-mapped for 8.8.8.8: trace the IPv4 address itself.',
  );
  // This machine's own IPv4 address, mapped into IPv6, is its own address too.
  const own = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  // (Refused as its own address, or earlier for the space it is in: documentation space on a lab machine.)
  if (own) assert.match(why(`::ffff:${own}`, policy) ?? '', /own address|address space/);
});

test('network keys: an IPv6 /48, or the IPv4 address', () => {
  assert.equal(networkKey('2001:db8:7:3::1'), '2001:db8:7::/48');
  assert.equal(networkKey('2001:db8:7:ffff:1::9'), '2001:db8:7::/48');
  assert.equal(networkKey('203.0.113.9'), '203.0.113.9');
  assert.equal(networkKey('::ffff:203.0.113.9'), '203.0.113.9');
});
