// The carrier table against facts of the routing data it is built from, and
// the mechanics of the classifier (one hop per TTL, reading direction, what
// counts as evidence). Whether the rules name lines the way reviewers do is
// judged on published traces, in corpus.test.ts. Addresses here are data,
// never probe targets.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { classify, type ClassifyHop } from '../../src/route/classify.js';
import { noteText } from '../../src/route/notes.js';
import { scratchDir } from '../support/scratch.js';

const table = CarrierTable.load();

/** Hops from a list of addresses (null = silent), TTL 1 upward; `asn` per index when given. */
function path(addresses: (string | null)[], asns: Record<number, number> = {}): ClassifyHop[] {
  return addresses.map((address, i) => ({ ttl: i + 1, address, ...(asns[i] ? { asn: asns[i] } : {}) }));
}

/** A VPS abroad: its gateway (hop 1) and two transit hops. */
const ABROAD = ['10.0.0.1', '203.0.113.9', '198.51.100.7'];

describe('carrier table (data/carriers.json, built from routing data)', () => {
  test('ranges as routing data has them, not as text prefixes', () => {
    // @ip-location-db/asn: 223.120.0.0/17 is AS58453 (CMI), 223.120.128.0/17 AS58807 (CMIN2).
    assert.equal(table.match('223.120.19.7')?.id, 'cmi');
    assert.equal(table.match('223.120.130.1')?.id, 'cmin2');
    assert.equal(table.match('223.120.190.7')?.id, 'cmin2');
    assert.equal(table.match('59.43.246.1')?.id, 'cn2');
    assert.equal(table.match('::ffff:59.43.1.1')?.id, 'cn2', 'IPv4-mapped IPv6');
    assert.equal(table.match('202.97.12.1')?.id, 'chinanet-163');
    // 2400:9380:9000::/36 is CTGNet's (AS23764) in routing data, not CN2's as peer tools had it.
    assert.equal(table.match('2400:9380:9001::1')?.id, 'ctgnet');
    // 69.194.0.0/16 is not all CTGNet: 69.194.1.1 is Krypt (AS4213).
    assert.equal(table.match('69.194.1.1'), undefined);
    assert.equal(table.match('61.152.1.1')?.id, 'ct-access', 'Shanghai Telecom: a landing network');
    assert.equal(table.match('202.112.1.1')?.id, 'cernet');
    assert.equal(table.match('not an address'), undefined);
  });

  test('every entry names its dataset; hand-written rows are only for space routing data lacks', () => {
    const doc = JSON.parse(readFileSync(new URL('../../data/carriers.json', import.meta.url), 'utf8'));
    assert.match(doc.dataset, /^@ip-location-db\/asn \d+\.\d+\.\d+$/);
    for (const c of doc.carriers) {
      assert.ok(c.source.startsWith(doc.dataset), `${c.id}: ${c.source}`);
      for (const m of c.manual ?? []) {
        assert.ok(m.citation.length > 20, `${c.id} ${m.prefix} has a citation`);
        // The unannounced part of 221.183.0.0/16 (CMNET's backbone) is used; it holds 221.183.1.1.
        assert.ok(Array.isArray(m.notAnnounced));
      }
    }
    assert.equal(table.match('221.183.1.1')?.id, 'cmnet');
    assert.equal(table.match('219.158.3.1')?.id, 'cu-4837');
    // An AS names hops outside the prefixes: AS4134 alone is a provincial network, not the 163 backbone.
    assert.equal(table.byAs(4134)?.id, 'ct-access');
    assert.equal(table.byAs(4809)?.id, 'cn2');
    assert.equal(table.byAs(10099)?.id, 'cu-10099');
  });

  test('a user file replaces entries by id and adds new ones; mistakes are explained', () => {
    const dir = scratchDir('vpsline-carriers-');
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
    assert.equal(t.match('69.194.170.1')?.id, 'ctgnet');
    assert.equal(t.match('198.18.5.5')?.id, 'lab-net');
    assert.equal(t.byAs(23764)?.id, 'ctgnet', 'a file without "asns" names hops by its "asn"');
    writeFileSync(file, JSON.stringify({ carriers: [{ id: 'x', prefixes: ['59.43.0.0/33'] }] }));
    assert.throws(() => CarrierTable.load(file), /carriers\[0\] \(x\): "59.43.0.0\/33" is not a prefix/);
    assert.throws(() => CarrierTable.load(join(dir, 'missing.json')), /Cannot read the carrier file/);
  });
});

