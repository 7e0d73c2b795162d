// An uploaded trace keeps every figure its source printed: mtr's and WinMTR's
// columns (by the names in their headers), traceroute's and tracert's
// per-probe times and stars, mtr --json's fields, NextTrace's nanoseconds.
// The texts are real: Debian mtr's own output recorded in the lab
// (test/golden/mtr) and traces people published (test/fixtures/traces); each
// expected figure below is read off the text by eye.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type ImportedTrace, importTrace } from '../../src/route/import.js';

const root = new URL('../', import.meta.url).pathname;
/** A published trace's text, without its provenance header. */
const published = (name: string): string =>
  readFileSync(`${root}fixtures/traces/${name}`, 'utf8').split('\n---\n').slice(1).join('\n---\n');
const golden = (name: string): string => readFileSync(`${root}golden/mtr/${name}`, 'utf8');
const hop = (t: ImportedTrace, ttl: number) => t.hops.find((h) => h.ttl === ttl);

describe('figures of an uploaded trace', () => {
  test("Debian mtr -rw (recorded): every column, and the hop's name", () => {
    const t = importTrace(golden('r-v4.txt'));
    assert.equal(t.format, 'mtr-report');
    assert.equal(hop(t, 1)?.name, 'gw.lab.example');
    assert.deepEqual(hop(t, 1)?.figures, {
      lossPercent: 0,
      sent: 10,
      last: 1.0,
      avg: 1.1,
      best: 1.0,
      worst: 1.4,
      stdev: 0.1,
    });
  });

  test('Debian mtr --json (recorded): the fields of each hub', () => {
    const t = importTrace(golden('json-v4.txt'));
    assert.equal(t.format, 'mtr-json');
    assert.equal(hop(t, 1)?.name, 'gw.lab.example');
    assert.deepEqual(hop(t, 1)?.figures, {
      lossPercent: 0,
      sent: 10,
      last: 1.083,
      avg: 1.11,
      best: 1.064,
      worst: 1.415,
      stdev: 0.105,
    });
  });

  test('an mtr screen copied by hand (published, 2014): the header names the columns', () => {
    const t = importTrace(published('form-other-seattle-baltimore-via-paris-mtr.txt'));
    assert.equal(hop(t, 2)?.name, 's4-0-0-10--0.gw02.sttl.eli.net');
    assert.deepEqual(hop(t, 2)?.figures, {
      lossPercent: 0,
      sent: 9,
      last: 2.0,
      avg: 6.4,
      best: 1.9,
      worst: 32.8,
      stdev: 10.3,
    });
    assert.equal(hop(t, 6)?.address, '80.249.209.244');
    assert.equal(hop(t, 6)?.figures?.avg, 165.3);
  });

  test('WinMTR (published): loss, sent, received, best, average, worst, last', () => {
    const t = importTrace(published('ct-udpspeeder-cn1-peak-loss-winmtr.txt'));
    assert.equal(t.format, 'winmtr');
    const h = t.hops.find((x) => x.address === '113.17.33.53');
    assert.deepEqual(h?.figures, { lossPercent: 35, sent: 1163, received: 761, best: 0, avg: 2, worst: 13, last: 3 });
    assert.equal(t.hops[0]?.name, 'RT-AC54U.lan');
  });

  test("Windows tracert (published): three probes' times, and stars as lost probes", () => {
    const t = importTrace(published('form-tracert-en-other-virginmedia-uk-adguard-frankfurt.txt'));
    assert.equal(t.format, 'tracert');
    assert.deepEqual(hop(t, 1)?.figures, { sent: 3, received: 3, lossPercent: 0, last: 7, best: 4, worst: 7, avg: 5 });
    assert.equal(hop(t, 3)?.address, '82.3.33.137');
    assert.equal(hop(t, 3)?.name, 'leic-core-2a-ae92-0.network.virginmedia.net');
    assert.deepEqual(hop(t, 4)?.figures, { sent: 3, received: 0, lossPercent: 100 });
  });

  test('NextTrace --json: attempts counted, RTT read as nanoseconds', () => {
    const text = readFileSync(`${root}route/fixtures/nexttrace-10099-4837.json`, 'utf8');
    const attempts = (JSON.parse(text) as { Hops: { Success: boolean; RTT: number }[][] }).Hops[1]!;
    const h = importTrace(text).hops[1];
    assert.equal(h?.figures?.sent, attempts.length);
    assert.equal(h?.figures?.received, attempts.filter((a) => a.Success).length);
    assert.equal(h?.figures?.best, Math.min(...attempts.filter((a) => a.Success).map((a) => a.RTT)) / 1e6);
  });
});
