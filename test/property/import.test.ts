// Property tests of the trace importer: whatever vpsline's own mtr renderers
// print (the renderers are byte-for-byte mtr 0.95's, test/lab/golden.test.ts)
// reads back to the same hops; and any text built from the tokens traces are
// made of gives a trace or one VpslineError, never another exception. Positive
// controls: a deliberately broken reader must be caught by the same properties.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isVpslineError } from '../../src/errors.js';
import { renderCsv } from '../../src/report/csv-xml.js';
import { renderJson } from '../../src/report/json.js';
import { renderReport } from '../../src/report/mtr-report.js';
import type { ClassifyHop } from '../../src/route/classify.js';
import { importTrace } from '../../src/route/import.js';
import type { TraceReport } from '../../src/trace/trace.js';
import { report, runs } from './arbitraries.js';

type Reader = (text: string) => { hops: ClassifyHop[] };

/** What mtr shows for each hop: its TTL and the address it names (null: ???). */
const shown = (r: TraceReport): [number, string | null][] => r.hops.map((h) => [h.ttl, h.address]);

/** The round trip as a property of `read`, so a broken reader can be run through it. */
function roundTrip(read: Reader): fc.IPropertyWithHooks<[TraceReport, 'wide' | 'json' | 'wide-z']> {
  return fc.property(report(), fc.constantFrom('wide' as const, 'json' as const, 'wide-z' as const), (r, form) => {
    const text =
      form === 'json'
        ? renderJson(r)
        : renderReport(r, { wide: true, ...(form === 'wide-z' ? { asOf: () => '4809' } : {}) });
    const got = read(text).hops.map((h): [number, string | null] => [h.ttl, h.address]);
    // ECMP responders are listed under their hop: the importer keeps the hop's own address.
    const want = shown(r);
    assert.deepEqual(
      got.filter(([ttl], i, all) => all.findIndex(([t]) => t === ttl) === i),
      want,
    );
  });
}

/** Text made of what traces are made of: numbers, addresses, times, stars, pipes, brackets, words. */
const token = fc.oneof(
  fc.constantFrom('*', '???', 'ms', '|', '|--', '[', ']', '(', ')', '{', '}', '-', ':', '::', '%', 'AS', 'AS4809'),
  fc.constantFrom('[CN2-BB]', '[CHINANET-BB]', 'Request timed out.', '请求超时', 'HOST:', 'traceroute to', '#'),
  fc.integer({ min: 0, max: 300 }).map(String),
  fc.integer({ min: 0, max: 300 }).map((n) => `${n}.`),
  fc.float({ min: 0, max: 2000, noNaN: true }).map((f) => `${f.toFixed(2)}`),
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `59.43.${a}.${b}`),
  fc.nat(0xffff).map((x) => `2400:9380:9000::${x.toString(16)}`),
  fc.string({ maxLength: 6 }),
);
const line = fc
  .array(token, { maxLength: 12 })
  .chain((ts) => fc.constantFrom(' ', '  ', '\t', ' | ').map((sep) => ts.join(sep)));
const text = fc.array(line, { maxLength: 40 }).map((ls) => ls.join('\n'));

function onlyVpslineErrors(read: Reader): fc.IPropertyWithHooks<[string]> {
  return fc.property(text, (t) => {
    try {
      read(t);
    } catch (err) {
      assert.ok(isVpslineError(err), `not a VpslineError: ${String(err)}`);
    }
  });
}

describe('the importer (src/route/import.ts, import-text.ts)', () => {
  test('mtr -rw, -rwz and --json as vpsline prints them read back to the same hops', () => {
    fc.assert(roundTrip(importTrace), { numRuns: runs(300) });
  });

  test('CSV is not a trace form it claims: it is refused with one line or read, never thrown', () => {
    fc.assert(
      fc.property(report(), (r) => {
        try {
          importTrace(renderCsv(r));
        } catch (err) {
          assert.ok(isVpslineError(err));
        }
      }),
      { numRuns: runs(100) },
    );
  });

  test('any text of trace tokens: a trace or a VpslineError, nothing else', () => {
    fc.assert(onlyVpslineErrors(importTrace), { numRuns: runs(2000) });
  });

  test('positive controls: a reader that loses IPv6 hops, or throws on a pipe, is caught', () => {
    const losesV6: Reader = (t) => {
      const r = importTrace(t);
      return { hops: r.hops.map((h) => (h.address?.includes(':') ? { ...h, address: null } : h)) };
    };
    assert.throws(() => fc.assert(roundTrip(losesV6), { numRuns: runs(300) }));
    const throwsOnPipe: Reader = (t) => {
      if (t.includes(' | 5')) throw new TypeError('planted');
      return importTrace(t);
    };
    assert.throws(() => fc.assert(onlyVpslineErrors(throwsOnPipe), { numRuns: runs(2000) }));
  });
});
