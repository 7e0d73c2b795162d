// Traces pasted as text, in every form people post: mtr -r/-rw/-rz reports,
// WinMTR tables, traceroute and Windows tracert, besttrace/ipip and NextTrace
// tables with geo columns, markdown tables, and hop lists without numbers
// (benchmark scripts print "12.4 ms  AS4809 ..." per hop). One reader for all:
// each line is split into tokens once and judged by what it holds (a hop
// number, addresses, an AS, times, stars). No regular expression here can
// backtrack: every one is anchored, with bounded repetition and no nesting.
import ipaddr from 'ipaddr.js';
import type { ClassifyHop } from './classify.js';

export type TextFormat = 'mtr-report' | 'winmtr' | 'markdown-table' | 'tracert' | 'traceroute' | 'hop-list';

/**
 * A hop's figures as the source printed them: mtr's and WinMTR's columns, or what traceroute's
 * per-probe times and stars add up to. Only what the source had; nothing is filled in.
 */
export interface HopFigures {
  lossPercent?: number;
  sent?: number;
  received?: number;
  last?: number;
  avg?: number;
  best?: number;
  worst?: number;
  stdev?: number;
}

/** A hop read from someone's trace: what the classifier needs, and the name and figures it showed. */
export interface ImportedHop extends ClassifyHop {
  /** The host name the trace showed for the hop (reverse DNS at the sender's side): untrusted text. */
  name?: string;
  figures?: HopFigures;
}

export interface TextTrace {
  format: TextFormat;
  target?: string;
  hops: ImportedHop[];
  /** Hops shown by name only: without an address they cannot be classified. */
  namesOnly: number;
  /** TTLs answered from more than one address (ECMP). */
  multiAddress: number;
  /** More hop lines than the reader takes: it stopped there. */
  truncated?: boolean;
}

/** Lines longer than this are not hop lines (a hop line is under 300 characters): they are skipped. */
const MAX_LINE = 2000;

/**
 * Whois net names that NextTrace and the benchmark scripts print in brackets, often with no AS number
 * or address: they name the network as well as a prefix would (the 163 backbone shares AS4134 with the
 * provincial networks, and only its net name tells them apart).
 */
const NETNAME_CARRIER: Record<string, string> = {
  'CN2-BACKBONE': 'cn2',
  'CN2-BB': 'cn2',
  'CN2-GLOBAL': 'cn2',
  'CHINANET-BB': 'chinanet-163',
  'CHINANET-BACKBONE': 'chinanet-163',
  'CTG-CN': 'ctgnet',
  'CU169-BACKBONE': 'cu-4837',
  'CUG-BACKBONE': 'cu-10099',
  'CMI-INT': 'cmi',
  'CMIN2-NET': 'cmin2',
  CMNET: 'cmnet',
};

export function isAddress(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  return ipaddr.isValid(s) && (s.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(s));
}

/** Brackets, parentheses, pipes and punctuation around a token: "(59.43.1.1)", "[AS4809]", "1.2.3.4," */
function bare(token: string): string {
  let a = 0;
  let b = token.length;
  while (a < b && '([<{|"\''.includes(token.charAt(a))) a++;
  while (b > a && ')]>}|,;"\'。：:'.includes(token.charAt(b - 1))) b--;
  // An IPv6 address may end in ':' ("2001:db8::"): keep it when the bare form is not an address.
  const inner = token.slice(a, b);
  if (token.charAt(b) === ':' && isAddress(`${inner}:`)) return `${inner}:`;
  return inner;
}

interface LineFacts {
  /** The hop number the line starts with, if any. */
  ttl: number | null;
  addresses: string[];
  asn: number | null;
  /** The carrier the line names by a whois net name. */
  netname: string | null;
  /** "*", "Request timed out", "请求超时", WinMTR's "No response from host". */
  silent: boolean;
  /** Carries a round-trip time ("12.3 ms", "<1 ms", "12.3ms"). */
  timed: boolean;
  /** Words that are neither addresses, times, AS numbers nor stars: a host name, a place. */
  named: boolean;
  /** Looks like a table row (cells separated by '|'). */
  table: boolean;
  winmtr: boolean;
  /** An mtr report row ("  3.|-- host" or "  3. AS4809 host"): a hop even when shown by name only. */
  mtrRow: boolean;
  /** Bare numbers that are not times: statistic columns, in order ("0.0%" -> 0). */
  numbers: number[];
  /** Round-trip times in ms, in order ("<1 ms" counts as 1, the bound it states). */
  times: number[];
  /** Probes shown as "*". */
  stars: number;
  /** The first token that reads as a host name. */
  name: string | null;
}

/**
 * Statistic columns by the names mtr (report and screen) and WinMTR print in their headers. Other
 * columns mtr can show (-o: Drop, Gmean, Jttr, ...) keep their place and are not read.
 */
