// JSON, CSV, XML against mtr 0.95's outputs of the same lab path, and the
// JSON against the schema shipped in the package.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { renderCsv, renderXml } from '../../src/report/csv-xml.js';
import { janssonReal, jsonReport, renderJson } from '../../src/report/json.js';
import { renderReport } from '../../src/report/mtr-report.js';
import { hop, sampleReport } from './sample-report.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/mtr-report.schema.json', import.meta.url), 'utf8'));

function validator() {
  // Strict, except that union types (["string", "number"]) are plain JSON Schema.
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

describe('--json', () => {
  const validate = validator();

  test('validates against the shipped schema, every field order', () => {
    for (const fields of [undefined, 'LDRSNBAWVGJMXI', 'L']) {
      const doc = jsonReport(sampleReport(), fields ? { fields } : {});
      assert.ok(validate(doc), JSON.stringify(validate.errors));
    }
  });

  test("mtr's keys, types and order are there, with mtr's meanings", () => {
    const doc = jsonReport(sampleReport()) as {
      report: { mtr: Record<string, unknown>; hubs: Record<string, unknown>[] };
    };
    assert.deepEqual(doc.report.mtr, {
      src: 'vm',
      dst: '198.18.4.2',
      tos: 0,
      tests: 10,
      psize: '64',
      bitpattern: '0x00',
    });
    const hub = doc.report.hubs[3]!;
    assert.deepEqual(Object.keys(hub), [
      'count',
      'host',
      'Loss%',
      'Snt',
      'Last',
      'Avg',
      'Best',
      'Wrst',
      'StDev',
      'vpsline',
    ]);
    assert.equal(hub.count, 4);
    assert.equal(hub.host, '198.18.4.2');
    assert.equal(hub['Loss%'], 10);
    assert.equal(hub.Snt, 10);
    assert.equal(hub.Avg, 14.9);
  });

  test('five significant digits like mtr, unanswered hops as ???', () => {
    const r = sampleReport([
      hop(1, '198.18.1.1', 0, 10, 0.0761234, 15.22049, 0.056, 20.20149, 2.98221),
      hop(2, null, 100, 10, 0, 0, 0, 0, 0),
    ]);
    const doc = jsonReport(r) as { report: { hubs: Record<string, unknown>[] } };
    // mtr holds whole microseconds (0.0761234 ms is 76 µs), then prints five digits.
    assert.equal(doc.report.hubs[0]!.Last, 0.076);
    assert.equal(doc.report.hubs[0]!.Avg, 15.22);
    assert.equal(doc.report.hubs[0]!.Wrst, 20.201);
    assert.equal(doc.report.hubs[1]!.host, '???');
    assert.ok(validate(doc));
  });

  test('extensions: every responder, MPLS, why the run ended', () => {
    const h = hop(2, '198.18.5.2', 0, 10, 0.1, 0.1, 0.1, 0.1, 0, ['198.18.2.2']);
    h.mpls = [{ label: 24005, tc: 0, s: 1, ttl: 1 }];
    const doc = jsonReport(sampleReport([h])) as {
      report: {
        hubs: { vpsline: { responders: { address: string }[]; mpls: unknown } }[];
        vpsline: Record<string, unknown>;
      };
    };
    assert.deepEqual(
      doc.report.hubs[0]!.vpsline.responders.map((r) => r.address),
      ['198.18.5.2', '198.18.2.2'],
    );
    assert.deepEqual(doc.report.hubs[0]!.vpsline.mpls, h.mpls);
    assert.equal(doc.report.vpsline.endReason, 'completed');
    assert.equal(doc.report.vpsline.socket, 'raw');
    assert.ok(validate(doc));
  });

  test('the schema rejects what mtr consumers would choke on', () => {
    const doc = jsonReport(sampleReport()) as { report: { hubs: Record<string, unknown>[] } };
    doc.report.hubs[0]!.Snt = '10';
    assert.equal(validate(doc), false);
  });
});

describe('--csv and --xml', () => {
  test("CSV: mtr 0.95's columns (a trailing comma in the header, Drop in the spacer column)", () => {
    const lines = renderCsv(sampleReport()).split('\n');
    assert.equal(lines[0], 'Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,');
    assert.equal(lines[2], 'MTR.0.95,1795840752,OK,198.18.4.2,2,198.18.2.2,30.00,10,3,0.10,0.10,0.10,0.10,0.00');
    assert.equal(lines.length, 5);
  });

  test('CSV -w: one row per extra ECMP responder', () => {
    const r = sampleReport([hop(2, '198.18.5.2', 0, 10, 0.1, 0.1, 0.1, 0.1, 0, ['198.18.2.2'])]);
    const rows = renderCsv(r, { wide: true }).split('\n').slice(1);
    assert.deepEqual(
      rows.map((l) => l.split(',')[5]),
      ['198.18.5.2', '198.18.2.2'],
    );
  });

  test("XML: mtr 0.95's layout; attribute values escaped", () => {
    const xml = renderXml(sampleReport()).split('\n');
    assert.deepEqual(xml.slice(0, 10), [
      '<?xml version="1.0"?>',
      '<MTR SRC="vm" DST="198.18.4.2" TOS="0x0" PSIZE="64" BITPATTERN="0x00" TESTS="10">',
      '    <HUB COUNT="1" HOST="198.18.1.1">',
      '        <Loss>  0.0%</Loss>',
      '        <Snt>    10</Snt>',
      '        <Last>   0.1</Last>',
      '        <Avg>   0.1</Avg>',
      '        <Best>   0.1</Best>',
      '        <Wrst>   0.1</Wrst>',
      '        <StDev>   0.0</StDev>',
    ]);
    const evil = renderXml(sampleReport(), { nameOf: () => '"><script>x</script>' });
    assert.ok(!evil.includes('<script>'));
    assert.ok(evil.includes('HOST="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"'));
  });

  test('-e prints MPLS labels under ECMP lines only, like mtr 0.95', () => {
    const labels = [{ label: 24005, tc: 0, s: 1, ttl: 1 }];
    const single = hop(1, '198.18.1.1', 0, 10, 0.1, 0.1, 0.1, 0.1, 0);
    single.mpls = labels;
    assert.equal(renderReport(sampleReport([single]), { wide: true, mpls: true }).split('\n').length, 3);
    const ecmp = hop(1, '198.18.1.1', 0, 10, 0.1, 0.1, 0.1, 0.1, 0, ['198.18.1.2']);
    ecmp.mpls = labels;
    for (const r of ecmp.responders) r.mpls = labels;
    assert.deepEqual(
      renderReport(sampleReport([ecmp]), { wide: true, mpls: true })
        .split('\n')
        .slice(3),
      // Only the other responder's labels, under its line (test/golden/mtr/rwne-ecmp-v4.txt).
      ['        198.18.1.2', '       [MPLS: Lbl 24005 TC 0 S 1 TTL 1]'],
    );
  });

  test("JSON text: reals as jansson writes them with mtr's precision", () => {
    const r = sampleReport([
      hop(1, '198.18.1.1', 0, 3, 0.0761234, 123.45678, 0, 2000, 1),
      hop(2, null, 100, 3, 0, 0, 0, 0, 0),
    ]);
    r.hops[0]!.lost = 1;
    r.hops[0]!.lossPercent = 100 / 3;
    const text = renderJson(r);
    assert.match(text, /"Loss%": 33\.333,\n\s+"Snt": 3,\n\s+"Last": 0\.076,\n\s+"Avg": 123\.46,\n\s+"Best": 0\.0,/);
    assert.match(text, /"Wrst": 2000\.0,\n\s+"StDev": 1\.0,\n/);
    assert.match(text, /"Loss%": 100\.0,/);
    assert.equal(janssonReal(123456.7), '1.2346e5');
    assert.equal(janssonReal(1.05), '1.05');
  });
});
