// What the looking glass shows of a stored trace or upload (src/server/views.ts):
// an upload's hops with every figure and the same tags as the measured side,
// and the masked form of a link: the visitor's network as its first half, their
// home hops (their address, private and shared space, their /24 or /48) without
// address or name, and every other mention of those replaced where it stands
// as a whole word. Pure functions: nothing here sends a packet.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shippedAsnIndex } from '../../src/lookup/asn-data.js';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { readTextTrace } from '../../src/route/import-text.js';
import {
  homeAddresses,
  maskedAddress,
  maskHops,
  maskText,
  uploadedHops,
  type ViewHop,
} from '../../src/server/views.js';

const asnIndex = shippedAsnIndex();
const table = CarrierTable.load();
const H = '(hidden)';

/** A measured hop with only what the masking reads set. */
const viewHop = (ttl: number, address: string | null, extra: Partial<ViewHop> = {}): ViewHop => ({
  ttl,
  address,
  name: null,
  asn: null,
  asName: null,
  carrier: null,
  lossPercent: 0,
  sent: 10,
  last: 1,
  avg: 1,
  best: 1,
  worst: 1,
  stdev: 0,
  ...extra,
});
const home = (visitor: string, hops: ViewHop[]): string[] => [...homeAddresses(visitor, hops)].sort();

describe('maskText: whole words only', () => {
  test('an IPv4 address goes; one it is the start or the end of stays', () => {
    const text = 'to 198.18.1.1 via 198.18.1.10, 198.18.1.100, 1198.18.1.1, 2198.18.1.1 and 198.18.1.1.5';
    assert.equal(
      maskText(text, ['198.18.1.1'], H),
      `to ${H} via 198.18.1.10, 198.18.1.100, 1198.18.1.1, 2198.18.1.1 and 198.18.1.1.5`,
    );
    // Letters, '-' and '_' continue a word as digits do.
    assert.equal(
      maskText('x198.18.1.1 a-198.18.1.1 _198.18.1.1', ['198.18.1.1'], H),
      'x198.18.1.1 a-198.18.1.1 _198.18.1.1',
    );
  });

  test("a sentence's final '.' and punctuation around are boundaries", () => {
    assert.equal(maskText('The trace ended at 198.18.1.1.', ['198.18.1.1'], H), `The trace ended at ${H}.`);
    assert.equal(maskText('(198.18.1.1), [198.18.1.1]; 198.18.1.1!', ['198.18.1.1'], H), `(${H}), [${H}]; ${H}!`);
    assert.equal(maskText('198.18.1.1. Next', ['198.18.1.1'], H), `${H}. Next`);
    assert.equal(maskText('198.18.1.1\n198.18.1.1', ['198.18.1.1'], H), `${H}\n${H}`);
    assert.equal(maskText('198.18.1.1', ['198.18.1.1'], H), H, 'the whole text');
  });

  test('in JSON: every string that is the address, and nothing else', () => {
    const doc = { target: '198.18.1.1', hubs: [{ host: '198.18.1.1' }, { host: '198.18.1.12' }], n: 198.18 };
    const out = JSON.parse(maskText(JSON.stringify(doc), ['198.18.1.1'], H));
    assert.deepEqual(out, { target: H, hubs: [{ host: H }, { host: '198.18.1.12' }], n: 198.18 });
  });

  test('IPv6: the address goes; a longer one it begins or ends stays', () => {
    const text = '2001:2::1 and 2001:2::10, 2001:2::1:5, 12001:2::1, [2001:2::1]:443 and 2001:2::1.';
    assert.equal(
      maskText(text, ['2001:2::1'], H),
      `${H} and 2001:2::10, 2001:2::1:5, 12001:2::1, [${H}]:443 and ${H}.`,
    );
  });

  test('host names: the name goes, a longer name holding it stays', () => {
    const text = 'via gw.home.lan, gw.home.lan.example, my-gw.home.lan, xgw.home.lan and gw.home.lan.';
    assert.equal(
      maskText(text, ['gw.home.lan'], H),
      `via ${H}, gw.home.lan.example, my-gw.home.lan, xgw.home.lan and ${H}.`,
    );
  });

  test('several words, each replaced everywhere; an empty word changes nothing', () => {
    const text = 'gw.home.lan (198.18.1.1) then 198.18.1.1 then 2001:2::1';
    assert.equal(maskText(text, ['198.18.1.1', 'gw.home.lan', '2001:2::1'], H), `${H} (${H}) then ${H} then ${H}`);
    assert.equal(maskText(text, [''], H), text);
    assert.equal(maskText(text, [], H), text);
    assert.equal(maskText('', ['198.18.1.1'], H), '');
  });
});

