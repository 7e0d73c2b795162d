// `vpsline mtr` as a library function: open sockets, drop privileges, run the
// trace (or one per flow), look names up on the side, and print one format.
// The CLI only turns argv into MtrRun.
import type { Language } from '../i18n.js';
import { AsnLookup } from '../lookup/asn.js';
import { loadAsnData, shippedAsnIndex, TableAsLookup } from '../lookup/asn-data.js';
import { CarrierTable } from '../lookup/carriers.js';
import { resolveTarget } from '../lookup/resolve.js';
import { ReverseDns } from '../lookup/reverse-dns.js';
import { ProbeEngine, type SourceBinding } from '../probe/engine.js';
import { defaultEngine, openThenDropPrivileges } from '../probe/process-engine.js';
import { renderCsv, renderXml } from '../report/csv-xml.js';
import { renderJson } from '../report/json.js';
import { LiveView } from '../report/live.js';
import { renderReport } from '../report/mtr-report.js';
import { streamRaw } from '../report/raw.js';
import { carrierTag } from '../route/lines.js';
import { analyzeReport } from '../trace/analysis.js';
import { Trace, type TraceOptions, type TraceReport } from '../trace/trace.js';
import { VERSION } from '../version.js';
import type { CommandIO } from './io.js';

export type MtrOutput = 'live' | 'report' | 'json' | 'csv' | 'xml' | 'raw';

export interface MtrRun {
  host: string;
  output: MtrOutput;
  /** What every trace runs with; the engine is the process's unless given. */
  trace: TraceOptions;
  /** Constant-flow probes: this many flows, one report each. */
  flows?: number;
  wide: boolean;
  mpls: boolean;
  /** Names and addresses both (mtr -b). */
  showBoth: boolean;
  /** Report fields in mtr letters (mtr -o). */
  order?: string;
  dns: boolean;
  /** -z: from the shipped index, a file, or Team Cymru's DNS (--aslookup-dns). */
  asLookup: false | 'shipped' | 'dns' | { file: string };
  /** Carrier tags: the built-in table, plus this file when a string. */
  carriers?: true | string;
  analyze: boolean;
  lang: Language;
  keepCapabilities: boolean;
  /** Who to carry on as when started as root (--user; default nobody). */
  user?: string;
  /** -a and -I: where every probe is sent from. */
  binding?: SourceBinding;
}

