// `vpsline serve`: the looking glass. Options only; src/commands/serve.ts runs it.
import type { Command } from 'commander';
import type { ServeRun } from '../commands/serve.js';
import { userOption } from './parse.js';

/** What commander hands over: the run's settings, with the switches possibly absent. */
type ServeFlags = Omit<ServeRun, 'log' | 'keepCapabilities' | 'allowSelf'> & {
  log?: boolean;
  keepCapabilities?: boolean;
  allowSelf?: boolean;
};

const collect = (v: string, list: string[]): string[] => [...list, v];

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('the looking glass: visitors trace back to themselves from a browser and compare both directions')
    .option('--listen <address:port>', 'where to listen', '127.0.0.1:8080')
    .option('--db <file>', 'SQLite file for traces, uploads and the audit log', './vpsline.db')
    .option(
      '--config <file>',
      'JSON settings: tokens, trustProxy, allow, metricsAllow, publicHost, dns, limits, site, watch',
    )
    .option('--token-file <file>', 'tokens (one per line) that may trace targets other than the visitor')
    .option('--trust-proxy <cidr>', 'believe X-Forwarded-For from this proxy (repeatable)', collect, [])
    .option('--allow <cidr>', 'allow this special address range as a target (a lab or a LAN; repeatable)', collect, [])
    .option('--allow-self', "trace this server's own addresses too, which --allow never opens (a lab or a test)")
    .option('--metrics-allow <cidr>', 'who may read /metrics (repeatable; default: loopback only)', collect, [])
    .option('--public-host <name>', 'how the page names this server in commands (default: the host asked for)')
    .option('--carriers <file>', 'extra or replacement carrier prefixes')
    .option('--no-dns', 'no reverse DNS for hop names')
    .option('--watch <targets-file>', 'also watch these targets (the page shows the history at /watch)')
    .option(
      '--watch-db <file>',
      "the watch's history (default: beside --db, vpsline-watch.db); alone: show another watch's history",
    )
    .option('--log', 'log every request (JSON lines on standard output)')
    .option('--keep-capabilities', 'keep every privilege after opening sockets (debugging)')
    .addOption(userOption())
    .action(async (f: ServeFlags) => {
      const [{ runServe }, { processIO }] = await Promise.all([
        import('../commands/serve.js'),
        import('../commands/io.js'),
      ]);
      await runServe(
        { ...f, log: !!f.log, keepCapabilities: !!f.keepCapabilities, allowSelf: !!f.allowSelf },
        processIO(),
      );
    });
}
