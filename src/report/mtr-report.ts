// mtr's report layout (`mtr -r`, `-rw`), byte for byte where scripts depend on it.
// Geometry taken from mtr 0.95 outputs: a narrow report writes its statistics
// from column 33 (host names cut to 25 characters, 27 in the header); a wide
// report pads names to the longest one. Each field has a fixed width; a value
// wider than its field loses its tail to the next one (so 100% loss prints as
// `100.0`, as in mtr). RTTs of a second or more are printed whole instead of
// being cut like mtr does (mtr#92): a wrong number helps nobody.
import type { HopSnapshot } from '../trace/hop.js';
import type { TraceReport } from '../trace/trace.js';
import { asLabel, fieldsFor, hostLabel as label, printfValue, type Field, type NameOptions } from './fields.js';

export { DEFAULT_FIELDS } from './fields.js';

export interface ReportOptions extends NameOptions {
  wide?: boolean;
  /** mtr -e: MPLS label lines under each hop. */
  mpls?: boolean;
  /** mtr -o: field letters in order. */
  fields?: string;
}

const NARROW_NAME = 25;
const NARROW_HOST = 27;

/** Loss% is cut to its width like mtr (scripts match `100.0`); other values print whole. */
function renderFields(fields: Field[], value: (f: Field) => string): string {
  let out = '';
  for (const f of fields) {
    const v = value(f);
    out +=
      v.length > f.width && (f.kind === 'percent' || f.kind === 'spacer') ? v.slice(0, f.width) : v.padStart(f.width);
  }
  return out;
}

/** mtr's strftime("%Y-%m-%dT%H:%M:%S%z") in local time. */
export function mtrTimestamp(d: Date): string {
  const p = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return `${date}T${time}${sign}${p(Math.trunc(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
}

/** The lines mtr prints for `-r` / `-rw` (without a trailing newline). */
export function renderReport(report: TraceReport, opts: ReportOptions = {}): string {
  const fields = fieldsFor(opts.fields);
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
  // mtr -z rows: " %2d. AS%-12s<name>", ten columns more than "  1.|-- ".
  const asColumns = opts.asOf ? 10 : 0;
  if (!opts.wide) nameWidth -= asColumns;
  else hostWidth += asColumns;
  const prefix = (h: HopSnapshot): string =>
    opts.asOf
      ? ` ${String(h.ttl).padStart(2)}. ${asLabel(h.address, opts).padEnd(14)}`
      : `${String(h.ttl).padStart(3)}.|-- `;
  const lines = [`Start: ${mtrTimestamp(report.startedAt)}`];
  lines.push(`HOST: ${cut(report.source, hostWidth)}${renderFields(fields, (f) => f.header)}`);
  for (const { hop, name } of rows) {
    lines.push(`${prefix(hop)}${cut(name, nameWidth)}${renderFields(fields, (f) => printfValue(f, hop))}`);
    if (opts.mpls)
      for (const l of hop.mpls ?? []) lines.push(`       [MPLS: Lbl ${l.label} TC ${l.tc} S ${l.s} TTL ${l.ttl}]`);
    for (const extra of extras(hop)) lines.push(`${' '.repeat(8 + asColumns)}${cut(extra, nameWidth)}`);
  }
  return lines.join('\n');
}
