// A TraceReport rebuilt from a golden file's printed values and the golden
// path (addresses, names, AS numbers, labels from lab/scenarios/golden.yaml
// and cases.ts), so vpsline's renderers can be compared with mtr's output
// without the lab. Hop figures are what mtr printed (tenths in the report,
// hundredths in CSV, microseconds in JSON), so rendering them again must give
// the same text.
import { parseCymru } from '../../src/lookup/asn.js';
import type { HopSnapshot, Responder } from '../../src/trace/hop.js';
import type { LatencyStats } from '../../src/trace/stats.js';
import type { TraceReport } from '../../src/trace/trace.js';
import { loadNamedScenario } from '../../lab/sim/scenario.js';
import { cymruName } from '../../src/lookup/asn.js';
import { GOLDEN_DNS, GOLDEN_SCENARIO, type GoldenCase } from './cases.js';

export interface HubValues {
  ttl: number;
  host: string;
  loss: number;
  sent: number;
  last: number;
  avg: number;
  best: number;
  worst: number;
  stdev: number;
  /** ECMP lines under the hop (names or addresses as printed). */
  extras: string[];
}

export interface Parsed {
  source: string;
  target: string;
  hubs: HubValues[];
  /** CSV's Start_Time (seconds), when the format has it. */
  csvTime?: number;
}

const num = (s: string | undefined): number => Number(s);

/** Values of a text report (-r, -rw, -rz, ...). */
function parseText(text: string): Parsed {
  const lines = text.split('\n');
  const source = /^HOST: (\S+)/m.exec(text)?.[1] ?? '';
  const hubs: HubValues[] = [];
  for (const line of lines) {
    const row =
      /^ +(\d+)\.(?:\|-- | AS(?:\d+|\?\?\?) *)(.*?) +(\S+?)%? +(\d+) +(\S+) +(\S+) +(\S+) +(\S+) +(\S+)$/.exec(line);
    if (row) {
      hubs.push({
        ttl: num(row[1]),
        host: row[2] ?? '',
        loss: num(row[3]),
        sent: num(row[4]),
        last: num(row[5]),
        avg: num(row[6]),
        best: num(row[7]),
        worst: num(row[8]),
        stdev: num(row[9]),
        extras: [],
      });
      continue;
    }
    const extra = /^ {8}(\S.*?) *$/.exec(line);
    if (extra) hubs.at(-1)?.extras.push(extra[1] ?? '');
  }
  return { source, target: '', hubs };
}

function parseCsv(text: string): Parsed {
  const [head = '', ...rows] = text.trimEnd().split('\n');
  const columns = head.split(',');
  const col = (cells: string[], name: string): string | undefined => cells[columns.indexOf(name)];
  const cells = rows.map((r) => r.split(','));
  return {
    source: '',
    target: col(cells[0] ?? [], 'Host') ?? '',
    csvTime: num(col(cells[0] ?? [], 'Start_Time')),
    hubs: cells.map((c) => ({
      ttl: num(col(c, 'Hop')),
      host: col(c, 'Ip') ?? '',
      loss: num(col(c, 'Loss%')),
      sent: num(col(c, 'Snt')),
      last: num(col(c, 'Last')),
      avg: num(col(c, 'Avg')),
      best: num(col(c, 'Best')),
      worst: num(col(c, 'Wrst')),
      stdev: num(col(c, 'StDev')),
      extras: [],
    })),
  };
}

function parseXml(text: string): Parsed {
  const hubs = [...text.matchAll(/<HUB COUNT="(\d+)" HOST="([^"]*)">([\s\S]*?)<\/HUB>/g)].map((m) => {
    const v = (tag: string): number => num(new RegExp(`<${tag}> *([\\d.]+)%?</${tag}>`).exec(m[3] ?? '')?.[1]);
    return {
      ttl: num(m[1]),
      host: m[2] ?? '',
      loss: v('Loss'),
      sent: v('Snt'),
      last: v('Last'),
      avg: v('Avg'),
      best: v('Best'),
      worst: v('Wrst'),
      stdev: v('StDev'),
      extras: [],
    };
  });
  return {
    source: /SRC="([^"]*)"/.exec(text)?.[1] ?? '',
    target: /DST="([^"]*)"/.exec(text)?.[1] ?? '',
    hubs,
  };
}

interface JsonHub {
  count: number;
  host: string;
  [key: string]: number | string;
}

function parseJson(text: string): Parsed {
  const doc = JSON.parse(text) as { report: { mtr: { src: string; dst: string }; hubs: JsonHub[] } };
  return {
    source: doc.report.mtr.src,
    target: doc.report.mtr.dst,
    hubs: doc.report.hubs.map((h) => ({
      ttl: h.count,
      host: h.host,
      loss: num(String(h['Loss%'])),
      sent: num(String(h.Snt)),
      last: num(String(h.Last)),
      avg: num(String(h.Avg)),
      best: num(String(h.Best)),
      worst: num(String(h.Wrst)),
      stdev: num(String(h.StDev)),
      extras: [],
    })),
  };
}

