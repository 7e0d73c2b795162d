// `vpsline watch`, `vpsline events`, `vpsline profile`: options only; src/commands/watch.ts runs them.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { VpslineError } from '../errors.js';
import { intArg, numberArg, userOption } from './parse.js';

interface WatchFlags {
  db: string;
  targets?: string;
  interval: number;
  rounds: number;
  udp?: boolean;
  tcp?: boolean;
  port?: number;
  maxTtl: number;
  carriers?: string;
  detailDays: number;
  hourlyDays: number;
  confirm: number;
  alerts?: string;
  testAlert?: boolean;
  metricsListen?: string;
  samples?: number;
  keepCapabilities?: boolean;
  user?: string;
}

const EVENT_TYPES = ['route-change', 'verdict-change', 'loss', 'latency'] as const;

function within(what: string, lo: number, hi: number, parse: (v: string) => number): (v: string) => number {
  return (v) => {
    const n = parse(v);
    if (n < lo || n > hi) throw new InvalidArgumentError(`${what} must be from ${lo} to ${hi}.`);
    return n;
  };
}

function dateArg(v: string): number {
  const t = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(t))
    throw new InvalidArgumentError('--since is a date (2026-11-02T20:00+08:00) or Unix seconds.');
  return t;
}

export function watchCommand(program: Command): void {
  program
    .command('watch')
    .argument('[target...]', 'addresses or host names (default: the three-network list, or --targets)')
    .description('watch lines over days: loss, latency, route and verdict changes, stored in SQLite')
    .option('--db <file>', 'SQLite file for the history', './vpsline-watch.db')
    .option('--targets <file>', 'target list: JSON [{name, address, carrier}] or lines "<address> <name>"')
    .option(
      '--interval <seconds>',
      'seconds one stored sample covers',
      within('--interval', 1, 86_400, numberArg('--interval')),
      60,
    )
    .option(
      '--rounds <n>',
      'probe rounds per sample, spread over the interval',
      within('--rounds', 1, 600, intArg('--rounds')),
      10,
    )
    .option('-u, --udp', 'UDP probes instead of ICMP')
    .option('-T, --tcp', 'TCP SYN probes instead of ICMP')
    .option('-P, --port <port>', 'TCP destination port', intArg('port'))
    .option('-m, --max-ttl <ttl>', 'largest TTL to probe', intArg('max TTL'), 30)
    .option('--carriers <file>', 'extra or replacement carrier prefixes')
    .option(
      '--detail-days <days>',
      'days every sample is kept',
      within('--detail-days', 1, 366, intArg('--detail-days')),
      7,
    )
    .option(
      '--hourly-days <days>',
      'days hourly rollups and events are kept',
      within('--hourly-days', 1, 3660, intArg('--hourly-days')),
      400,
    )
    .option(
      '--confirm <n>',
      'samples in a row a new path or line needs to count as a change',
      within('--confirm', 1, 100, intArg('--confirm')),
      3,
    )
    .option('--alerts <file>', 'alert rules and webhook (JSON, see the README)')
    .option('--test-alert', 'post one test alert to the --alerts webhook, print its answer and exit')
    .option('--metrics-listen <address:port>', 'serve /metrics for Prometheus here')
    .addOption(
      new Option('--samples <n>', 'stop after this many samples per target').argParser(intArg('--samples')).hideHelp(),
    )
    .option('--keep-capabilities', 'keep every privilege after opening sockets (debugging)')
    .addOption(userOption())
    .action(async (hosts: string[], f: WatchFlags) => {
      if (f.udp && f.tcp) throw new VpslineError('EVPSLINE_BAD_OPTION', '-u and -T cannot be used together.', 2);
      if (f.interval / f.rounds < 0.01)
        throw new VpslineError('EVPSLINE_BAD_OPTION', '--rounds: at most 100 rounds per second of --interval.', 2);
      const [{ runWatch }, { processIO }] = await Promise.all([
        import('../commands/watch.js'),
        import('../commands/io.js'),
      ]);
      await runWatch(
        {
          hosts,
          ...(f.targets !== undefined ? { targets: f.targets } : {}),
          db: f.db,
          intervalS: f.interval,
          rounds: f.rounds,
          protocol: f.udp ? 'udp' : f.tcp ? 'tcp' : 'auto',
          ...(f.port !== undefined ? { port: f.port } : {}),
          maxTtl: f.maxTtl,
          ...(f.carriers !== undefined ? { carriers: f.carriers } : {}),
          retention: { detailDays: f.detailDays, hourlyDays: f.hourlyDays },
          confirm: f.confirm,
          ...(f.alerts !== undefined ? { alerts: f.alerts } : {}),
          ...(f.testAlert ? { testAlert: true } : {}),
          ...(f.metricsListen !== undefined ? { metricsListen: f.metricsListen } : {}),
          ...(f.samples !== undefined ? { samples: f.samples } : {}),
          keepCapabilities: !!f.keepCapabilities,
          ...(f.user ? { user: f.user } : {}),
        },
        processIO(),
      );
    });

  program
    .command('events')
    .description("a watch's events: route changes, line changes, loss and latency episodes")
    .option('--db <file>', 'the watch database', './vpsline-watch.db')
    .option('--json', 'one JSON object per line (time, target, type, before, after, start, end, evidence)')
    .option('--target <name>', 'this target only')
    .addOption(new Option('--type <type>', 'this kind only').choices(EVENT_TYPES))
    .option('--since <date>', 'events going on at or after this time', dateArg)
    .option('--tz <zone>', 'show times in this IANA time zone (default UTC)')
    .action(
      async (f: {
        db: string;
        json?: boolean;
        target?: string;
        type?: (typeof EVENT_TYPES)[number];
        since?: number;
        tz?: string;
      }) => {
        const [{ runEvents }, { processIO }] = await Promise.all([
          import('../commands/watch.js'),
          import('../commands/io.js'),
        ]);
        runEvents(
          {
            db: f.db,
            json: !!f.json,
            ...(f.target !== undefined ? { target: f.target } : {}),
            ...(f.type ? { type: f.type } : {}),
            ...(f.since !== undefined ? { since: f.since } : {}),
            ...(f.tz ? { timeZone: f.tz } : {}),
          },
          processIO(),
        );
      },
    );

  program
    .command('profile')
    .description("loss, latency and the line's mix by hour of day: the evening peak")
    .option('--db <file>', 'the watch database', './vpsline-watch.db')
    .option('--target <name>', 'this target only (default: every one)')
    .option('--days <n>', 'days back from now', within('--days', 1, 3660, intArg('--days')), 7)
    .option('--tz <zone>', 'IANA time zone for the hours', 'Asia/Shanghai')
    .option('--json', 'print JSON')
    .action(async (f: { db: string; target?: string; days: number; tz: string; json?: boolean }) => {
      const [{ runProfile }, { processIO }] = await Promise.all([
        import('../commands/watch.js'),
        import('../commands/io.js'),
      ]);
      runProfile(
        {
          db: f.db,
          ...(f.target !== undefined ? { target: f.target } : {}),
          days: f.days,
          timeZone: f.tz,
          json: !!f.json,
        },
        processIO(),
      );
    });
}
