// `vpsline mtr`: mtr's options, checked and turned into an MtrRun (src/commands/mtr.ts runs it).
import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import type { MtrOutput, MtrRun } from '../commands/mtr.js';
import { VpslineError } from '../errors.js';
import type { Language } from '../i18n.js';
import type { TraceOptions } from '../trace/trace.js';
import { intArg, numberArg, userOption } from './parse.js';

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
  aslookupDns?: boolean;
  asnDb?: string;
  flows?: number;
  carriers?: boolean;
  carriersFile?: string;
  curses?: boolean;
  gracetime?: number;
  ipinfo?: number;
  address?: string;
  interface?: string;
  mark?: string;
  localport?: string;
  split?: boolean;
  lang: Language;
  keepCapabilities?: boolean;
  user?: string;
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
    .option('-z, --aslookup', 'show the origin AS of each hop (offline routing data shipped with vpsline)')
    .option('--aslookup-dns', 'with -z: ask Team Cymru over DNS instead of the offline data (what mtr does)')
    .option('--asn-db <file>', 'with -z: AS data to use instead of the shipped index (see vpsline classify --help)')
    .option('--carriers', 'tag each hop with its carrier ([CN2], [163], ...) from the built-in table')
    .option(
      '--carriers-file <file>',
      'carrier tags with extra or replacement prefixes from FILE (JSON, like data/carriers.json)',
    )
    .option(
      '--flows <count>',
      'constant-flow UDP, or TCP with -T (Paris traceroute): ' +
        'this many flows at once, one report each; needs CAP_NET_RAW',
      intArg('flows'),
    )
    .option('-t, --curses', 'the live view, even when the output is not a terminal')
    .option(
      '-G, --gracetime <seconds>',
      "wait at most this long for the last round's answers (ends sooner when all are in)",
      numberArg('grace time'),
    )
    .option('-y, --ipinfo <n>', 'IP information per hop: 0 = origin AS (like -z); 1-4 are not supported', intArg('n'))
    // mtr options vpsline does not have: accepted, so the answer is why rather than "unknown option".
    .option('-a, --address <address>', 'send every probe from this address of this machine')
    .option('-I, --interface <name>', 'send and receive through this network interface only')
    .addOption(new Option('-M, --mark <mark>', 'not supported: packet mark').hideHelp())
    .addOption(new Option('-L, --localport <port>', 'not supported: UDP source port').hideHelp())
    .addOption(new Option('-p, --split', 'not supported: split output').hideHelp())
    .option('--analyze', 'after the report, say what it means: loss vs rate limiting, latency rises, the destination')
    .addOption(new Option('--lang <lang>', 'language of the analysis').choices(['en', 'zh']).default('en'))
    .option('--keep-capabilities', 'keep every privilege after opening sockets (debugging)')
    .addOption(userOption())
    .action(async (host: string, flags: MtrFlags, command: Command) => {
      // commander keeps argv on the program as rawArgs, which its types do not declare.
      const raw: unknown = command.parent ? Reflect.get(command.parent, 'rawArgs') : undefined;
      const argv = Array.isArray(raw) ? raw.filter((a): a is string => typeof a === 'string') : [];
      const order = displayOrder(command, argv.slice(argv.indexOf('mtr') + 1));
      const run = mtrRun(host, flags, command.getOptionValueSource('reportCycles') !== 'default', order);
      const [{ runMtr }, { processIO }] = await Promise.all([
        import('../commands/mtr.js'),
        import('../commands/io.js'),
      ]);
      await runMtr(run, processIO());
    });
}

/** Options that choose the display; as in mtr, the last one given wins (-Cw is a wide report). */
const DISPLAY = ['report', 'reportWide', 'csv', 'xml', 'json', 'raw', 'curses'] as const;
type Display = (typeof DISPLAY)[number];

function isDisplay(name: string): name is Display {
  return DISPLAY.some((d) => d === name);
}

/**
 * The display options in the order they stand in argv (commander keeps only
 * their values). Short clusters are read letter by letter; a letter that
 * takes a value ends its cluster, and the value may be the next word.
 */
