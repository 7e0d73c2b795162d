// The one leniency of the golden comparisons, as a pure function: two
// outputs of the same format are made comparable by masking the start time
// and the RTT values that differ by at most 0.1 ms, nothing else. Counts,
// loss, names, order, spacing and every other byte must match. The lab test
// also passes `outlierHubs` (see MaskOptions): a hop that one late answer
// touched keeps only its Best strict.
//
// RTT tokens are found by format: the report's columns under Last, Avg,
// Best, Wrst, StDev, Gmean and the jitter headers (right-aligned, so a
// masked token must end in the same column in both lines); the same-named
// CSV columns; the same-named XML elements and JSON keys.

const RTT_FIELDS = new Set(['Last', 'Avg', 'Best', 'Wrst', 'StDev', 'Gmean', 'Jttr', 'Javg', 'Jmax', 'Jint']);
/** Tolerance in thousandths of a millisecond. */
const TOLERANCE = 100;

interface Span {
  start: number;
  end: number;
  /** The field (column, element or key) the value belongs to. */
  field: string;
}

function thousandths(s: string): number {
  return Math.round(Number(s) * 1000);
}

/** Spans of RTT values in each line of `text`. */
export function rttSpans(lines: string[]): Span[][] {
  const out: Span[][] = lines.map(() => []);
  // Text report: the header names the fields; a row's last tokens are their values.
  const header = lines.findIndex((l) => l.startsWith('HOST: '));
  if (header >= 0) {
    const names = (lines[header] ?? '').split(/ +/).slice(2);
    lines.forEach((line, i) => {
      if (!/^ +\d+\.[| ]/.test(line)) return;
      const tokens = [...line.matchAll(/\S+/g)].slice(-names.length);
      if (tokens.length !== names.length) return;
      tokens.forEach((m, k) => {
        if (RTT_FIELDS.has(names[k] ?? '') && /^\d+\.\d+$/.test(m[0]))
          out[i]?.push({ start: m.index, end: m.index + m[0].length, field: names[k] ?? '' });
      });
    });
    return out;
  }
  // CSV: columns by the header's names.
  const csvHeader = lines.findIndex((l) => l.startsWith('Mtr_Version,'));
  if (csvHeader >= 0) {
    const columns = (lines[csvHeader] ?? '').split(',');
    lines.forEach((line, i) => {
      if (!line.startsWith('MTR.')) return;
      let at = 0;
      line.split(',').forEach((cell, c) => {
        if (RTT_FIELDS.has(columns[c] ?? '') && /^\d+\.\d+$/.test(cell))
          out[i]?.push({ start: at, end: at + cell.length, field: columns[c] ?? '' });
        at += cell.length + 1;
      });
    });
    return out;
  }
  lines.forEach((line, i) => {
    const xml = /^(\s*<(\w+)>\s*)(\d+\.\d+)<\/\2>$/.exec(line);
    const json = /^(\s*"(\w+)": )(\d+(?:\.\d+)?)(,?)$/.exec(line);
    const m = xml ?? json;
    if (m && RTT_FIELDS.has(m[2] ?? '')) {
      const start = (m[1] ?? '').length;
      out[i]?.push({ start, end: start + (m[3] ?? '').length, field: m[2] ?? '' });
    }
  });
  return out;
}

/**
 * The one deviation kept on purpose in a golden file's text: mtr 0.95 prints
 * an MPLS label's S bit as a raw byte followed by `u` (`S \0u`), vpsline the
 * digit (docs/mtr-compatibility.md). Only label lines are touched.
 */
function mplsBit(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: mtr writes the bit as a raw 0x00 or 0x01 byte
    /^( {7}\[MPLS: Lbl \d+ TC \d+ S )([\x00\x01])u( TTL \d+\])$/gm,
    (_m, a: string, bit: string, b: string) => `${a}${bit.charCodeAt(0)}${b}`,
  );
}

/** The start time: the report's `Start:` line and the CSV rows' Start_Time column. */
function maskStart(text: string): string {
  return mplsBit(text)
    .replace(/^Start: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/m, 'Start: <start time>')
    .replace(/^(MTR\.[^,\n]*,)\d+,/gm, '$1<start time>,');
}

export interface Masked {
  golden: string;
  ours: string;
}

