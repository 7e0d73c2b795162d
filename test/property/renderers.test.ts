// Every output format over generated reports: nothing throws, every hop is
// there once and in order, numbers are finite (mtr prints a hop without
// replies as 0.0, so no NaN, null or Infinity ever), the JSON validates
// against the shipped schema and its findings cite real hops.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { renderCsv, renderXml } from '../../src/report/csv-xml.js';
import { fieldsFor } from '../../src/report/fields.js';
import { jsonReport, renderJson } from '../../src/report/json.js';
import { type DisplayMode, renderScreen } from '../../src/report/live.js';
import { renderReport } from '../../src/report/mtr-report.js';
import { streamRaw } from '../../src/report/raw.js';
import type { BacktraceResult } from '../../src/route/backtrace.js';
import { classifyTrace } from '../../src/route/backtrace.js';
import { renderBacktraceTable, renderClassification } from '../../src/route/render.js';
import type { Finding } from '../../src/trace/analysis.js';
import type { HopSnapshot } from '../../src/trace/hop.js';
import type { ProbeEvent, Trace, TraceReport } from '../../src/trace/trace.js';
import { buildHop, type HopPlan, hopPlan, report, rtt, runs, ttlsOf } from './arbitraries.js';
import { checkFindings } from './findings.js';

const RUNS = runs(150);
const BAD = /NaN|undefined|Infinity|null|\[object/;

/** Host names as reverse DNS may give them: none, plain, or with every character a format must escape. */
const naming = fc.record({
  names: fc.constantFrom('none', 'plain', 'nasty', 'same'),
  showBoth: fc.boolean(),
  asn: fc.boolean(),
  tags: fc.boolean(),
});
type Naming = typeof naming extends fc.Arbitrary<infer T> ? T : never;

function nameOptions(n: Naming) {
  const hash = (a: string): number => [...a].reduce((x, c) => (x * 31 + c.charCodeAt(0)) >>> 0, 7);
  return {
    ...(n.names !== 'none'
      ? {
          nameOf: (a: string): string | null =>
            hash(a) % 3 === 0
              ? null
              : n.names === 'same'
                ? a
                : n.names === 'plain'
                  ? `r${hash(a) % 1000}.example.net`
                  : `r"${hash(a) % 100},<&>'é 中 ${a}.example.net`,
        }
      : {}),
    ...(n.showBoth ? { showBoth: true } : {}),
    ...(n.asn ? { asOf: (a: string): string | null => (hash(a) % 2 ? String(hash(a) % 65536) : null) } : {}),
    ...(n.tags ? { tagOf: (a: string): string | undefined => (hash(a) % 2 ? 'CN2' : undefined) } : {}),
  };
}

/** `-o` strings: any letters mtr knows, `_`, spaces and repeats. */
const fieldLetters = fc.option(fc.stringMatching(/^[LDRSNBAWVGJMXI _]{0,16}$/), { nil: undefined });

const extras = (h: HopSnapshot): string[] => h.responders.filter((r) => r.address !== h.address).map((r) => r.address);

function assertFinite(text: string, where: string): void {
  const m = BAD.exec(text);
  assert.equal(m, null, `${where}: "${m?.[0]}" in\n${text}`);
}

describe('mtr -r / -rw / -e / -b / -z / -o (renderReport)', () => {
  // The layout of ECMP, AS and label lines is mtr 0.95's (test/golden/); here
  // only what holds for any layout: each hop's row once and in order, finite
  // values, every responder named, label lines well formed, and narrow rows
  // as wide as the header when the values fit (as mtr -r prints them).
  const hopRow = /^ *(\d+)\.(?:\|-- | AS)/;
  test('one row per hop in order, finite values, every responder shown, aligned narrow columns', () => {
    fc.assert(
      fc.property(report(), naming, fieldLetters, fc.boolean(), fc.boolean(), (r, n, fields, wide, mpls) => {
        const opts = { ...nameOptions(n), ...(fields !== undefined ? { fields } : {}), wide, mpls };
        const text = renderReport(r, opts);
        const lines = text.split('\n');
        assertFinite(text, 'report');
        assert.match(lines[0] ?? '', /^Start: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/);
        const header = lines[1] ?? '';
        assert.ok(header.startsWith('HOST: '));
        const rows = lines.slice(2).filter((l) => hopRow.test(l));
        assert.deepEqual(
          rows.map((l) => Number(hopRow.exec(l)?.[1])),
          r.hops.map((h) => h.ttl),
        );
        const columns = fieldsFor(fields).filter((f) => f.kind !== 'spacer');
        for (const [i, h] of r.hops.entries()) {
          const row = rows[i] ?? '';
          if (columns.length)
            for (const v of row.trim().split(/\s+/).slice(-columns.length))
              assert.match(v, /^\d+(\.\d)?%?$/, `hop ${h.ttl}: ${JSON.stringify(row)}`);
          const fits = columns.every((f) => {
            const v = f.value(h);
            const t = f.kind === 'count' ? String(v) : v.toFixed(1);
            return t.length + (f.kind === 'percent' ? 2 : 1) <= f.width;
          });
          if (!wide && !n.asn && fits) assert.equal(row.length, header.length, `hop ${h.ttl}:\n${header}\n${row}`);
          // (A narrow -z row cuts the name at column 33, as mtr does.)
          if (n.names === 'none' && !n.tags && (wide || !n.asn))
            for (const x of h.responders) assert.ok(text.includes(x.address), `${x.address} of hop ${h.ttl}`);
        }
        for (const l of lines.slice(2).filter((x) => x.includes('[MPLS')))
          assert.match(l, /^ +\[MPLS: Lbl \d+ TC \d S \d TTL \d+\]$/, l);
        if (!mpls) assert.ok(!text.includes('[MPLS'), 'labels without -e');
      }),
      { numRuns: RUNS },
    );
  });
});

/** RFC 4180 cells of one CSV line. */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  assert.ok(!quoted, `unclosed quote in ${line}`);
  cells.push(cell);
  return cells;
}

