// Read a trace someone already ran (their home PC towards the server, say)
// into hops the classifier understands. The format is detected from the text.
import { VpslineError } from '../errors.js';
import { errorMessage, isObject } from '../lookup/narrow.js';
import type { Classification } from './classify.js';
import { type HopFigures, type ImportedHop, isAddress, readTextTrace, type TextFormat } from './import-text.js';
import { addNote } from './notes.js';

export type TraceFormat = 'vpsline-json' | 'mtr-json' | 'trippy-json' | 'nexttrace-json' | TextFormat;

export interface ImportedTrace {
  format: TraceFormat;
  target?: string;
  hops: ImportedHop[];
  /** Hops shown by name only: without an address they cannot be classified. */
  namesOnly: number;
  /** TTLs answered from more than one address (ECMP); the most frequent one is used. */
  multiAddress: number;
  /** The text had more hop lines than are read (refused, never classified). */
  truncated?: boolean;
}

/** "AS4809" / "4809" / "AS???" -> 4809 / null */
function asNumber(v: unknown): number | null {
  const m = /^(?:AS)?(\d+)$/i.exec(String(v ?? '').trim());
  return m ? Number(m[1]) : null;
}

/** mtr's host column: "???", an address, a name, or "name (address)". */
function hostAddress(host: string): { address: string | null; nameOnly: boolean } {
  const h = host.trim();
  if (!h || h === '???') return { address: null, nameOnly: false };
  if (isAddress(h)) return { address: h, nameOnly: false };
  const inner = /\(([^()\s]+)\)$/.exec(h)?.[1];
  if (inner !== undefined && isAddress(inner)) return { address: inner, nameOnly: false };
  return { address: null, nameOnly: true };
}

/** A finite number from a JSON value that holds one (trippy writes its statistics as strings). */
function numberOf(v: unknown): number | undefined {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,12}(?:\.\d{1,12})?$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Figures from the named fields of a JSON row: `fields` maps each figure to the row's key for it. */
function jsonFigures(row: Record<string, unknown>, fields: Record<keyof HopFigures, string>): HopFigures | undefined {
  const figures: HopFigures = {};
  for (const [figure, key] of Object.entries(fields) as [keyof HopFigures, string][]) {
    const n = numberOf(row[key]);
    if (n !== undefined) figures[figure] = n;
  }
  return Object.keys(figures).length ? figures : undefined;
}

/** A host name a JSON row gives, when it is a name (not the address again). */
function hostName(v: unknown, address: string | null): string | undefined {
  if (typeof v !== 'string') return undefined;
  // mtr writes "name (address)".
  const open = v.endsWith(')') ? v.lastIndexOf('(') : -1;
  const name = (open >= 0 ? v.slice(0, open) : v).trim();
  return name && name !== address && name !== '???' && name.length <= 253 && !isAddress(name) ? name : undefined;
}

const MTR_FIELDS: Record<keyof HopFigures, string> = {
  lossPercent: 'Loss%',
  sent: 'Snt',
  received: 'Rcv',
  last: 'Last',
  avg: 'Avg',
  best: 'Best',
  worst: 'Wrst',
  stdev: 'StDev',
};

const TRIPPY_FIELDS: Record<keyof HopFigures, string> = {
  lossPercent: 'loss_pct',
  sent: 'sent',
  received: 'recv',
  last: 'last',
  avg: 'avg',
  best: 'best',
  worst: 'worst',
  stdev: 'stddev',
};

/** A TTL as the tools write it: a number, or (older mtr versions) a string of digits. */
function ttlOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * mtr `--json` (`{ report: { mtr: { dst }, hubs: [{ count, host, ASN, ... }] } }`) and vpsline's
 * own JSON, which adds `vpsline: { ttl, address, mpls }` to each hub and to the report.
 * Every field is checked where it is read: this is text from anyone.
 */
function fromJson(doc: Record<string, unknown>): ImportedTrace | undefined {
  const report = doc.report;
  if (!isObject(report) || !Array.isArray(report.hubs)) return undefined;
  const hubs: unknown[] = report.hubs;
  let namesOnly = 0;
  const hops = hubs.map((raw, i): ImportedHop => {
    const hub = isObject(raw) ? raw : {};
    const own = isObject(hub.vpsline) ? hub.vpsline : {};
    const ttl = ttlOf(own.ttl) ?? ttlOf(hub.count) ?? i + 1;
    let address = typeof own.address === 'string' ? own.address : null;
    if (!hub.vpsline) {
      const h = hostAddress(typeof hub.host === 'string' ? hub.host : '');
      address = h.address;
      if (h.nameOnly) namesOnly++;
    }
    const hop: ImportedHop = { ttl, address };
    const asn = asNumber(hub.ASN);
    if (asn) hop.asn = asn;
    if (Array.isArray(own.mpls) && own.mpls.length > 0) hop.mpls = true;
    const name = hostName(hub.host, address);
    if (name) hop.name = name;
    const figures = jsonFigures(hub, MTR_FIELDS);
    if (figures) hop.figures = figures;
    return hop;
  });
  const dst = isObject(report.mtr) ? report.mtr.dst : undefined;
  return {
    format: report.vpsline ? 'vpsline-json' : 'mtr-json',
    ...(typeof dst === 'string' && dst ? { target: dst } : {}),
    hops,
    namesOnly,
    multiAddress: 0,
  };
}

