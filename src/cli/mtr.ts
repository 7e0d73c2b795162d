// `vpsline mtr`: mtr's options, mapped onto trace().
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { VpslineError } from '../errors.js';
import { AsnLookup } from '../lookup/asn.js';
import { CarrierTable } from '../lookup/carriers.js';
import { carrierTag } from '../route/lines.js';
import { ReverseDns } from '../lookup/reverse-dns.js';
import { renderCsv, renderXml } from '../report/csv-xml.js';
import { renderJson } from '../report/json.js';
import { renderReport } from '../report/mtr-report.js';
import { LiveView } from '../report/live.js';
import { intArg, numberArg } from './parse.js';
import { streamRaw } from '../report/raw.js';
import type { Language } from '../i18n.js';
import { analyzeReport } from '../trace/analysis.js';
import { defaultEngine, resolveTarget, Trace, type TraceOptions } from '../trace/trace.js';

interface MtrFlags {
  report?: boolean;
  reportWide?: boolean;
  reportCycles: number;
  interval: number;
  dns: boolean;
  showIps?: boolean;
  inet?: boolean;
  inet6?: boolean;
  udp?: boolean;
  tcp?: boolean;
  icmp?: boolean;
  icmpSocket?: 'raw' | 'ping';
  port?: number;
  firstTtl: number;
  maxTtl: number;
  psize: number;
  tos: number;
  timeout: number;
  maxUnknown: number;
  order?: string;
  json?: boolean;
  csv?: boolean;
  xml?: boolean;
  raw?: boolean;
  mpls?: boolean;
  analyze?: boolean;
  aslookup?: boolean;
  flows?: number;
  carriers?: boolean | string;
  lang: Language;
  keepCapabilities?: boolean;
}