describe('mtr -C / -x', () => {
  test('CSV: a header and one row per hop (and per ECMP responder with -w), every row as wide as the header', () => {
    fc.assert(
      fc.property(report(), naming, fieldLetters, fc.boolean(), (r, n, fields, wide) => {
        const opts = { ...nameOptions(n), ...(fields !== undefined ? { fields } : {}), wide };
        const lines = renderCsv(r, opts).split('\n');
        assertFinite(lines.join('\n'), 'csv');
        // mtr 0.95 ends the header (only) with a comma.
        const cells = csvCells(lines[0] ?? '');
        const header = cells.at(-1) === '' ? cells.slice(0, -1) : cells;
        const rows = lines.slice(1).map(csvCells);
        const expected = r.hops.flatMap((h) => [h.ttl, ...(wide ? extras(h).map(() => h.ttl) : [])]);
        assert.deepEqual(
          rows.map((c) => Number(c[4])),
          expected,
        );
        const first = header.indexOf('Ip') + (n.asn ? 2 : 1);
        for (const c of rows) {
          assert.equal(c.length, header.length, `row ${c.join('|')} vs header ${header.join('|')}`);
          for (const v of c.slice(first)) assert.match(v, /^(\d+(\.\d+)?)?$/, c.join('|'));
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('XML: well formed, one HUB per hop in order, every value a finite number', () => {
    fc.assert(
      fc.property(report(), naming, fieldLetters, (r, n, fields) => {
        const xml = renderXml(r, { ...nameOptions(n), ...(fields !== undefined ? { fields } : {}) });
        assertFinite(xml, 'xml');
        const stack: string[] = [];
        const hubs: number[] = [];
        // Text and attribute values: no raw markup, only the five entities.
        const text = /^([^<>&"]|&(amp|lt|gt|quot|apos);)*$/;
        for (const m of xml.matchAll(/<(\/?)([A-Za-z?][\w%]*)((?:\s+\w+="[^"]*")*)\s*[/?]?>|([^<]+)/g)) {
          const [, close, tag, attrs, body] = m;
          if (body !== undefined) {
            assert.match(body, text, `text ${JSON.stringify(body)}`);
            continue;
          }
          if (tag === '?xml') continue;
          for (const a of (attrs ?? '').matchAll(/(\w+)="([^"]*)"/g)) assert.match(a[2] ?? '', text);
          if (tag === 'HUB' && !close) hubs.push(Number(/COUNT="(\d+)"/.exec(attrs ?? '')?.[1]));
          if (close) assert.equal(stack.pop(), tag, `</${tag}> closes another element`);
          else stack.push(tag ?? '');
        }
        assert.deepEqual(stack, [], 'unclosed elements');
        assert.deepEqual(
          hubs,
          r.hops.map((h) => h.ttl),
        );
        for (const m of xml.matchAll(
          /<(Loss|Drop|Rcv|Snt|Last|Best|Avg|Wrst|StDev|Gmean|Jttr|Javg|Jmax|Jint)>([^<]*)</g,
        ))
          assert.match(m[2] ?? '', /^\s*\d+(\.\d)?%?$/, m[0]);
      }),
      { numRuns: RUNS },
    );
  });
});

interface JsonDoc {
  report: { hubs: { count: number }[]; vpsline: { analysis: Finding[] } };
}

describe('mtr -j (renderJson)', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/mtr-report.schema.json', import.meta.url), 'utf8'));
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);

  test('validates against the schema; hubs are the hops; findings cite real hops', () => {
    fc.assert(
      fc.property(
        report(),
        naming,
        fieldLetters,
        fc.constantFrom('en' as const, 'zh' as const),
        (r, n, fields, lang) => {
          const text = renderJson(r, { ...nameOptions(n), ...(fields !== undefined ? { fields } : {}), lang });
          const doc = JSON.parse(text) as JsonDoc;
          assert.ok(validate(doc), JSON.stringify(validate.errors));
          const hubs = doc.report.hubs;
          assert.deepEqual(
            hubs.map((h) => h.count),
            r.hops.map((h) => h.ttl),
          );
          const findings = doc.report.vpsline.analysis;
          checkFindings(r, findings);
          assert.deepEqual(
            JSON.parse(JSON.stringify(jsonReport(r, { ...nameOptions(n), lang }).report)).vpsline.analysis,
            findings,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('the same on 100 to 255 hops', () => {
    fc.assert(
      fc.property(report({ hops: { min: 100, max: 255 } }), (r) => {
        const doc = JSON.parse(renderJson(r)) as JsonDoc;
        assert.ok(validate(doc), JSON.stringify(validate.errors));
        assert.equal(doc.report.hubs.length, r.hops.length);
      }),
      { numRuns: runs(10) },
    );
  });
});

/** A stand-in for Trace: streamRaw only listens to its 'sent' and 'probe' events. */
class FakeTrace extends EventEmitter {}

/** The events a trace emits for these hops: each probe sent, then its result. */
function* events(
  plans: HopPlan[],
): Generator<['sent', { ttl: number; round: number; key: number }] | ['probe', ProbeEvent]> {
  let key = 1000;
  for (const [i, plan] of plans.entries()) {
    const ttl = i + 1;
    for (const [round, o] of plan.outcomes.entries()) {
      key++;
      yield ['sent', { ttl, round, key }];
      const request = { family: 4 as const, protocol: 'icmp' as const, dst: '198.18.9.9', ttl, timeoutMs: 2000 };
      const from = plan.responders[o ? o.from % plan.responders.length : 0] ?? '198.18.0.1';
      const mpls = plan.mpls[o ? o.from % plan.responders.length : 0];
      let result: ProbeEvent['result'] = { request, status: 'timeout', txNs: 0, rttMs: null, key };
      if (o) {
        const reply: NonNullable<ProbeEvent['result']['reply']> = {
          identity: { by: 'icmp-seq', dst: '198.18.9.9', seq: key },
          kind: 'time-exceeded',
          from,
          rxNs: 0,
          kernelTime: true,
        };
        if (mpls) reply.mpls = mpls;
        result = { request, status: 'reply', txNs: 0, rttMs: o.rtt, key, reply };
      }
      yield ['probe', { ttl, round, result }];
    }
  }
}

describe('mtr -l (streamRaw)', () => {
  test("every line in mtr's raw grammar, 0-based hops, one h per responder, one p per timed reply", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((probes) => fc.array(hopPlan(probes), { minLength: 1, maxLength: 12 })),
        fc.boolean(),
        (plans, mpls) => {
          const trace = new FakeTrace();
          const out: string[] = [];
          streamRaw(trace as unknown as Trace, (l) => out.push(l), { mpls });
          for (const [name, e] of events(plans)) trace.emit(name, e);
          assertFinite(out.join('\n'), 'raw');
          for (const l of out) assert.match(l, /^(x \d+ \d+|h \d+ \S+|p \d+ \d+ \d+|m \d+ \d+ \d+ \d+ \d+)$/, l);
          for (const [i, plan] of plans.entries()) {
            const mine = out.filter((l) => l.split(' ')[1] === String(i));
            assert.equal(mine.filter((l) => l.startsWith('x ')).length, plan.outcomes.length);
            const timed = plan.outcomes.filter((o) => o !== null && o.rtt !== null);
            const ps = mine.filter((l) => l.startsWith('p '));
            assert.equal(ps.length, timed.length);
            for (const [j, p] of ps.entries()) {
              const us = Number(p.split(' ')[2]);
              const want = timed[j]?.rtt ?? 0;
              assert.ok(Math.abs(us - want * 1000) <= 0.5, `${p} for ${want} ms`);
            }
            const hs = mine.filter((l) => l.startsWith('h ')).map((l) => l.split(' ')[2]);
            assert.equal(new Set(hs).size, hs.length, 'an address announced twice');
            const answered = buildHop(i + 1, plan).responders.map((x) => x.address);
            assert.deepEqual(new Set(hs), new Set(answered));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** Lost (null) and timed samples per hop for the strip chart. */
const chartSamples = fc.array(fc.option(rtt, { nil: null }), { maxLength: 60 });

function screen(
  r: TraceReport,
  n: Naming,
  mode: DisplayMode,
  columns: number,
  rows: number,
  samples: (number | null)[],
) {
  return renderScreen({
    title: 'vpsline mtr',
    source: 'vm',
    target: r.target,
    address: r.address,
    hops: r.hops,
    samples: new Map(r.hops.map((h, i) => [h.ttl, samples.slice(i % 7)])),
    mode,
    paused: columns % 2 === 0,
    now: new Date(0),
    columns,
    rows,
    ...nameOptions(n),
  });
}

describe('live view (renderScreen)', () => {
  const modes = fc.constantFrom<DisplayMode>('stats', 'jitter', 'chart');

  test('exactly `rows` lines, none wider than the terminal, every hop shown when it fits', () => {
    fc.assert(
      fc.property(
        report({ live: true }),
        naming,
        modes,
        fc.integer({ min: 20, max: 300 }),
        fc.integer({ min: 1, max: 80 }),
        chartSamples,
        (r, n, mode, columns, rows, samples) => {
          const lines = screen(r, n, mode, columns, rows, samples);
          assert.equal(lines.length, rows);
          for (const l of lines) assert.ok(l.length <= columns, `${l.length} > ${columns}: ${l}`);
          assertFinite(lines.join('\n'), 'screen');
          const body = 5 + r.hops.reduce((a, h) => a + 1 + (mode === 'chart' ? 0 : extras(h).length), 0);
          if (rows >= body && columns >= 60)
            for (const h of r.hops)
              assert.ok(
                lines.some((l) => l.startsWith(`${String(h.ttl).padStart(3)}. `)),
                `hop ${h.ttl} missing`,
              );
        },
      ),
      { numRuns: RUNS },
    );
  });

  // Found by this property: below 20 columns the screen was drawn 20 wide.
  test('no line wider than a terminal under 20 columns', () => {
    fc.assert(
      fc.property(report(), naming, modes, fc.integer({ min: 1, max: 19 }), (r, n, mode, columns) => {
        for (const l of screen(r, n, mode, columns, 24, [])) assert.ok(l.length <= columns, `${l.length} > ${columns}`);
      }),
      { numRuns: runs(20) },
    );
  });
});

describe('vpsline classify / backtrace text (src/route/render.ts)', () => {
  const table = CarrierTable.load();

  test('classification and backtrace table: no throw, evidence on real hops, silent targets marked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(report(), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('en' as const, 'zh' as const),
        async (reports, lang) => {
          const results: BacktraceResult[] = [];
          for (const [i, r] of reports.entries()) {
            const c = await classifyTrace(r, table);
            const ttls = ttlsOf(r);
            for (const e of c.evidence) assert.ok(ttls.has(e.ttl), `evidence on hop ${e.ttl}`);
            for (const s of c.segments) for (const t of s.ttls) assert.ok(ttls.has(t), `segment on hop ${t}`);
            const text = renderClassification(c, 'mtr', lang);
            assertFinite(text, 'classification');
            for (const e of c.evidence) assert.ok(text.includes(e.address ?? ''), `${e.address} not shown`);
            // As backtrace() builds its rows.
            const answered = r.destinationTtl !== null;
            const last = [...r.hops].reverse().find((h) => h.received > 0);
            const dest = answered ? r.hops.find((h) => h.ttl === r.destinationTtl) : last;
            results.push({
              ...c,
              target: { name: `t${i}`, address: r.target, carrier: 'ct' },
              destinationAnswered: answered,
              rttMs: dest ? dest.stats.mean : null,
              lossPercent: dest ? dest.lossPercent : null,
              report: r,
            });
          }
          const rows = renderBacktraceTable(results, lang).split('\n');
          assertFinite(rows.join('\n'), 'backtrace table');
          assert.equal(rows.length, results.length + 1);
          for (const [i, res] of results.entries()) {
            const row = rows[i + 1] ?? '';
            assert.ok(row.startsWith(`t${i} ${res.target.address}`), row);
            assert.equal(/\(target silent\)|\(目标无回应\)/.test(row), !res.destinationAnswered, row);
            if (res.rttMs !== null) assert.ok(row.includes(`${res.rttMs.toFixed(1)} ms`), row);
          }
        },
      ),
      { numRuns: runs(60) },
    );
  });
});
