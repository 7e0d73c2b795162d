// `vpsline backtrace`: the three-network return-route test (src/commands/backtrace.ts runs it).
import type { Command } from 'commander';
import { VpslineError } from '../errors.js';
import { type Language, parseLanguage } from '../i18n.js';
import { type OriginAsFlags, originAsOptions, originAsSource } from './origin-as.js';
import { intArg, numberArg, userOption } from './parse.js';

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
  flows: number;
  json?: boolean;
  lang: Language;
  keepCapabilities?: boolean;
  user?: string;
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
    .option(
      '--flows <n>',
      'constant-flow traces per target (UDP, or TCP with -T), to catch a route split between lines; 1: one ICMP trace',
      intArg('flows'),
      3,
    )
    .option('--json', 'print the results as JSON')
    .option('--lang <lang>', 'en or zh', 'en')
    .option('--keep-capabilities', 'keep every privilege after opening sockets (debugging)')
    .addOption(userOption());
  originAsOptions(cmd).action(async (f: BacktraceFlags) => {
    const lang = parseLanguage(f.lang);
    if (f.udp && f.tcp) throw new VpslineError('EVPSLINE_BAD_OPTION', '-u and -T cannot be used together.', 2);
    if (f.inet && f.inet6) throw new VpslineError('EVPSLINE_BAD_OPTION', '-4 and -6 cannot be used together.', 2);
    if (f.flows < 1 || f.flows > 16) throw new VpslineError('EVPSLINE_BAD_OPTION', '--flows is 1 to 16.', 2);
    const originAs = await originAsSource(f);
    const family = f.inet ? 4 : f.inet6 ? 6 : undefined;
    const [{ runBacktrace }, { processIO }] = await Promise.all([
      import('../commands/backtrace.js'),
      import('../commands/io.js'),
    ]);
    await runBacktrace(
      {
        ...(f.targets !== undefined ? { targets: f.targets } : {}),
        ...(f.carriers !== undefined ? { carriers: f.carriers } : {}),
        ...(originAs ? { originAs } : {}),
        ...(family ? { family } : {}),
        protocol: f.udp ? 'udp' : f.tcp ? 'tcp' : 'auto',
        ...(f.port !== undefined ? { port: f.port } : {}),
        flows: f.flows,
        cycles: f.cycles,
        interval: f.interval,
        maxTtl: f.maxTtl,
        json: !!f.json,
        lang,
        keepCapabilities: !!f.keepCapabilities,
        ...(f.user ? { user: f.user } : {}),
        ...(f.asnDb ? { alsoReads: [f.asnDb] } : {}),
      },
      processIO(),
    );
  });
}