/**
 * trippy `-m json` (crates/trippy-tui/src/report/types.rs): `{ info: { target: { ip } },
 * hops: [{ ttl, hosts: [{ ip, hostname }], extensions: [{ mpls: {...} }], loss_pct: "0.00", ... }] }`.
 * Statistics are strings; only the addresses and extensions matter here.
 */
function fromTrippy(doc: Record<string, unknown>): ImportedTrace | undefined {
  if (!doc.info || !Array.isArray(doc.hops)) return undefined;
  const rows: unknown[] = doc.hops;
  let multiAddress = 0;
  const hops = rows.map((raw, i): ImportedHop => {
    const h = isObject(raw) ? raw : {};
    const hosts: unknown[] = Array.isArray(h.hosts) ? h.hosts : [];
    const addrs = hosts
      .map((x) => (isObject(x) ? x.ip : undefined))
      .filter((ip): ip is string => typeof ip === 'string' && isAddress(ip));
    // trippy lists a TTL's responders in the order first seen.
    if (addrs.length > 1) multiAddress++;
    const hop: ImportedHop = { ttl: typeof h.ttl === 'number' ? h.ttl : i + 1, address: addrs[0] ?? null };
    const extensions: unknown[] = Array.isArray(h.extensions) ? h.extensions : [];
    if (extensions.some((e) => isObject(e) && 'mpls' in e)) hop.mpls = true;
    const first = isObject(hosts[0]) ? hosts[0] : {};
    const name = hostName(first.hostname, hop.address);
    if (name) hop.name = name;
    const figures = jsonFigures(h, TRIPPY_FIELDS);
    if (figures) hop.figures = figures;
    return hop;
  });
  const info = isObject(doc.info) ? doc.info : {};
  const target = isObject(info.target) ? info.target.ip : undefined;
  return {
    format: 'trippy-json',
    ...(typeof target === 'string' && target ? { target } : {}),
    hops,
    namesOnly: 0,
    multiAddress,
  };
}

/**
 * NextTrace `--json` (NTrace-core trace.Result marshalled by encoding/json): `{ Hops: [[{ Success,
 * Address: { IP, Zone } | null, Hostname, TTL, RTT (ns), Geo: { asnumber, ... } | null, MPLS: [...] | null },
 * ...attempts]], TraceMapUrl }`.
 */
function fromNextTrace(doc: Record<string, unknown>): ImportedTrace | undefined {
  if (!Array.isArray(doc.Hops) || !doc.Hops.every((ttl) => Array.isArray(ttl))) return undefined;
  const rows: unknown[][] = doc.Hops;
  let multiAddress = 0;
  const hops = rows.map((attempts, i): ImportedHop => {
    // The attempts that got an answer, with the address that gave it.
    const answered: { ip: string; attempt: Record<string, unknown> }[] = [];
    for (const a of attempts) {
      if (!isObject(a) || !a.Success) continue;
      const ip = isObject(a.Address) ? a.Address.IP : undefined;
      if (typeof ip === 'string' && isAddress(ip)) answered.push({ ip, attempt: a });
    }
    const counts = new Map<string, number>();
    for (const { ip } of answered) counts.set(ip, (counts.get(ip) ?? 0) + 1);
    if (counts.size > 1) multiAddress++;
    const address = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    const ttl =
      attempts.map((a) => (isObject(a) ? a.TTL : undefined)).find((t): t is number => typeof t === 'number') ?? i + 1;
    const hop: ImportedHop = { ttl, address };
    // RTT is in nanoseconds (Go's time.Duration); an attempt without Success is a lost probe.
    const times = answered.map(({ attempt }) => numberOf(attempt.RTT)).filter((n): n is number => n !== undefined);
    if (attempts.length) {
      hop.figures = { sent: attempts.length, received: answered.length };
      hop.figures.lossPercent = (100 * (attempts.length - answered.length)) / attempts.length;
      if (times.length) {
        const ms = times.map((n) => n / 1e6);
        Object.assign(hop.figures, {
          best: Math.min(...ms),
          worst: Math.max(...ms),
          avg: ms.reduce((a, b) => a + b, 0) / ms.length,
          last: ms.at(-1),
        });
      }
    }
    const chosen = answered.find((a) => a.ip === address)?.attempt;
    const name = hostName(chosen?.Hostname, address);
    if (name) hop.name = name;
    const geo = chosen && isObject(chosen.Geo) ? chosen.Geo : undefined;
    const asn = asNumber(geo?.asnumber);
    if (asn) hop.asn = asn;
    if (answered.some(({ attempt }) => Array.isArray(attempt.MPLS) && attempt.MPLS.length > 0)) hop.mpls = true;
    return hop;
  });
  return { format: 'nexttrace-json', hops, namesOnly: 0, multiAddress };
}