export interface MaskOptions {
  /**
   * For measurements on a path without jitter (the lab): a hop where either
   * output shows an outlier (Wrst 0.1 ms or more above Best: an answer
   * read late, by mtr in user space or by a busy simulator) keeps only its
   * Best strict; its other RTT values need only be there, in their place.
   */
  outlierHubs?: boolean;
  /**
   * Every hop as an outlier hop: only Best is compared within 0.1 ms, the
   * other RTT values need only be there, in their place. For runs where both
   * tools measured the path: mtr times in user space and its spread alone
   * (Wrst 0.07 ms above Best in one CI run) can take a value past 0.1 ms.
   * RTT text is checked exactly by the unit test, RTT accuracy against the
   * lab's truth by test/lab/timing.test.ts.
   */
  allHubsMeasured?: boolean;
}

/** The hub (hop) each line belongs to: a report or CSV row is one; XML and JSON hubs span lines. */
function hubOf(lines: string[]): number[] {
  let hub = -1;
  return lines.map((line, i) => {
    if (/^ +\d+\.[| ]/.test(line) || line.startsWith('MTR.') || /^\s*<HUB /.test(line) || /^\s*"count": /.test(line))
      hub = i;
    return hub;
  });
}

/** Hubs (by their first line) whose Wrst is 0.1 ms or more above their Best. */
function outliers(lines: string[], spans: Span[][]): Set<number> {
  const hubs = hubOf(lines);
  const best = new Map<number, number>();
  const worst = new Map<number, number>();
  spans.forEach((list, i) => {
    for (const s of list) {
      const v = thousandths((lines[i] ?? '').slice(s.start, s.end));
      if (s.field === 'Best') best.set(hubs[i] ?? -1, v);
      if (s.field === 'Wrst') worst.set(hubs[i] ?? -1, v);
    }
  });
  const out = new Set<number>();
  for (const [hub, w] of worst) if (w - (best.get(hub) ?? w) >= 100) out.add(hub);
  return out;
}

/**
 * `ours` rewritten where it may differ from `golden`: the start time, and
 * each RTT value within 0.1 ms of the golden one (taking the golden's text,
 * and its padding when the value still ends in the same column). Compare the
 * two results for equality; anything else that differs stays visible.
 */
export function maskGolden(golden: string, ours: string, opts: MaskOptions = {}): Masked {
  const g = maskStart(golden).split('\n');
  const o = maskStart(ours).split('\n');
  const gs = rttSpans(g);
  const os = rttSpans(o);
  const loose = new Set<number>();
  if (opts.outlierHubs) for (const set of [outliers(g, gs), outliers(o, os)]) for (const h of set) loose.add(h);
  const gHubs = hubOf(g);
  if (opts.allHubsMeasured) for (const h of gHubs) loose.add(h);
  const out = o.map((line, i) => {
    const gl = g[i];
    const gSpans = gs[i] ?? [];
    const oSpans = os[i] ?? [];
    if (gl === undefined || gSpans.length === 0 || gSpans.length !== oSpans.length) return line;
    const looseHub = loose.has(gHubs[i] ?? -1);
    let result = '';
    let gAt = 0;
    let oAt = 0;
    for (let k = 0; k < gSpans.length; k++) {
      const gSpan = gSpans[k] as Span;
      const oSpan = oSpans[k] as Span;
      const gPiece = gl.slice(gAt, gSpan.start);
      const oPiece = line.slice(oAt, oSpan.start);
      const gValue = gl.slice(gSpan.start, gSpan.end);
      const oValue = line.slice(oSpan.start, oSpan.end);
      const close =
        (looseHub && gSpan.field !== 'Best' && gSpan.field === oSpan.field) ||
        Math.abs(thousandths(gValue) - thousandths(oValue)) <= TOLERANCE;
      // Padding may differ only when the values are right-aligned in the same column.
      const samePlace = gPiece === oPiece || (gPiece.trimEnd() === oPiece.trimEnd() && gSpan.end === oSpan.end);
      result += close && samePlace ? gPiece + gValue : oPiece + oValue;
      gAt = gSpan.end;
      oAt = oSpan.end;
    }
    return result + line.slice(oAt);
  });
  return { golden: g.join('\n'), ours: out.join('\n') };
}
