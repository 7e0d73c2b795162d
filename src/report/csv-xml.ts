// mtr's CSV (`-C`) and XML (`-x`) outputs.
// CSV is mtr 0.95's, as its rows say (MTR.0.95): the header ends in a comma,
// the spacer column (" ", in the default fields) holds the Drop count. XML
// follows 0.95's layout (values padded as printf pads them) but escapes
// attribute values, which 0.95 did not.
// Both checked against test/golden/mtr/.
import type { TraceReport } from '../trace/trace.js';
import { asLabel, fieldsFor, hostLabel, mtrValue, printfValue, type NameOptions } from './fields.js';

export interface TableOptions extends NameOptions {
  fields?: string;
  /** mtr -w with -C: one more row per extra ECMP responder, repeating the hop's figures. */
  wide?: boolean;
}

const MTR_VERSION = 'MTR.0.95';

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(report: TraceReport, opts: TableOptions = {}): string {
  const fields = fieldsFor(opts.fields);
  const asn = opts.asOf ? ['Asn'] : [];
  const header = ['Mtr_Version', 'Start_Time', 'Status', 'Host', 'Hop', 'Ip', ...asn, ...fields.map((f) => f.header)];
  // mtr 0.95 ends the header, not the rows, with a comma.
  const lines = [`${header.join(',')},`];
  // mtr stamps CSV rows with the end of the run, in whole seconds.
  const time = String(Math.floor(report.endedAt.getTime() / 1000));
  for (const h of report.hops) {
    const values = fields.map((f) =>
      // 0.95 prints the Drop count in the spacer's column.
      f.kind === 'spacer' ? String(h.lost) : f.kind === 'count' ? String(f.value(h)) : mtrValue(f, h).toFixed(2),
    );
    const as = opts.asOf ? [asLabel(h.address, opts)] : [];
    const names = [hostLabel(h.address, opts)];
    if (opts.wide) for (const r of h.responders) if (r.address !== h.address) names.push(hostLabel(r.address, opts));
    for (const name of names)
      lines.push(
        [MTR_VERSION, time, 'OK', csvCell(report.target), String(h.ttl), csvCell(name), ...as, ...values].join(','),
      );
  }
  return lines.join('\n');
}

export function xmlEscape(s: string): string {
  // & first, so the entities added after it are not escaped again.
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function renderXml(report: TraceReport, opts: TableOptions = {}): string {
  const s = report.settings;
  const fields = fieldsFor(opts.fields).filter((f) => f.kind !== 'spacer');
  const tos = `0x${s.tos.toString(16)}`;
  const tests = Number.isFinite(s.cycles) ? s.cycles : report.rounds;
  const lines = [
    '<?xml version="1.0"?>',
    `<MTR SRC="${xmlEscape(report.source)}" DST="${xmlEscape(report.target)}" ` +
      `TOS="${tos}" PSIZE="${s.packetSize}" BITPATTERN="0x00" TESTS="${tests}">`,
  ];
  for (const h of report.hops) {
    lines.push(`    <HUB COUNT="${h.ttl}" HOST="${xmlEscape(hostLabel(h.address, opts))}">`);
    for (const f of fields) {
      const tag = f.header.replace('%', '');
      lines.push(`        <${tag}>${xmlEscape(printfValue(f, h))}</${tag}>`);
    }
    lines.push('    </HUB>');
  }
  lines.push('</MTR>');
  return lines.join('\n');
}