const COLUMNS: Record<string, keyof HopFigures | null> = {
  'LOSS%': 'lossPercent',
  LOSS: 'lossPercent',
  '%': 'lossPercent',
  SNT: 'sent',
  SENT: 'sent',
  RECV: 'received',
  RCV: 'received',
  LAST: 'last',
  AVG: 'avg',
  AVRG: 'avg',
  BEST: 'best',
  WRST: 'worst',
  WORST: 'worst',
  STDEV: 'stdev',
  DROP: null,
  GMEAN: null,
  JTTR: null,
  JAVG: null,
  JMAX: null,
  JINT: null,
};

/** A statistics header ("HOST: x  Loss%  Snt  Last ...", WinMTR's "| Host - % | Sent | ..."): its columns in order. */
function headerColumns(line: string): (keyof HopFigures | null)[] | undefined {
  const names = line
    .split(/[\s|]+/)
    .map((t) => t.toUpperCase())
    .filter((t) => t in COLUMNS);
  const known = new Set(names.map((n) => COLUMNS[n]).filter(Boolean));
  if (known.size < 4) return undefined;
  // "% | loss" over one column (a WinMTR variant): one name of a figure right after another is one column.
  const columns = names.map((n) => COLUMNS[n] ?? null);
  return columns.filter((c, i) => c === null || c !== columns[i - 1]);
}

/** Figures from a row's statistic numbers, right-aligned to the header's columns. */
function columnFigures(numbers: number[], columns: (keyof HopFigures | null)[]): HopFigures | undefined {
  if (numbers.length < columns.length) return undefined;
  const values = numbers.slice(numbers.length - columns.length);
  const figures: HopFigures = {};
  for (const [i, c] of columns.entries()) {
    const value = values[i];
    if (c && value !== undefined) figures[c] = value;
  }
  return figures;
}

/** A numbered row under a statistics header with a figure for every column: a hop, even shown by name only. */
function statisticsRow(f: LineFacts, columns: (keyof HopFigures | null)[] | undefined): boolean {
  return columns !== undefined && f.named && f.numbers.length >= columns.length;
}

/** Figures from traceroute's per-probe times and stars. */
function probeFigures(times: number[], stars: number): HopFigures | undefined {
  const sent = times.length + stars;
  if (!sent) return undefined;
  const figures: HopFigures = { sent, received: times.length, lossPercent: (100 * stars) / sent };
  const last = times.at(-1);
  if (last !== undefined) {
    figures.last = last;
    figures.best = Math.min(...times);
    figures.worst = Math.max(...times);
    figures.avg = times.reduce((a, b) => a + b, 0) / times.length;
  }
  return figures;
}

const SILENT_WORDS = ['Request timed out', '请求超时', 'No response from host', 'Zeitüberschreitung', 'Délai d'];

/** What a line holds; `line` is at most MAX_LINE long (the reader skips longer ones). */
function factsOf(line: string): LineFacts {
  const table = line.includes('|') && !line.includes('|--');
  const winmtr = table && / - +\d{1,3} +\|/.test(line);
  // mtr writes "  3.|-- host" and "  3. AS4809 host"; markdown tables "| 3 | host |" or " 3|host|".
  const m = /^[\s|]{0,40}(\d{1,3})(?:\.(?=[|\s])|\s|\|)/.exec(line);
  let ttl = m?.[1] !== undefined ? Number(m[1]) : null;
  if (ttl !== null && (ttl < 1 || ttl > 255)) ttl = null;
  const f: LineFacts = {
    ttl,
    addresses: [],
    asn: null,
    netname: null,
    silent: SILENT_WORDS.some((w) => line.includes(w)),
    timed: false,
    named: false,
    table,
    winmtr,
    mtrRow: /^\s{0,8}\d{1,3}\.(?:\|--|\s{1,8}AS)/.test(line),
    numbers: [],
    times: [],
    stars: 0,
    name: null,
  };
  const tokens = line.split(/[\s|]+/);
  let skipTtl = ttl !== null;
  for (const [i, token] of tokens.entries()) {
    if (!token) continue;
    if (skipTtl && /^\d{1,3}\.?(?:\|--)?$/.test(token)) {
      skipTtl = false;
      continue;
    }
    const t = bare(token);
    if (!t) continue;
    if (t === '*' || t === '???') {
      if (t === '*' && !f.addresses.length && !f.timed) f.silent = true;
      if (t === '*') f.stars++;
      continue;
    }
    if (isAddress(t)) {
      if (!f.addresses.includes(t)) f.addresses.push(t);
      continue;
    }
    const as = /^AS(\d{1,10})$/i.exec(t);
    if (as) {
      f.asn = f.asn ?? Number(as[1]);
      continue;
    }
    if (/^AS\?*$/i.test(t)) continue;
    if (t === 'ms' || /^<?\d{1,6}(?:\.\d{1,6})?ms$/.test(t)) {
      f.timed = true;
      if (t !== 'ms') f.times.push(Number(t.slice(t.startsWith('<') ? 1 : 0, -2)));
      continue;
    }
    if (/^[<>]?\d{1,9}(?:\.\d{1,9})?%?$/.test(t)) {
      // A bare number before "ms" is a time; elsewhere a statistic.
      const value = Number(t.replace(/^[<>]/, '').replace(/%$/, ''));
      if (tokens[i + 1] === 'ms') {
        f.timed = true;
        f.times.push(value);
      } else f.numbers.push(value);
      continue;
    }
    const upper = t.toUpperCase();
    f.netname = f.netname ?? NETNAME_CARRIER[upper] ?? null;
    if (/[a-z]/i.test(t) && t !== '-') f.named = true;
    if (f.name === null && /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}(?:\.[A-Za-z0-9_-]{1,63}){1,20}\.?$/.test(t)) f.name = t;
  }
  return f;
}