/** The most text one trace is read from; the looking glass's upload limit is below it. */
export const MAX_TRACE_BYTES = 2 * 1024 * 1024;
/** The most hop lines one trace is read from (255 TTLs with a few addresses each). */
export const MAX_HOP_LINES = 4096;

function refuse(message: string): never {
  throw new VpslineError('EVPSLINE_BAD_OPTION', message, 2);
}

/** The JSON a text holds, from its first line that opens an object or a list (a shell prompt may come first). */
function jsonPart(text: string): string | undefined {
  const at = /(?:^|\n)[ \t]{0,16}(?=[{[])/.exec(text);
  if (!at) return undefined;
  const from = text.slice(at.index).trim();
  // "[root@host ~]# mtr ..." opens with '[' but is a prompt, not JSON; a prompt may also follow it.
  if (!/^(?:\{|\[\s{0,64}[{[\]"\d-])/.test(from)) return undefined;
  const end = Math.max(from.lastIndexOf('}'), from.lastIndexOf(']'));
  return end > 0 ? from.slice(0, end + 1) : from;
}

/** Detect the format and read the hops; a text that is none of them gets a clear error. */
export function importTrace(input: string): ImportedTrace {
  if (input.length > MAX_TRACE_BYTES)
    refuse(
      `The trace is ${(input.length / 1048576).toFixed(1)} MB; vpsline reads at most ` +
        `${MAX_TRACE_BYTES / 1048576} MB: paste one trace.`,
    );
  // Windows tools write CRLF, old Macs CR; a NUL means binary, not text.
  if (input.includes('\u0000'))
    refuse('This is binary data, not a trace: paste the text that mtr or traceroute printed.');
  const text = input.replace(/\r\n?/g, '\n');
  if (!text.trim()) refuse('The trace is empty: paste or pipe the output of mtr, vpsline mtr or traceroute.');
  const json = jsonPart(text);
  let jsonError: string | undefined;
  if (json !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(json);
    } catch (err) {
      jsonError = errorMessage(err);
    }
    if (jsonError === undefined) {
      const first: unknown = Array.isArray(doc) ? doc[0] : doc;
      // A JSON list is read by its first element.
      const read = isObject(first) ? (fromJson(first) ?? fromTrippy(first) ?? fromNextTrace(first)) : undefined;
      if (read) return checkHops(read);
      refuse(
        'This JSON is not a trace vpsline reads (mtr --json, vpsline --json, trippy -m json or nexttrace --json).',
      );
    }
  }
  const parsed = readTextTrace(text, MAX_HOP_LINES);
  if (parsed) return checkHops(parsed);
  if (jsonError !== undefined) refuse(`The trace looks like JSON but does not parse: ${jsonError.slice(0, 120)}.`);
  return refuse(
    'Cannot read this trace: expected mtr -r or --json output, WinMTR, traceroute or tracert, ' +
      'besttrace or NextTrace output, a markdown table of hops, or trippy JSON.',
  );
}

function checkHops(t: ImportedTrace): ImportedTrace {
  if (t.truncated || t.hops.length > MAX_HOP_LINES)
    refuse(`The trace has more than ${MAX_HOP_LINES} hop lines; vpsline reads one trace of at most 255 hops.`);
  if (!t.hops.length) refuse('The trace has no hops: paste the lines with the hop numbers and addresses.');
  return t;
}

/** What the import itself has to say about a classification of its hops (load balancing, hops without addresses). */
export function addImportNotes(c: Classification, trace: ImportedTrace): void {
  if (trace.multiAddress) addNote(c, 'multi-address', { count: trace.multiAddress });
  if (trace.namesOnly) addNote(c, 'names-only', { count: trace.namesOnly });
}