export function displayOrder(command: Command, argv: readonly string[]): Display[] {
  const found: Display[] = [];
  const byShort = new Map(command.options.flatMap((o) => (o.short ? [[o.short, o] as const] : [])));
  const byLong = new Map(command.options.flatMap((o) => (o.long ? [[o.long, o] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--') break;
    if (word.startsWith('--')) {
      const option = byLong.get(word.split('=')[0] ?? '');
      if (!option) continue;
      const name = option.attributeName();
      if (isDisplay(name)) found.push(name);
      if (option.required && !word.includes('=')) i++;
    } else if (word.startsWith('-') && word.length > 1) {
      for (let k = 1; k < word.length; k++) {
        const option = byShort.get(`-${word[k]}`);
        if (!option) break;
        const name = option.attributeName();
        if (isDisplay(name)) found.push(name);
        if (option.required || option.optional) {
          if (k === word.length - 1 && option.required) i++;
          break;
        }
      }
    }
  }
  return found;
}

function output(f: MtrFlags, order: readonly Display[]): MtrOutput {
  const last = order.at(-1);
  if (last === 'json' || last === 'csv' || last === 'xml' || last === 'raw') return last;
  if (last === 'report' || last === 'reportWide') return 'report';
  // Without -r or an output format, on a terminal (or with -t anyway): the live view.
  const terminal = last === 'curses' || (process.stdout.isTTY && process.stdin.isTTY);
  if (f.flows === undefined && terminal) return 'live';
  return 'report';
}

/** Why each mtr option vpsline lacks is missing: one line each, exit 2. */
const UNSUPPORTED: [flag: keyof MtrFlags, option: string, why: string][] = [
  [
    'mark',
    '-M/--mark',
    'setting a packet mark (SO_MARK) needs CAP_NET_ADMIN, and vpsline keeps no capability but CAP_NET_RAW',
  ],
  [
    'localport',
    '-L/--localport',
    "UDP probes share one socket whose port is not the probe's identity; --flows gives fixed source ports per flow",
  ],
  ['split', '-p/--split', "the split format feeds mtr's own split-user front ends; use -l (raw events) or -j"],
];

/** The flags, checked for combinations mtr refuses too, as a run description. */
export function mtrRun(host: string, f: MtrFlags, cyclesGiven: boolean, order: readonly Display[] = []): MtrRun {
  const bad = (message: string): never => {
    throw new VpslineError('EVPSLINE_BAD_OPTION', message, 2);
  };
  for (const [flag, option, why] of UNSUPPORTED)
    if (f[flag] !== undefined) bad(`${option} is not supported by vpsline: ${why}.`);
  if (f.aslookupDns && f.asnDb) bad('choose one of --aslookup-dns and --asn-db.');
  if (f.ipinfo !== undefined && f.ipinfo !== 0)
    bad(`-y ${f.ipinfo} is not supported by vpsline: only -y 0 (origin AS number, the same as -z).`);
  if (f.inet && f.inet6) bad('-4 and -6 cannot be used together.');
  if (f.address !== undefined && isIP(f.address) === 0)
    bad(`-a ${JSON.stringify(f.address)}: give an IPv4 or IPv6 address of this machine.`);
  if (f.interface !== undefined && !/^[^\s/:]{1,15}$/.test(f.interface))
    bad(`-I ${JSON.stringify(f.interface)}: an interface name is 1 to 15 characters, without spaces, "/" or ":".`);
  if (f.udp && f.tcp) bad('-u and -T cannot be used together.');
  if ((f.udp || f.tcp) && (f.icmp || f.icmpSocket)) bad('--icmp/--icmp-socket cannot be combined with -u or -T.');
  if (f.order !== undefined && !/^[LDRSNBAWVGJMXI _]+$/.test(f.order))
    bad(`-o ${JSON.stringify(f.order)}: fields are the letters LDRSNBAWVGJMXI and space.`);
  if (f.flows !== undefined) {
    if (f.flows < 1 || f.flows > 64) bad(`--flows must be from 1 to 64 (got ${f.flows}).`);
    if (f.icmp || f.icmpSocket)
      bad('constant-flow probes (--flows) are UDP, or TCP with -T; leave out --icmp and --icmp-socket.');
  }
  const out = output(f, order);
  if (f.flows !== undefined && out !== 'report' && out !== 'json')
    bad('--flows prints one report per flow, or a JSON array with --json.');
  // --carriers-file implies the tags; the file's entries add to or replace the built-in ones.
  const carriers: MtrRun['carriers'] = f.carriersFile ?? (f.carriers ? true : undefined);
  const family = f.inet ? 4 : f.inet6 ? 6 : undefined;
  const trace: TraceOptions = {
    protocol: f.udp ? 'udp' : f.tcp ? 'tcp' : f.icmp || f.icmpSocket ? 'icmp' : 'auto',
    // The live view runs until q unless -c was given.
    cycles: out === 'live' && !cyclesGiven ? Infinity : f.reportCycles,
    interval: f.interval,
    firstTtl: f.firstTtl,
    maxTtl: f.maxTtl,
    packetSize: f.psize,
    tos: f.tos,
    timeout: f.timeout,
    maxUnknown: f.maxUnknown,
    ...(f.gracetime !== undefined ? { graceTime: f.gracetime } : {}),
    ...(family ? { family } : {}),
    ...(f.port !== undefined ? { port: f.port } : {}),
    ...(f.icmpSocket ? { icmpSocket: f.icmpSocket } : {}),
  };
  return {
    host,
    output: out,
    trace,
    ...(f.flows !== undefined ? { flows: f.flows } : {}),
    wide: !!f.reportWide,
    mpls: !!f.mpls,
    showBoth: !!f.showIps,
    ...(f.order !== undefined ? { order: f.order } : {}),
    dns: f.dns,
    // --aslookup-dns and --asn-db say where AS numbers come from, and so imply -z.
    asLookup: f.aslookupDns ? 'dns' : f.asnDb ? { file: f.asnDb } : f.aslookup || f.ipinfo === 0 ? 'shipped' : false,
    ...(carriers !== undefined ? { carriers } : {}),
    analyze: !!f.analyze,
    lang: f.lang,
    keepCapabilities: !!f.keepCapabilities,
    ...(f.user ? { user: f.user } : {}),
    ...(f.address !== undefined || f.interface !== undefined
      ? {
          binding: {
            ...(f.address !== undefined ? { address: f.address } : {}),
            ...(f.interface !== undefined ? { device: f.interface } : {}),
          },
        }
      : {}),
  };
}