describe('maskedAddress', () => {
  test('IPv4: the first two bytes; IPv6: the first two groups; the rest never shown', () => {
    assert.equal(maskedAddress('198.18.1.1'), '198.18.*.*');
    assert.equal(maskedAddress('127.0.0.1'), '127.0.*.*');
    assert.equal(maskedAddress('::ffff:198.18.7.9'), '198.18.*.*', 'IPv4-mapped reads as IPv4');
    assert.equal(maskedAddress('2001:2::1'), '2001:2:*');
    assert.equal(maskedAddress('2001:2:0:5:abcd::9'), '2001:2:*');
    for (const a of ['198.18.7.9', '2001:2:0:5:abcd::9']) assert.doesNotMatch(maskedAddress(a), /7\.9|abcd|::9/, a);
  });

  test('what is not an address is all stars', () => {
    assert.equal(maskedAddress('gw.home.lan'), '***');
    assert.equal(maskedAddress(''), '***');
  });
});

describe('homeAddresses', () => {
  test("IPv4: the visitor, private space, CGNAT and the visitor's /24; not public hops elsewhere", () => {
    const hops = [
      viewHop(1, '192.168.1.1'),
      viewHop(2, '10.20.30.40'),
      viewHop(3, '172.16.5.1'),
      viewHop(4, '100.64.3.1'),
      viewHop(5, '198.18.1.77'),
      viewHop(6, null),
      viewHop(7, '198.18.2.1'),
      viewHop(8, '172.32.0.1'),
      viewHop(9, '59.43.1.1', { asn: 4809 }),
      viewHop(10, '198.18.1.1'),
    ];
    assert.deepEqual(
      home('198.18.1.1', hops),
      ['10.20.30.40', '100.64.3.1', '172.16.5.1', '192.168.1.1', '198.18.1.1', '198.18.1.77'].sort(),
    );
  });

  test('the visitor is home even when no hop is', () => {
    assert.deepEqual(home('198.18.1.1', []), ['198.18.1.1']);
    assert.deepEqual(home('198.18.1.1', [viewHop(1, '59.43.1.1')]), ['198.18.1.1']);
  });

  test("IPv6: unique-local and link-local space and the visitor's /48; not another /48", () => {
    const hops = [
      viewHop(1, 'fd00::1'),
      viewHop(2, 'fe80::1'),
      viewHop(3, '2001:2:0:ffff::1'),
      viewHop(4, '2001:2:1::1'),
      viewHop(5, '240e::1', { asn: 4134 }),
    ];
    assert.deepEqual(home('2001:2:0:1::5', hops), ['2001:2:0:1::5', '2001:2:0:ffff::1', 'fd00::1', 'fe80::1'].sort());
  });

  test("the visitor's AS is not home: a ChinaNet visitor's AS4134 is the 163 backbone the link is about", () => {
    // 222.64.1.1 (a Shanghai Telecom address) and 202.97.1.1 (163) are both AS4134; only looked up, never sent to.
    const hops = [viewHop(1, '222.64.1.254', { asn: 4134 }), viewHop(2, '202.97.1.1', { asn: 4134 })];
    assert.deepEqual(home('222.64.1.1', hops), ['222.64.1.1', '222.64.1.254']);
  });
});

