// Hop lists written from the prefix rules (addresses are data here, never
// probe targets).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { classify, type ClassifyHop } from '../../src/route/classify.js';

const table = CarrierTable.load();

/** Hops from a list of addresses (null = silent), TTL 1 upward; `asn` per index when given. */
function path(addresses: (string | null)[], asns: Record<number, number> = {}): ClassifyHop[] {
  return addresses.map((address, i) => ({ ttl: i + 1, address, ...(asns[i] ? { asn: asns[i] } : {}) }));
}

const FOREIGN = ['10.0.0.1', '203.0.113.9', '198.51.100.7'];

describe('carrier table', () => {
  test('longest prefix: CMIN2 /24s inside CMI, and no text-prefix over-match', () => {
    assert.equal(table.match('223.120.19.7')?.id, 'cmin2');
    assert.equal(table.match('223.120.190.7')?.id, 'cmi', '223.120.190 is not 223.120.19');
    assert.equal(table.match('223.120.170.1')?.id, 'cmi');
    assert.equal(table.match('223.121.3.4')?.id, 'cmi');
    assert.equal(table.match('59.43.246.1')?.id, 'cn2');
    assert.equal(table.match('::ffff:59.43.1.1')?.id, 'cn2', 'IPv4-mapped IPv6');
    assert.equal(table.match('2400:9380:9001::1')?.id, 'cn2');
    assert.equal(table.match('2400:9380:8001::1')?.id, 'chinanet-163');
    assert.equal(table.match('203.220.1.1'), undefined, '203.22/16 does not hold 203.220');
    assert.equal(table.match('not an address'), undefined);
  });

  test('a user file replaces entries by id and adds new ones; mistakes are explained', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpsline-carriers-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        carriers: [
          { id: 'ctgnet', asn: 23764, family: 'ct', prefixes: ['69.194.160.0/19'] },
          { id: 'lab-net', family: 'other', prefixes: ['198.18.0.0/15'] },
        ],
      }),
    );
    const t = CarrierTable.load(file);
    assert.equal(t.match('69.194.1.1'), undefined);
    assert.equal(t.match('69.194.170.1')?.id, 'ctgnet');
    assert.equal(t.match('198.18.5.5')?.id, 'lab-net');
    writeFileSync(file, JSON.stringify({ carriers: [{ id: 'x', prefixes: ['59.43.0.0/33'] }] }));
    assert.throws(() => CarrierTable.load(file), /carriers\[0\] \(x\): "59.43.0.0\/33" is not a prefix/);
    assert.throws(() => CarrierTable.load(join(dir, 'missing.json')), /Cannot read the carrier file/);
  });
});