export function mtrCommand(program: Command): void {
  program
    .command('mtr')
    .description('traceroute and ping in one, like mtr, with kernel-timestamped RTTs')
    .argument('<host>', 'target host name or address')
    .option('-r, --report', 'report mode: run the cycles, then print a report')
    .option('-w, --report-wide', 'wide report: do not cut host names')
    .option('-c, --report-cycles <count>', 'rounds of probes to send', intArg('count'), 10)
    .option('-i, --interval <seconds>', 'seconds between rounds', numberArg('interval'), 1)
    .option('-n, --no-dns', 'do not resolve host names')
    .option('-b, --show-ips', 'show both host names and addresses')
    .option('-4, --inet', 'use IPv4 only')
    .option('-6, --inet6', 'use IPv6 only')
    .option('-u, --udp', 'UDP probes instead of ICMP')
    .option('-T, --tcp', 'TCP SYN probes instead of ICMP')
    .option('--icmp', 'ICMP probes only: fail instead of falling back to UDP')
    .addOption(
      new Option('--icmp-socket <kind>', 'ICMP socket kind (default: raw with CAP_NET_RAW, else ping)').choices([
        'raw',
        'ping',
      ]),
    )
    .option('-P, --port <port>', 'TCP destination port, or fixed UDP destination port', intArg('port'))
    .option('-f, --first-ttl <ttl>', 'first TTL to probe', intArg('first TTL'), 1)
    .option('-m, --max-ttl <ttl>', 'largest TTL to probe', intArg('max TTL'), 30)
    .option('-s, --psize <bytes>', 'whole packet size in bytes', intArg('packet size'), 64)
    .option('-Q, --tos <tos>', 'IP type of service / traffic class', intArg('TOS'), 0)
    .option('-Z, --timeout <seconds>', 'seconds before a probe counts as lost', numberArg('timeout'), 2)
    .option(
      '-U, --max-unknown <count>',
      'unknown hops after the last known one before a round stops',
      intArg('max unknown'),
      12,
    )
    .option('-o, --order <fields>', 'report fields, mtr letters (LDRSNBAWVGJMXI and space)')
    .option('-j, --json', "JSON output: mtr's keys plus vpsline's extensions (schema/mtr-report.schema.json)")
    .option('-C, --csv', 'CSV output, like mtr')
    .option('-x, --xml', 'XML output, like mtr')
    .option('-l, --raw', 'raw event stream, like mtr (0-based hops)')
    .option('-e, --mpls', 'show MPLS labels in the report')
    .option('-z, --aslookup', 'show the origin AS of each hop (Team Cymru DNS, asynchronous)')
    .option(
      '--carriers [file]',
      'tag each hop with its carrier ([CN2], [163], ...) from the built-in table, plus FILE if given',
    )
    .option(
      '--flows <count>',
      'constant-flow UDP, or TCP with -T (Paris traceroute): this many flows at once, one report each; needs CAP_NET_RAW',
      intArg('flows'),
    )
    .option('--analyze', 'after the report, say what it means: loss vs rate limiting, latency rises, the destination')
    .addOption(new Option('--lang <lang>', 'language of the analysis').choices(['en', 'zh']).default('en'))
    .option('--keep-capabilities', 'do not drop capabilities after opening sockets')
    .action(async (host: string, flags: MtrFlags, command: Command) =>
      runMtr(host, flags, command.getOptionValueSource('reportCycles') !== 'default'),
    );
}

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function runMtr(host: string, f: MtrFlags, cyclesGiven: boolean): Promise<void> {
  if (f.inet && f.inet6) throw new VpslineError('EVPSLINE_BAD_OPTION', '-4 and -6 cannot be used together.', 2);
  if (f.udp && f.tcp) throw new VpslineError('EVPSLINE_BAD_OPTION', '-u and -T cannot be used together.', 2);
  if ((f.udp || f.tcp) && (f.icmp || f.icmpSocket))
    throw new VpslineError('EVPSLINE_BAD_OPTION', '--icmp/--icmp-socket cannot be combined with -u or -T.', 2);
  const formats = [f.json, f.csv, f.xml, f.raw].filter(Boolean).length;
  if (formats > 1)
    throw new VpslineError('EVPSLINE_BAD_OPTION', 'choose one output format: --json, --csv, --xml or --raw.', 2);
  if (f.order !== undefined && !/^[LDRSNBAWVGJMXI _]+$/.test(f.order))
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `-o ${JSON.stringify(f.order)}: fields are the letters LDRSNBAWVGJMXI and space.`,
      2,
    );
  if (f.flows !== undefined) {
    if (f.flows < 1 || f.flows > 64)
      throw new VpslineError('EVPSLINE_BAD_OPTION', `--flows must be from 1 to 64 (got ${f.flows}).`, 2);
    if (f.icmp || f.icmpSocket)
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        'constant-flow probes (--flows) are UDP, or TCP with -T; leave out --icmp and --icmp-socket.',
        2,
      );
    if (f.csv || f.xml || f.raw)
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        '--flows prints one report per flow, or a JSON array with --json.',
        2,
      );
  }
  // Without -r or an output format, on a terminal: the live view, running until q unless -c was given.
  const live =
    f.flows === undefined &&
    !f.report &&
    !f.reportWide &&
    formats === 0 &&
    !!process.stdout.isTTY &&
    !!process.stdin.isTTY;
  const family = f.inet ? 4 : f.inet6 ? 6 : undefined;
  const protocol = f.udp ? 'udp' : f.tcp ? 'tcp' : f.icmp || f.icmpSocket ? 'icmp' : 'auto';
  const engine = defaultEngine();
  const options: TraceOptions = {
    protocol,
    cycles: live && !cyclesGiven ? Infinity : f.reportCycles,
    interval: f.interval,
    firstTtl: f.firstTtl,
    maxTtl: f.maxTtl,
    packetSize: f.psize,
    tos: f.tos,
    timeout: f.timeout,
    maxUnknown: f.maxUnknown,
    engine,
    ...(family ? { family } : {}),
    ...(f.port !== undefined ? { port: f.port } : {}),
    ...(f.icmpSocket ? { icmpSocket: f.icmpSocket } : {}),
  };
  const flows = f.flows ?? 0;
  const flowProtocol = f.tcp ? 'tcp' : 'udp';
  const traces = flows
    ? Array.from({ length: flows }, (_, i) => new Trace(host, { ...options, protocol: flowProtocol, flow: i }))
    : [new Trace(host, options)];
  const t = traces[0]!; // options are validated before anything is opened

  // Open sockets first (mode ladder), then give up every capability.
  const target = await resolveTarget(host, family);
  const mode = flows
    ? engine.prepareFlow(target.family, flowProtocol)
    : engine.prepare(target.family, protocol, f.icmpSocket);
  for (let i = 0; i < flows; i++) engine.flowPort(target.family, i, flowProtocol);
  if (!f.keepCapabilities) engine.dropCapabilities();
  if (mode.fallbacks.length && process.stderr.isTTY)
    process.stderr.write(
      `vpsline: using ${mode.protocol.toUpperCase()} probes (${mode.socket} socket): ${mode.fallbacks.join(' ')}\n`,
    );

  const dns = f.dns ? new ReverseDns() : undefined;
  const asn = f.aslookup ? new AsnLookup() : undefined;
  const carriers = f.carriers ? CarrierTable.load(typeof f.carriers === 'string' ? f.carriers : undefined) : undefined;
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
  if (f.raw) {
    const raw = streamRaw(t, (line) => process.stdout.write(`${line}\n`), { mpls: !!f.mpls });
    if (dns) {
      const named = new Set<number>();
      t.on('hop', (h) => {
        const name = h.address ? dns.nameOf(h.address) : undefined;
        if (name && !named.has(h.ttl)) {
          named.add(h.ttl);
          raw.named(h.ttl, name);
        }
      });
    }
  }
  if (live) {
    const view = new LiveView(t, {
      title: `vpsline mtr  [v${version}]`,
      input: process.stdin,
      output: process.stdout,
      ...(dns ? { nameOf: (a: string) => dns.nameOf(a) } : {}),
      ...(tagOf ? { tagOf } : {}),
      showBoth: !!f.showIps,
    });
    let failure: unknown;
    t.done.catch((err: unknown) => (failure = err));
    view.start();
    await t.start();
    await view.finished;
    await new Promise((resolve) => setImmediate(resolve));
    if (failure) throw failure; // printed after the terminal is restored
    return;
  }
  const progress =
    process.stderr.isTTY && !f.raw
      ? t.on('round', (n) => process.stderr.write(`\rvpsline: round ${n} of ${f.reportCycles} ...`))
      : undefined;
  await Promise.all(traces.map((tr) => tr.start()));
  const reports = await Promise.all(traces.map((tr) => tr.done));
  const report = reports[0]!;
  if (progress) process.stderr.write('\r\x1b[K');
  if (f.raw) return;
  await Promise.all([dns?.settle(), asn?.settle()]);
  const names = {
    ...(dns ? { nameOf: (a: string) => dns.nameOf(a) } : {}),
    ...(asn ? { asOf: (a: string) => asn.asOf(a) } : {}),
    ...(tagOf ? { tagOf } : {}),
    showBoth: !!f.showIps,
    ...(f.order ? { fields: f.order } : {}),
  };
  if (flows) {
    if (f.json) {
      process.stdout.write(`[\n${reports.map((r) => renderJson(r, { ...names, lang: f.lang })).join(',\n')}\n]\n`);
      return;
    }
    const blocks = reports.map((r) => {
      const head = `Flow ${r.flow!.index + 1} of ${flows}: ${flowProtocol.toUpperCase()} source port ${r.flow!.srcPort}, destination port ${r.flow!.dstPort}`;
      let body = renderReport(r, { ...names, wide: !!f.reportWide, mpls: !!f.mpls });
      if (f.analyze)
        body +=
          '\n' +
          analyzeReport(r, f.lang)
            .map((x) => `- ${x.message}`)
            .join('\n');
      return `${head}\n${body}`;
    });
    process.stdout.write(`${blocks.join('\n\n')}\n`);
    return;
  }
  let text: string;
  if (f.json) text = renderJson(report, { ...names, lang: f.lang });
  else if (f.csv) text = renderCsv(report, { ...names, wide: !!f.reportWide });
  else if (f.xml) text = renderXml(report, names);
  else text = renderReport(report, { ...names, wide: !!f.reportWide, mpls: !!f.mpls });
  if (f.analyze && !f.json && !f.csv && !f.xml) {
    const heading = f.lang === 'zh' ? '分析：' : 'Analysis:';
    text +=
      `\n\n${heading}\n` +
      analyzeReport(report, f.lang)
        .map((x) => `- ${x.message}`)
        .join('\n');
  }
  process.stdout.write(`${text}\n`);
}