describe('classifier mechanics', () => {
  const gia = [...ABROAD, '59.43.250.1', '59.43.246.2', '59.43.180.9', '101.95.1.1'];

  test('a TTL counts once: the same report pasted twice gives the same verdict', () => {
    const once = classify(path([...ABROAD, '59.43.1.1', '202.97.1.1', '101.95.1.1']), table);
    const twice = classify(
      [...path([...ABROAD, '59.43.1.1', '202.97.1.1', '101.95.1.1'])].concat(
        path([...ABROAD, '59.43.1.1', '202.97.1.1', '101.95.1.1']),
      ),
      table,
    );
    assert.equal(twice.verdict, once.verdict);
    assert.equal(twice.confidence, once.confidence);
    assert.deepEqual(twice.evidence, once.evidence);
    // Two lone CN2 hops pasted twice stay one CN2 hop each, not four.
    const pasted = classify(path([...ABROAD, '59.43.1.1', '101.95.1.1']).concat(path([...ABROAD, '59.43.1.1'])), table);
    assert.equal(pasted.evidence.filter((e) => e.carrier === 'cn2').length, 1);
  });

  test('CN2 without 163 is GIA; a 163 hop beside it makes GT, even one CN2 hop (with a note)', () => {
    const c = classify(path(gia), table);
    assert.equal(c.verdict, 'cn2-gia');
    assert.equal(c.confidence, 'high');
    assert.equal(c.landing, 'ct-access');
    const gt = classify(path([...ABROAD, '59.43.1.1', '202.97.1.1', '202.97.2.1', '101.95.1.1']), table);
    assert.equal(gt.verdict, 'cn2-gt');
    assert.equal(gt.confidence, 'medium');
    assert.ok(gt.noteCodes.some((n) => n.code === 'one-hop'));
  });

  test('hidden hops inside the CT part lower a GIA verdict (a 202.97 hop may hide there)', () => {
    const c = classify(path([...ABROAD, '59.43.1.1', null, '59.43.2.1', null, '101.95.1.1']), table);
    assert.equal(c.verdict, 'cn2-gia');
    assert.equal(c.confidence, 'medium');
    assert.ok(c.noteCodes.some((n) => n.code === 'hidden-in-part'));
    // Silent hops abroad say nothing about the Chinese line.
    assert.equal(classify(path([...ABROAD, null, null, ...gia.slice(3)]), table).confidence, 'high');
  });

  test("the first hop is the tracer's own gateway, never evidence", () => {
    // A home router that calls itself 118.118.118.118 (AS4134 space) in front of a foreign path.
    const c = classify(path(['118.118.118.118', '203.0.113.9', '198.51.100.7', '192.0.2.1']), table);
    assert.equal(c.verdict, 'other');
  });

  test('a trace from China outwards is read from the foreign end', () => {
    const forward = classify(
      path(['192.168.1.1', '101.95.1.1', '202.97.1.1', '59.43.1.1', '59.43.2.1', '203.0.113.9']),
      table,
    );
    assert.equal(forward.verdict, 'cn2-gt');
    assert.ok(forward.noteCodes.some((n) => n.code === 'read-backwards'));
    const home = classify(path(['192.168.1.1', '101.95.1.1', null, null, '203.0.113.9', '198.51.100.1']), table);
    assert.equal(home.verdict, 'inconclusive', 'only the home network answered before the border');
  });

  test('an AS names a hop as well as a prefix does, and a line is known by AS alone', () => {
    const c = classify(
      path([...ABROAD, '203.0.113.50', '203.0.113.51', '203.0.113.52'], { 3: 10099, 4: 10099, 5: 4837 }),
      table,
    );
    assert.equal(c.verdict, 'cu-4837');
    assert.ok(c.noteCodes.some((n) => n.code === 'via-cug'));
    assert.ok(c.evidence.every((e) => e.by === 'asn'));
    const n9929 = classify(path([...ABROAD, '203.0.113.50', '218.105.1.1', '218.105.2.1'], { 3: 10099 }), table);
    assert.equal(n9929.verdict, 'cu-9929');
  });

  test('the line and the landing network stay apart', () => {
    const c = classify(path([...ABROAD, '59.43.1.1', '59.43.2.1', '219.158.1.1', '112.1.1.1']), table);
    assert.equal(c.verdict, 'cn2-gia');
    assert.equal(c.landing, 'cu-4837');
    const cmi = classify(path([...ABROAD, '223.120.2.1', '223.120.3.1', '221.183.1.1', '221.183.2.1']), table);
    assert.equal(cmi.verdict, 'cmi');
    assert.equal(cmi.landing, 'cmnet');
  });

  test('inconclusive: nothing Chinese answered and nothing else either, or lines contradict', () => {
    assert.equal(classify(path(['10.0.0.1', null, null, null, '198.51.100.9']), table).verdict, 'inconclusive');
    assert.equal(classify(path([...ABROAD, '203.0.113.80', '198.51.100.9']), table).verdict, 'other');
    const mixed = classify(path([...ABROAD, '59.43.1.1', '223.120.2.1', '59.43.2.1', '101.95.1.1']), table);
    assert.equal(mixed.verdict, 'inconclusive');
    assert.ok(mixed.noteCodes.some((n) => n.code === 'contradicts'));
  });

  test("a whois net name from the trace (NextTrace's [CHINANET-BB]) tells the 163 backbone from AS4134", () => {
    const hops: ClassifyHop[] = [
      ...path(ABROAD),
      { ttl: 4, address: null, asn: 4809 },
      { ttl: 5, address: null, asn: 4134, netname: 'chinanet-163' },
      { ttl: 6, address: null, asn: 4134 },
    ];
    const c = classify(hops, table);
    assert.equal(c.verdict, 'cn2-gt');
    assert.deepEqual(
      c.evidence.map((e) => [e.carrier, e.by]),
      [
        ['cn2', 'asn'],
        ['chinanet-163', 'netname'],
        ['ct-access', 'asn'],
      ],
    );
  });

  test('notes come as English text and as codes that also read in Chinese', () => {
    const paths: (string | null)[][] = [
      [...ABROAD, null, null],
      [...ABROAD, '59.43.1.1', '202.97.1.1'],
      [...ABROAD, '59.43.1.1', null, '59.43.2.1', '101.95.1.1'],
      [...ABROAD, '240e::1'],
      ['192.168.1.1', '101.95.1.1', '202.97.1.1', '203.0.113.9', '198.51.100.1'],
      ABROAD,
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
    assert.ok(seen >= 6, `${seen} notes checked`);
  });
});