export type Format = 'report' | 'csv' | 'xml' | 'json';

/** mtr's display mode: the last of -r -w -C -x -j in the flags wins (-w is a wide report). */
export function formatOf(c: GoldenCase): Format {
  const modes: Record<string, Format> = { r: 'report', w: 'report', C: 'csv', x: 'xml', j: 'json' };
  let format: Format = 'report';
  for (const flag of c.args[0] ?? '') format = modes[flag] ?? format;
  return format;
}

export function parseGolden(format: Format, text: string): Parsed {
  switch (format) {
    case 'csv':
      return parseCsv(text);
    case 'xml':
      return parseXml(text);
    case 'json':
      return parseJson(text);
    default:
      return parseText(text);
  }
}

function reverseName(address: string): string {
  if (!address.includes(':')) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  return cymruName(address).replace(/\.origin6\.asn\.cymru\.com$/, '.ip6.arpa');
}

/** The golden path's reverse names and AS numbers, as the lab DNS server answers them. */
export const goldenNameOf = (address: string): string | undefined => GOLDEN_DNS.ptr?.[reverseName(address)];
export const goldenAsOf = (address: string): string | null => {
  const txt = GOLDEN_DNS.txt?.[cymruName(address)];
  return txt ? parseCymru(txt) : null;
};

function statsOf(h: HubValues, received: number): LatencyStats {
  return {
    received,
    last: h.last,
    best: h.best,
    worst: h.worst,
    mean: h.avg,
    stdev: h.stdev,
    gmean: h.avg,
    jitter: 0,
    jitterMean: 0,
    jitterMax: 0,
    jitterInterarrival: 0,
  };
}

/** The report behind a golden file: the lab path's hops with the file's figures. */
export function rebuildReport(c: GoldenCase, parsed: Parsed, startedAt: Date): TraceReport {
  const family = c.target.includes(':') ? 6 : 4;
  const path = loadNamedScenario(GOLDEN_SCENARIO).paths.find(
    (p) => p.target.v4 === c.target || p.target.v6 === c.target,
  );
  if (!path) throw new Error('the golden scenario has no path');
  const addressesAt = (ttl: number): string[] => {
    const spec = path.hops[ttl - 1];
    if (!spec) return [c.target];
    return spec.silent ? [] : family === 4 ? spec.v4 : spec.v6;
  };
  const printed = (address: string): string[] => {
    const name = goldenNameOf(address);
    return [address, ...(name ? [name, `${name} (${address})`] : [])];
  };
  const hops: HopSnapshot[] = parsed.hubs.map((h) => {
    const all = addressesAt(h.ttl);
    // A narrow report cuts names: the printed start of one is enough.
    const primary = all.find((a) => printed(a).some((p) => p === h.host || p.startsWith(h.host))) ?? null;
    const extras = h.extras.map(
      (e) => all.find((a) => a !== primary && (printed(a).includes(e) || e.startsWith(a))) ?? e,
    );
    const received = Math.round(h.sent * (1 - h.loss / 100));
    const mpls = path.hops[h.ttl - 1]?.mpls;
    const responders: Responder[] = (primary ? [primary, ...extras] : []).map((address) => ({
      address,
      received,
      stats: statsOf(h, received),
      ...(mpls ? { mpls } : {}),
    }));
    return {
      ttl: h.ttl,
      address: primary,
      responders,
      sent: h.sent,
      received,
      lost: h.sent - received,
      inFlight: 0,
      lossPercent: h.loss,
      stats: statsOf(h, received),
      ...(mpls ? { mpls } : {}),
      untimed: 0,
    };
  });
  return {
    target: c.target,
    settings: {
      protocol: 'icmp',
      firstTtl: 1,
      maxTtl: 30,
      interval: 0.2,
      cycles: 10,
      packetSize: 64,
      tos: 0,
      timeout: 2,
      maxUnknown: 12,
    },
    address: c.target,
    family,
    mode: { protocol: 'icmp', socket: 'raw', fallbacks: [] },
    source: parsed.source,
    startedAt,
    endedAt: parsed.csvTime ? new Date(parsed.csvTime * 1000) : startedAt,
    endReason: 'completed',
    rounds: 10,
    hops,
    destinationTtl: hops.length,
  };
}

/**
 * vpsline's JSON without its additions (the `vpsline` objects, always the
 * last key of their object), so what is left must be mtr's document.
 */
export function withoutExtensions(json: string): string {
  const lines = json.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)"vpsline": \{$/.exec(lines[i] ?? '');
    if (!open) {
      out.push(lines[i] ?? '');
      continue;
    }
    const close = `${open[1]}}`;
    while (i < lines.length && lines[i] !== close) i++;
    const prev = out.length - 1;
    out[prev] = (out[prev] ?? '').replace(/,$/, '');
  }
  return out.join('\n');
}
