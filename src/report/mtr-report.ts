// mtr's report layout (`mtr -r`, `-rw`), byte for byte where scripts depend on it.
// Geometry taken from mtr 0.95 outputs: a narrow report writes its statistics
// from column 33 (host names cut to 25 characters, 27 in the header); a wide
// report pads names to the longest one. Each field has a fixed width; a value
// wider than its field loses its tail to the next one (so 100% loss prints as
// `100.0`, as in mtr). RTTs of a second or more are printed whole instead of
// being cut like mtr does (mtr#92): a wrong number helps nobody.
import type { HopSnapshot } from '../trace/hop.js';
import type { TraceReport } from '../trace/trace.js';

interface Field {
  header: string;
  width: number;
  /** Whether an over-wide value may spill (true) or is cut to the width (false, mtr's behaviour). */
  spill: boolean;
  value(h: HopSnapshot): string;
}

const ms = (v: number): string => v.toFixed(1);

/** mtr's field letters (`-o`). */
export const FIELDS: Record<string, Field> = {
  ' ': { header: ' ', width: 1, spill: false, value: () => ' ' },
  L: { header: 'Loss%', width: 6, spill: false, value: (h) => ` ${h.lossPercent.toFixed(1).padStart(4)}%` },
  D: { header: 'Drop', width: 5, spill: true, value: (h) => ` ${String(h.lost).padStart(4)}` },
  R: { header: 'Rcv', width: 6, spill: true, value: (h) => ` ${String(h.received).padStart(5)}` },
  S: { header: 'Snt', width: 6, spill: true, value: (h) => ` ${String(h.sent).padStart(5)}` },
  N: { header: 'Last', width: 6, spill: true, value: (h) => ` ${ms(h.stats.last).padStart(5)}` },
  B: { header: 'Best', width: 6, spill: true, value: (h) => ` ${ms(h.stats.best).padStart(5)}` },
  A: { header: 'Avg', width: 6, spill: true, value: (h) => ` ${ms(h.stats.mean).padStart(5)}` },
  W: { header: 'Wrst', width: 6, spill: true, value: (h) => ` ${ms(h.stats.worst).padStart(5)}` },
  V: { header: 'StDev', width: 6, spill: true, value: (h) => ` ${ms(h.stats.stdev).padStart(5)}` },
  G: { header: 'Gmean', width: 6, spill: true, value: (h) => ` ${ms(h.stats.gmean).padStart(5)}` },
  J: { header: 'Jttr', width: 5, spill: true, value: (h) => ` ${ms(h.stats.jitter).padStart(4)}` },
  M: { header: 'Javg', width: 5, spill: true, value: (h) => ` ${ms(h.stats.jitterMean).padStart(4)}` },
  X: { header: 'Jmax', width: 5, spill: true, value: (h) => ` ${ms(h.stats.jitterMax).padStart(4)}` },
  // mtr shows its RFC 3550 estimator scaled by 16; keep the column comparable.
  I: { header: 'Jint', width: 5, spill: true, value: (h) => ` ${ms(h.stats.jitterInterarrival * 16).padStart(4)}` },
};

export const DEFAULT_FIELDS = 'LS NABWV';

export interface ReportOptions {
  wide?: boolean;
  /** mtr -o: field letters in order. */
  fields?: string;
  /** Display name for an address (reverse DNS); null/undefined shows the address. */
  nameOf?: (address: string) => string | null | undefined;
  /** mtr -b: show "name (address)". */
  showBoth?: boolean;
}

const NARROW_NAME = 25;
const NARROW_HOST = 27;

function label(address: string | null, opts: ReportOptions): string {
  if (!address) return '???';
  const name = opts.nameOf?.(address);
  if (!name || name === address) return address;
  return opts.showBoth ? `${name} (${address})` : name;
}

function renderFields(fields: Field[], values: string[]): string {
  let out = '';
  fields.forEach((f, i) => {
    const v = values[i]!;
    out += v.length > f.width && !f.spill ? v.slice(0, f.width) : v.padStart(f.width);
  });
  return out;
}

/** mtr's strftime("%Y-%m-%dT%H:%M:%S%z") in local time. */
export function mtrTimestamp(d: Date): string {
  const p = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${sign}${p(Math.trunc(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
}

/** The lines mtr prints for `-r` / `-rw` (without a trailing newline). */
export function renderReport(report: TraceReport, opts: ReportOptions = {}): string {
  const letters = opts.fields ?? DEFAULT_FIELDS;
  const fields = [...letters].map((c) => FIELDS[c]).filter((f): f is Field => f !== undefined);
  const rows = report.hops.map((h) => ({ hop: h, name: label(h.address, opts) }));
  const extras = (h: HopSnapshot): string[] =>
    h.responders.filter((r) => r.address !== h.address).map((r) => label(r.address, opts));
  let hostWidth: number;
  let nameWidth: number;
  if (opts.wide) {
    const names = rows.flatMap((r) => [r.name, ...extras(r.hop)]);
    nameWidth = Math.max(report.source.length, ...names.map((n) => n.length));
    hostWidth = nameWidth;
  } else {
    nameWidth = NARROW_NAME;
    hostWidth = NARROW_HOST;
  }
  const cut = (s: string, w: number): string => (opts.wide ? s.padEnd(w) : s.slice(0, w).padEnd(w));
  const lines = [`Start: ${mtrTimestamp(report.startedAt)}`];
  lines.push(`HOST: ${cut(report.source, hostWidth)}${renderFields(fields, fields.map((f) => f.header))}`);
  for (const { hop, name } of rows) {
    lines.push(`${String(hop.ttl).padStart(3)}.|-- ${cut(name, nameWidth)}${renderFields(fields, fields.map((f) => f.value(hop)))}`);
    for (const extra of extras(hop)) lines.push(`        ${cut(extra, nameWidth)}`);
  }
  return lines.join('\n');
}
