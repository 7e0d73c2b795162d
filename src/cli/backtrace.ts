// `vpsline backtrace`: the three-network return-route test.
import type { Command } from 'commander';
import { VpslineError } from '../errors.js';
import { CarrierTable } from '../lookup/carriers.js';
import { addressFamily } from '../packet/address.js';
import { backtrace, loadTargets, type BacktraceResult } from '../route/backtrace.js';
import { carrierName, lineName } from '../route/lines.js';
import { noteText } from '../route/notes.js';
import { type Language, parseLanguage } from '../i18n.js';
import { defaultEngine } from '../trace/trace.js';
import { originAsOptions, originAsSource, type OriginAsFlags } from './origin-as.js';
import { intArg, numberArg } from './parse.js';

interface BacktraceFlags extends OriginAsFlags {
  targets?: string;
  carriers?: string;
  inet?: boolean;
  inet6?: boolean;
  cycles: number;
  interval: number;
  maxTtl: number;
  udp?: boolean;
  tcp?: boolean;
  port?: number;
  json?: boolean;
  lang: Language;
  keepCapabilities?: boolean;
}

const HEADINGS = {
  en: ['Target', 'Carrier', 'Line', 'Landing', 'Evidence (hops)', 'RTT', 'Loss'],
  zh: ['目标', '运营商', '回程线路', '落地', '证据（跳）', '延迟', '丢包'],
};

/** Visible width: CJK characters take two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s)
    w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch)
      ? 2
      : 1;
  return w;
}

function pad(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - width(s)));
}

export function renderTable(results: BacktraceResult[], lang: Language): string {
  const rows = results.map((r) => {
    const evidence = r.error
      ? r.error
      : r.segments.length
        ? r.segments.map((s) => `${s.carrier} ${s.ttls.join(',')}`).join('; ')
        : r.noteCodes[0]
          ? noteText(r.noteCodes[0], lang)
          : '-';
    const marked = r.destinationAnswered || r.error ? '' : lang === 'zh' ? ' (目标无回应)' : ' (target silent)';
    return [
      `${r.target.name} ${r.target.address}`,
      carrierName(r.target.carrier, lang),
      lineName(r.verdict, lang) + marked,
      r.landing ?? '-',
      evidence,
      r.rttMs === null ? '-' : `${r.rttMs.toFixed(1)} ms`,
      r.lossPercent === null ? '-' : `${r.lossPercent.toFixed(0)}%`,
    ];
  });
  const all = [HEADINGS[lang], ...rows];
  const widths = HEADINGS[lang].map((_, i) => Math.max(...all.map((r) => width(r[i]!))));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function backtraceCommand(program: Command): void {
  const cmd = program
    .command('backtrace')
    .description('return routes to China Telecom, Unicom and Mobile in several cities, traced at once and classified')
    .option('--targets <file>', 'your own target list: JSON [{name, address, carrier}] or lines "<address> <name>"')
    .option('--carriers <file>', 'extra or replacement carrier prefixes (JSON, like data/carriers.json)')
    .option('-4, --inet', 'IPv4 targets only')
    .option('-6, --inet6', 'IPv6 targets only')
    .option('-c, --cycles <count>', 'rounds per target', intArg('cycles'), 5)
    .option('-i, --interval <seconds>', 'seconds between rounds', numberArg('interval'), 0.5)
    .option('-m, --max-ttl <ttl>', 'largest TTL to probe', intArg('max TTL'), 30)
    .option('-u, --udp', 'UDP probes instead of ICMP')
    .option('-T, --tcp', 'TCP SYN probes instead of ICMP')
    .option('-P, --port <port>', 'TCP destination port', intArg('port'))
    .option('--json', 'print the results as JSON')
    .option('--lang <lang>', 'en or zh', 'en')
    .option('--keep-capabilities', 'do not drop capabilities after opening sockets');
  originAsOptions(cmd).action(async (f: BacktraceFlags) => {
    f.lang = parseLanguage(f.lang);
    if (f.udp && f.tcp) throw new VpslineError('EVPSLINE_BAD_OPTION', '-u and -T cannot be used together.', 2);
    const table = CarrierTable.load(f.carriers);
    const originAs = originAsSource(f);
    const family = f.inet ? 4 : f.inet6 ? 6 : undefined;
    const targets = loadTargets(f.targets).filter((t) => !family || addressFamily(t.address) === family);
    if (!targets.length) throw new VpslineError('EVPSLINE_BAD_OPTION', `no IPv${family} targets in the list.`, 2);
    const engine = defaultEngine();
    const protocol = f.udp ? 'udp' : f.tcp ? 'tcp' : 'auto';
    // Open what each family needs, then give up every capability.
    for (const fam of new Set(targets.map((t) => addressFamily(t.address)!))) {
      try {
        engine.prepare(fam, protocol);
      } catch {
        // That family's rows will carry the error.
      }
    }
    if (!f.keepCapabilities) engine.dropCapabilities();
    const results = await backtrace(targets, {
      engine,
      table,
      ...(originAs ? { originAs } : {}),
      protocol,
      cycles: f.cycles,
      interval: f.interval,
      maxTtl: f.maxTtl,
      ...(f.port !== undefined ? { port: f.port } : {}),
    });
    if (f.json) {
      const rows = results.map(({ report, ...r }) => ({
        ...r,
        ...(report
          ? {
              hops: report.hops.map((h) => ({
                ttl: h.ttl,
                address: h.address,
                lossPercent: h.lossPercent,
                avg: h.stats.mean,
              })),
            }
          : {}),
      }));
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else process.stdout.write(`${renderTable(results, f.lang)}\n`);
  });
}
