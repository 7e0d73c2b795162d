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

/** mtr 0.95 -e: one label line, under the ECMP lines of a hop. */
function mplsLines(labels: readonly { label: number; tc: number; s: number; ttl: number }[] | undefined): string[] {
  return (labels ?? []).map((l) => `       [MPLS: Lbl ${l.label} TC ${l.tc} S ${l.s} TTL ${l.ttl}]`);
}

/**
 * The lines mtr prints for `-r` / `-rw` (without a trailing newline).
 * Geometry of mtr 0.95 (checked against test/golden/mtr/): the host column
 * is 33 characters in a narrow report (row prefix, AS and name together are
 * cut there, as mtr writes the statistics over them); a wide one pads names
 * to the longest hop name or the local host name, one more with -z. ECMP
 * lines pad the name to that width again; with -z an `AS name` line
 * follows each. -e labels appear only under a hop's ECMP lines, each
 * responder's under its own line (test/golden/mtr/rwne-ecmp-v4.txt); a hop
 * with one responder shows none. mtr prints the S bit as a raw byte and a
 * `u` (`S \0u`); vpsline prints the digit.
 */
export function renderReport(report: TraceReport, opts: ReportOptions = {}): string {
  const fields = fieldsFor(opts.fields);
  const rows = report.hops.map((h) => ({ hop: h, name: label(h.address, opts) }));
  const others = (h: HopSnapshot): HopSnapshot['responders'] => h.responders.filter((r) => r.address !== h.address);
  const asColumn = (address: string | null): string => asLabel(address, opts).padEnd(9);
  let width: number;
  let header: number;
  if (opts.wide) {
    width = Math.max(report.source.length, ...rows.map((r) => r.name.length));
    header = width;
    if (opts.asOf) {
      width++;
      header = width + 8;
    }
  } else {
    width = NARROW_HOST + 6;
    header = NARROW_HOST;
  }
  const lines = [`Start: ${mtrTimestamp(report.startedAt)}`];
  lines.push(`HOST: ${report.source.padEnd(header)}${renderFields(fields, (f) => f.header)}`);
  for (const { hop, name } of rows) {
    let head = opts.asOf
      ? ` ${String(hop.ttl).padStart(2)}. ${asColumn(hop.address)}${name.padEnd(opts.wide ? width : NARROW_NAME)}`
      : `${String(hop.ttl).padStart(3)}.|-- ${name.padEnd(opts.wide ? width : NARROW_NAME)}`;
    if (!opts.wide) head = head.slice(0, width);
    lines.push(`${head}${renderFields(fields, (f) => printfValue(f, hop))}`);
    for (const r of others(hop)) {
      const extraName = label(r.address, opts);
      lines.push(`        ${extraName.padEnd(width)}`);
      if (opts.asOf) lines.push(`     ${asColumn(r.address)}${extraName}`);
      if (opts.mpls) lines.push(...mplsLines(r.mpls));
    }
  }
  return lines.join('\n');
}