describe('maskHops', () => {
  test('home hops lose address and name and are marked; their figures and every other hop stay', () => {
    const hops = [
      viewHop(1, '192.168.1.1', { name: 'gw.home.lan', avg: 0.5, lossPercent: 1 }),
      viewHop(2, '59.43.1.1', { name: 'cn2.example', carrier: 'CN2', asn: 4809 }),
      viewHop(3, null),
    ];
    const masked = maskHops(hops, homeAddresses('198.18.1.1', hops));
    assert.deepEqual(masked[0], { ...hops[0], address: null, name: null, masked: true });
    assert.equal(masked[0]!.avg, 0.5);
    assert.equal(masked[0]!.lossPercent, 1);
    assert.deepEqual(masked[1], hops[1]);
    assert.equal('masked' in masked[1]!, false);
    assert.deepEqual(masked[2], hops[2], 'a silent hop is not marked');
    assert.equal(hops[0]!.address, '192.168.1.1', 'the input is not changed');
  });
});

describe('uploadedHops', () => {
  const MTR = [
    'Start: 2026-11-28T04:38:04+0000',
    'HOST: home                           Loss%   Snt   Last   Avg  Best  Wrst StDev',
    '  1.|-- gw.home.lan (192.168.1.1)      0.0%    10    0.5   0.6   0.4   0.9   0.1',
    '  2.|-- 59.43.1.1                      0.0%    10   10.1  10.2  10.0  10.5   0.1',
    '  3.|-- ???                           100.0    10    0.0   0.0   0.0   0.0   0.0',
    '  4.|-- 202.97.1.1                     2.5%    40   31.1  32.2  30.0  40.5   2.3',
  ].join('\n');

  test("an mtr report's hops keep every figure and name, with carrier tags and AS", () => {
    const trace = readTextTrace(MTR, 100);
    assert.ok(trace, 'read as a trace');
    const hops = uploadedHops(trace.hops, table, asnIndex);
    assert.deepEqual(
      hops.map((h) => [h.ttl, h.address, h.name, h.carrier, h.asn]),
      [
        [1, '192.168.1.1', 'gw.home.lan', null, null],
        [2, '59.43.1.1', null, 'CN2', 4809],
        [3, null, null, null, null],
        [4, '202.97.1.1', null, '163', 4134],
      ],
    );
    assert.deepEqual(
      hops.map((h) => [h.lossPercent, h.sent, h.last, h.avg, h.best, h.worst, h.stdev]),
      [
        [0, 10, 0.5, 0.6, 0.4, 0.9, 0.1],
        [0, 10, 10.1, 10.2, 10, 10.5, 0.1],
        [100, 10, 0, 0, 0, 0, 0],
        [2.5, 40, 31.1, 32.2, 30, 40.5, 2.3],
      ],
    );
    assert.equal(hops[1]!.asName, 'China Telecom Next Generation Carrier Network');
  });

  test('figures the source did not have are null; an AS the trace names is kept', () => {
    const hops = uploadedHops(
      [
        { ttl: 1, address: '59.43.1.1' },
        { ttl: 2, address: '202.97.1.1', asn: 4134, name: 'core.example', figures: { avg: 31 } },
        { ttl: 3, address: '219.158.1.1', asn: 64500 },
      ],
      table,
      asnIndex,
    );
    assert.deepEqual(hops[0], {
      ttl: 1,
      address: '59.43.1.1',
      name: null,
      asn: 4809,
      asName: 'China Telecom Next Generation Carrier Network',
      carrier: 'CN2',
      lossPercent: null,
      sent: null,
      last: null,
      avg: null,
      best: null,
      worst: null,
      stdev: null,
    });
    assert.equal(hops[1]!.avg, 31);
    assert.equal(hops[1]!.lossPercent, null);
    assert.equal(hops[1]!.name, 'core.example');
    assert.equal(hops[1]!.asName, 'Chinanet', 'the same AS as the dataset: its name');
    assert.equal(hops[2]!.asn, 64500, "the trace's own AS number");
    assert.equal(hops[2]!.asName, null, "the dataset's name is another AS's: not shown");
    assert.equal(hops[2]!.carrier, '4837', 'the tag is by address');
  });
});