function isSeparator(line: string): boolean {
  return /^[\s|:+=-]{3,}$/.test(line);
}

/** Read every hop line; undefined when the text has none. */
export function readTextTrace(text: string, maxHopLines: number): TextTrace | undefined {
  const lines = text.split('\n');
  let format: TextFormat | undefined;
  let target: string | undefined;
  let namesOnly = 0;
  let sawNumbered = false;
  let sequence = 0;
  const hops: ImportedHop[] = [];
  const addressesAt = new Map<number, Set<string>>();
  let lastTtl: number | null = null;
  let columns: (keyof HopFigures | null)[] | undefined;

  for (const line of lines) {
    // Reading the start of a 250 KB "hop line" would make a hop out of whatever it begins with.
    if (line.length > MAX_LINE || isSeparator(line)) continue;
    const head =
      /^\s{0,8}traceroute6? to (\S{1,255})/.exec(line) ??
      /^\s{0,8}Tracing route to (?:\S{1,255} \[)?([^\s\]]{1,255})/.exec(line);
    if (head?.[1]) {
      target = bare(head[1]);
      format ??= line.includes('Tracing route') ? 'tracert' : 'traceroute';
      lastTtl = null;
      continue;
    }
    if (/^\s{0,8}通过最多 \d{1,3} 个跃点跟踪/.test(line)) {
      format ??= 'tracert';
      continue;
    }
    if (/^\s{0,8}HOST: /.test(line)) format ??= 'mtr-report';
    const header = headerColumns(line);
    if (header) {
      columns = header;
      continue;
    }
    const f = factsOf(line);
    const any = f.addresses.length > 0 || f.asn !== null || f.netname !== null;
    let ttl: number | null = null;
    if (f.winmtr) {
      format ??= 'winmtr';
      ttl = ++sequence;
    } else if (f.ttl !== null && (any || f.silent || f.timed || f.mtrRow || statisticsRow(f, columns))) {
      ttl = f.ttl;
      sawNumbered = true;
      if (f.table) format ??= 'markdown-table';
      if (f.mtrRow) format ??= 'mtr-report';
    } else if (!f.table && f.ttl === null && (any || f.silent) && f.timed) {
      // A continuation line of the hop above ("    59.43.1.1  12.3 ms"), or a hop of a list without numbers.
      ttl = sawNumbered && lastTtl !== null ? lastTtl : ++sequence;
      if (!sawNumbered) format ??= 'hop-list';
    } else if (!sawNumbered && f.ttl === null && !f.table && f.asn !== null && f.addresses.length) {
      // "name (address) [AS3462] ..." lists without numbers or times.
      ttl = ++sequence;
      format ??= 'hop-list';
    } else continue;

    if (hops.length >= maxHopLines)
      return { format: format ?? 'traceroute', hops, namesOnly, multiAddress: 0, truncated: true };
    lastTtl = ttl;
    const [address = null] = f.addresses;
    if (!address && f.named && !f.silent && f.asn === null) namesOnly++;
    const hop: ImportedHop = { ttl, address };
    if (f.asn !== null) hop.asn = f.asn;
    if (f.netname) hop.netname = f.netname;
    if (f.name) hop.name = f.name;
    const figures = columns ? columnFigures(f.numbers, columns) : probeFigures(f.times, f.stars);
    if (figures) hop.figures = figures;
    hops.push(hop);
    for (const a of f.addresses) {
      const seen = addressesAt.get(ttl) ?? new Set<string>();
      seen.add(a);
      addressesAt.set(ttl, seen);
    }
  }
  if (!hops.length) return undefined;
  const multiAddress = [...addressesAt.values()].filter((s) => s.size > 1).length;
  return { format: format ?? 'traceroute', ...(target ? { target } : {}), hops, namesOnly, multiAddress };
}