describe('classify', () => {
  test('CN2 GIA: 59.43 all the way', () => {
    const c = classify(path([...FOREIGN, '59.43.250.1', '59.43.246.2', '59.43.180.9', '202.96.1.1']), table);
    assert.equal(c.verdict, 'cn2-gia');
    assert.deepEqual(
      c.segments.map((s) => [s.carrier, s.ttls]),
      [['cn2', [4, 5, 6]]],
    );
    assert.deepEqual(
      c.evidence.map((e) => e.ttl),
      [4, 5, 6],
    );
    assert.equal(c.confidence, 'high');
  });

  test('silent hops in the middle do not split the CN2 segment, but lower confidence', () => {
    const c = classify(path([...FOREIGN, '59.43.250.1', null, null, '59.43.180.9', '202.96.1.1']), table);
    assert.equal(c.verdict, 'cn2-gia');
    assert.deepEqual(c.segments[0]!.ttls, [4, 7]);
    assert.equal(c.confidence, 'medium');
  });

  test('CN2 GT: 59.43 abroad, then 202.97 inside China', () => {
    const c = classify(
      path([...FOREIGN, '59.43.250.1', '59.43.246.2', '202.97.12.1', '202.97.33.5', '202.97.94.2', '61.139.1.1']),
      table,
    );
    assert.equal(c.verdict, 'cn2-gt');
    assert.deepEqual(
      c.segments.map((s) => s.carrier),
      ['cn2', 'chinanet-163'],
    );
    assert.equal(c.landing, null);
  });

  test('one 202.97 hop right before the target is GIA nearest access, not GT', () => {
    const c = classify(
      path([...FOREIGN, '59.43.250.1', '59.43.246.2', '59.43.180.9', '202.97.94.2', '61.139.1.1']),
      table,
    );
    assert.equal(c.verdict, 'cn2-gia');
    assert.ok(c.notes.some((n) => /nearest access/.test(n)));
  });

  test('202.97 at the border, before CN2, is GT', () => {
    assert.equal(classify(path([...FOREIGN, '202.97.50.1', '59.43.246.2', '59.43.180.9']), table).verdict, 'cn2-gt');
  });

  test('one backbone hop only is inconclusive, with the reason', () => {
    const c = classify(path([...FOREIGN, null, '59.43.246.2', null, '202.96.1.1']), table);
    assert.equal(c.verdict, 'inconclusive');
    assert.match(c.notes.join(' '), /Only one 59\.43 \(CN2\) hop answered \(hop 5\); 2 hop\(s\) did not answer/);
  });

  test('ChinaNet 163 only', () => {
    assert.equal(
      classify(path([...FOREIGN, '202.97.50.1', '202.97.33.2', '202.97.12.9']), table).verdict,
      'chinanet-163',
    );
  });

  test('a 59.43 path that lands on Unicom: the line is CN2, the landing is 4837', () => {
    const c = classify(
      path([...FOREIGN, '59.43.250.1', '59.43.246.2', '219.158.3.1', '219.158.97.30', '123.125.1.1']),
      table,
    );
    assert.equal(c.verdict, 'cn2-gia');
    assert.equal(c.landing, 'cu-4837');
  });

  test('Unicom 10099 abroad (known by AS number), then 4837 or 9929 at home', () => {
    const via4837 = classify(
      path([...FOREIGN, '203.0.113.77', '203.0.113.78', '219.158.3.1', '219.158.97.30'], { 3: 10099, 4: 10099 }),
      table,
    );
    assert.equal(via4837.verdict, 'cu-10099');
    assert.equal(via4837.landing, 'cu-4837');
    assert.equal(via4837.evidence[0]!.by, 'asn');
    const via9929 = classify(
      path([...FOREIGN, '203.0.113.77', '203.0.113.78', '218.105.2.1', '210.51.9.9'], { 3: 10099, 4: 10099 }),
      table,
    );
    assert.equal(via9929.verdict, 'cu-10099');
    assert.equal(via9929.landing, 'cu-9929');
  });

  test('Unicom 9929 and 4837 directly', () => {
    assert.equal(classify(path([...FOREIGN, '218.105.2.1', '210.51.9.9']), table).verdict, 'cu-9929');
    assert.equal(classify(path([...FOREIGN, '219.158.3.1', '219.158.97.30']), table).verdict, 'cu-4837');
  });

  test('CMIN2 and CMI in the same /16 are told apart; CMI lands on CMNET', () => {
    const cmin2 = classify(path([...FOREIGN, '223.120.19.1', '223.120.17.9', '221.183.55.54']), table);
    assert.equal(cmin2.verdict, 'cmin2');
    assert.equal(cmin2.landing, 'cmnet');
    const cmi = classify(path([...FOREIGN, '223.120.190.1', '223.120.2.9', '221.183.55.54', '221.183.9.1']), table);
    assert.equal(cmi.verdict, 'cmi');
    assert.equal(cmi.landing, 'cmnet');
    assert.equal(classify(path([...FOREIGN, '221.183.55.54', '221.183.9.1']), table).verdict, 'cmnet');
  });

  test('CTGNet, often handing over to CN2', () => {
    const c = classify(path([...FOREIGN, '69.194.1.1', '69.194.2.2', '59.43.1.1']), table);
    assert.equal(c.verdict, 'ctgnet');
    assert.ok(c.notes.some((n) => /approximate|peer tools/.test(n)));
  });

  test('hidden evidence is inconclusive; a fully visible foreign path is other', () => {
    const hidden = classify(path(['10.0.0.1', null, '100.64.3.1', null, '203.0.113.5']), table);
    assert.equal(hidden.verdict, 'inconclusive');
    assert.match(hidden.notes[0]!, /2 hop\(s\) did not answer, 2 hop\(s\) have private or carrier-NAT addresses/);
    const other = classify(path(['203.0.113.1', '198.51.100.2', '203.0.113.5']), table);
    assert.equal(other.verdict, 'other');
  });

  test('the CT IPv6 backbone range alone cannot say CN2 or 163', () => {
    assert.equal(classify(path(['2001:db8::1', '240e::1', '240e::2']), table).verdict, 'inconclusive');
  });
});

test('notes come as English text and as codes that also read in Chinese', async () => {
  const { noteText } = await import('../../src/route/notes.js');
  const paths: (string | null)[][] = [
    [...FOREIGN, null, null],
    [...FOREIGN, '59.43.1.1', '203.0.113.1'],
    [...FOREIGN, '59.43.1.1', '59.43.2.1', '202.97.1.1'],
    [...FOREIGN, '240e::1'],
    FOREIGN,
  ];
  let seen = 0;
  for (const p of paths) {
    const c = classify(path(p), table);
    assert.equal(c.notes.length, c.noteCodes.length);
    c.noteCodes.forEach((n, i) => {
      assert.equal(noteText(n, 'en'), c.notes[i]);
      assert.match(noteText(n, 'zh'), /[\u4e00-\u9fff]/, `${n.code} has Chinese text`);
      seen++;
    });
  }
  assert.ok(seen >= 5, `${seen} notes checked`);
});