export async function runMtr(run: MtrRun, io: CommandIO): Promise<void> {
  const engine = run.trace.engine ?? (run.binding ? new ProbeEngine({ binding: run.binding }) : defaultEngine());
  const flows = run.flows ?? 0;
  const flowProtocol = run.trace.protocol === 'tcp' ? 'tcp' : 'udp';
  const traces = flows
    ? Array.from(
        { length: flows },
        (_, i) => new Trace(run.host, { ...run.trace, engine, protocol: flowProtocol, flow: i }),
      )
    : [new Trace(run.host, { ...run.trace, engine })];

  // Open sockets first (mode ladder), then give up every capability.
  const target = await resolveTarget(run.host, run.trace.family);
  const {
    opened: [opened],
  } = await openThenDropPrivileges(engine, {
    needs: [
      {
        family: target.family,
        protocol: flows ? flowProtocol : (run.trace.protocol ?? 'auto'),
        ...(run.trace.icmpSocket ? { icmpSocket: run.trace.icmpSocket } : {}),
        ...(flows ? { flows } : {}),
      },
    ],
    keepCapabilities: run.keepCapabilities,
    ...(run.user ? { user: run.user } : {}),
    reads: filesRead(run),
    notice: (line) => io.stderr.write(`${line}\n`),
  });
  if (opened && 'mode' in opened && opened.mode.fallbacks.length && io.stderr.isTTY) {
    const { mode } = opened;
    io.stderr.write(
      `vpsline: using ${mode.protocol.toUpperCase()} probes (${mode.socket} socket): ${mode.fallbacks.join(' ')}\n`,
    );
  }

  const dns = run.dns ? new ReverseDns() : undefined;
  const asn = await asLookupFor(run.asLookup);
  const carriers = run.carriers
    ? CarrierTable.load(typeof run.carriers === 'string' ? run.carriers : undefined)
    : undefined;
  const tagOf = carriers
    ? (a: string): string | undefined => {
        const c = carriers.match(a);
        return c ? carrierTag(c.id) : undefined;
      }
    : undefined;
  for (const tr of traces) {
    if (dns) tr.on('hop', (h) => h.address && dns.request(h.address));
    if (asn) tr.on('hop', (h) => h.address && asn.request(h.address));
  }
  const [first] = traces;
  if (!first) return;
  if (run.output === 'raw') {
    const raw = streamRaw(first, (line) => io.stdout.write(`${line}\n`), { mpls: run.mpls });
    if (dns) {
      const named = new Set<number>();
      first.on('hop', (h) => {
        const name = h.address ? dns.nameOf(h.address) : undefined;
        if (name && !named.has(h.ttl)) {
          named.add(h.ttl);
          raw.named(h.ttl, name);
        }
      });
    }
  }
  if (run.output === 'live') {
    const view = new LiveView(first, {
      title: `vpsline mtr  [v${VERSION}]`,
      input: io.stdin,
      output: io.stdout,
      ...(dns ? { nameOf: (a: string) => dns.nameOf(a) } : {}),
      ...(tagOf ? { tagOf } : {}),
      ...(asn ? { asOf: (a: string) => asn.asOf(a) } : {}),
      showBoth: run.showBoth,
    });
    let failure: unknown;
    first.done.catch((err: unknown) => {
      failure = err;
    });
    view.start();
    await first.start();
    await view.finished;
    await new Promise((resolve) => setImmediate(resolve));
    if (failure) throw failure; // printed after the terminal is restored
    return;
  }
  const cycles = run.trace.cycles;
  const progress =
    io.stderr.isTTY && run.output !== 'raw'
      ? first.on('round', (n) => io.stderr.write(`\rvpsline: round ${n} of ${cycles} ...`))
      : undefined;
  await Promise.all(traces.map((tr) => tr.start()));
  const reports = await Promise.all(traces.map((tr) => tr.done));
  if (progress) io.stderr.write('\r\x1b[K');
  if (run.output === 'raw') return;
  await Promise.all([dns?.settle(), asn?.settle()]);
  const names = {
    ...(dns ? { nameOf: (a: string) => dns.nameOf(a) } : {}),
    ...(asn ? { asOf: (a: string) => asn.asOf(a) } : {}),
    ...(tagOf ? { tagOf } : {}),
    showBoth: run.showBoth,
    ...(run.order ? { fields: run.order } : {}),
  };
  const findings = (r: TraceReport): string =>
    analyzeReport(r, run.lang)
      .map((x) => `- ${x.message}`)
      .join('\n');

  if (flows) {
    if (run.output === 'json') {
      io.stdout.write(`[\n${reports.map((r) => renderJson(r, { ...names, lang: run.lang })).join(',\n')}\n]\n`);
      return;
    }
    const blocks = reports.map((r) => {
      const flow = r.flow
        ? `${flowProtocol.toUpperCase()} source port ${r.flow.srcPort}, destination port ${r.flow.dstPort}`
        : flowProtocol.toUpperCase();
      const head = `Flow ${(r.flow?.index ?? 0) + 1} of ${flows}: ${flow}`;
      let body = renderReport(r, { ...names, wide: run.wide, mpls: run.mpls });
      if (run.analyze) body += `\n${findings(r)}`;
      return `${head}\n${body}`;
    });
    io.stdout.write(`${blocks.join('\n\n')}\n`);
    return;
  }
  const [report] = reports;
  if (!report) return;
  let text: string;
  if (run.output === 'json') text = renderJson(report, { ...names, lang: run.lang });
  else if (run.output === 'csv') text = renderCsv(report, { ...names, wide: run.wide });
  else if (run.output === 'xml') text = renderXml(report, names);
  else {
    text = renderReport(report, { ...names, wide: run.wide, mpls: run.mpls });
    if (run.analyze) text += `\n\n${run.lang === 'zh' ? '分析：' : 'Analysis:'}\n${findings(report)}`;
  }
  io.stdout.write(`${text}\n`);
}

async function asLookupFor(how: MtrRun['asLookup']): Promise<AsnLookup | TableAsLookup | undefined> {
  if (!how) return undefined;
  if (how === 'dns') return new AsnLookup();
  return new TableAsLookup(how === 'shipped' ? shippedAsnIndex() : loadAsnData(how.file));
}

/** Files the run reads after giving up privileges. */
function filesRead(run: MtrRun): string[] {
  return [
    ...(typeof run.asLookup === 'object' ? [run.asLookup.file] : []),
    ...(typeof run.carriers === 'string' ? [run.carriers] : []),
  ];
}
