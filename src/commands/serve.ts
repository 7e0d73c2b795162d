// `vpsline serve` as a library function: open every probe socket and the
// listening socket while privileged, give privileges up, read the settings,
// and serve until SIGINT or SIGTERM.
import { errnoCode, VpslineError } from '../errors.js';
import { defaultEngine, openThenDropPrivileges, type SocketNeed } from '../probe/process-engine.js';
import { createLookingGlass } from '../server/app.js';
import { CarrierTable } from '../lookup/carriers.js';
import { normalizeCidrs, parseListen, readServeConfig, readTokenFile, type ServeConfig } from '../server/config.js';
import { returnRoutesFromConfig } from '../server/return-routes.js';
import { serveWatch, type ServedWatch, watchDbBeside } from './serve-watch.js';
import type { CommandIO } from './io.js';

export interface ServeRun {
  listen: string;
  db: string;
  config?: string;
  tokenFile?: string;
  trustProxy: string[];
  allow: string[];
  /** Trace this server's own addresses too (a lab or a test). */
  allowSelf: boolean;
  /** Who may read /metrics (CIDRs); none given: loopback only. */
  metricsAllow: string[];
  publicHost?: string;
  carriers?: string;
  dns: boolean;
  log: boolean;
  keepCapabilities: boolean;
  /** Who to carry on as when started as root (--user; default nobody). */
  user?: string;
  /** --watch: run a line watch of these targets (a file) in this process. */
  watch?: string;
  /** --watch-db: the watch's history; alone, a history another `vpsline watch` records (shown read-only). */
  watchDb?: string;
}

/** Every family and protocol a visitor's trace may use. */
const NEEDS: SocketNeed[] = ([4, 6] as const).flatMap((family) =>
  (['auto', 'udp', 'tcp'] as const).map((protocol) => ({ family, protocol })),
);

export async function runServe(run: ServeRun, io: CommandIO): Promise<void> {
  const { host, port } = parseListen(run.listen);
  // Sockets first, while privileged: the probe sockets and the listening one
  // (a port below 1024 needs CAP_NET_BIND_SERVICE). When started as root the
  // process then re-executes as --user and goes on from here with them.
  // A family or protocol this host lacks is not fatal: traces needing it fail with the reason.
  const engine = defaultEngine();
  const { listenFd } = await openThenDropPrivileges(engine, {
    needs: NEEDS,
    optional: true,
    keepCapabilities: run.keepCapabilities,
    ...(run.user ? { user: run.user } : {}),
    reads: [run.config, run.tokenFile, run.carriers, run.watch, run.watchDb].filter((f): f is string => !!f),
    store: run.db,
    notice: (line) => io.stderr.write(`${line}\n`),
    listen: { host, port },
  });
  const config: ServeConfig = run.config ? readServeConfig(run.config) : {};
  const tokens = [...(config.tokens ?? []), ...(run.tokenFile ? readTokenFile(run.tokenFile) : [])];
  if (tokens.some((t) => t.length < 16))
    throw new VpslineError('EVPSLINE_BAD_OPTION', 'tokens must be at least 16 characters long.', 2);
  const publicHost = run.publicHost ?? config.publicHost;
  // Nothing is traced until a visitor asks for the table, and then at most once per period.
  const returnRoutes = returnRoutesFromConfig(config.returnRoutes, { engine, table: CarrierTable.load(run.carriers) });
  // The line watch: run here (--watch or the config's watch block), or an existing history shown (--watch-db).
  const watch: ServedWatch | undefined = serveWatch(
    {
      ...(run.watch !== undefined ? { targetsFile: run.watch } : {}),
      db: run.watchDb ?? watchDbBeside(run.db),
      dbGiven: run.watchDb !== undefined,
      ...(config.watch ? { config: config.watch } : {}),
      ...(run.carriers ? { carriers: run.carriers } : {}),
    },
    engine,
    io,
  );
  const lg = await createLookingGlass({
    db: run.db,
    tokens,
    trustProxy: normalizeCidrs([...(config.trustProxy ?? []), ...run.trustProxy], '--trust-proxy'),
    allow: normalizeCidrs([...(config.allow ?? []), ...run.allow], '--allow'),
    allowSelf: run.allowSelf || config.allowSelf === true,
    ...metricsAllowed([...(config.metricsAllow ?? []), ...run.metricsAllow]),
    ...(config.limits ? { limits: config.limits } : {}),
    ...(config.site ? { site: config.site } : {}),
    ...(returnRoutes ? { returnRoutes } : {}),
    dns: run.dns && config.dns !== false,
    ...(run.carriers ? { carriers: run.carriers } : {}),
    ...(publicHost ? { publicHost } : {}),
    engine,
    log: run.log,
    ...(watch ? { watch: { store: watch.store, ...(watch.watcher ? { watcher: watch.watcher } : {}) } } : {}),
  });
  try {
    // Fastify passes the options to net's listen, where a descriptor wins over host and port;
    // a host other than "localhost" keeps Fastify from binding a second address.
    const at = listenFd !== undefined ? ({ fd: listenFd, host: '0.0.0.0' } as { host: string }) : { host, port };
    await lg.app.listen(at);
  } catch (err) {
    await watch?.stop();
    await lg.close();
    watch?.close();
    const why = errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
    throw new VpslineError('EVPSLINE_BAD_OPTION', `Cannot listen on ${run.listen}: ${why}.`, 1);
  }
  const addr = lg.app.server.address();
  const where =
    typeof addr === 'object' && addr
      ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
      : run.listen;
  io.stderr.write(`vpsline: looking glass on http://${where}/ (database ${run.db})\n`);
  // Probing starts once the page is up: a server that cannot listen sends nothing.
  if (watch) {
    watch.start(lg.metrics.registry);
    io.stderr.write(`vpsline: ${watch.describe()}\n`);
  }
  // Serve until told to stop; then finish cleanly (running traces are stopped and stored).
  await new Promise<void>((resolve) => {
    // The watch first (a sample being measured is cut short and stored), then the page, then the history.
    const stop = (): void =>
      void (async () => {
        await watch?.stop();
        await lg.close();
        watch?.close();
      })().then(resolve, resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** --metrics-allow and the config's metricsAllow together; nothing given keeps the default (loopback). */
function metricsAllowed(cidrs: string[]): { metricsAllow?: string[] } {
  return cidrs.length ? { metricsAllow: normalizeCidrs(cidrs, '--metrics-allow') } : {};
}
