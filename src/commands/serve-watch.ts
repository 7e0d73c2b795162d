// The line watch inside `vpsline serve`: with --watch (or the config's watch
// block) the server samples the targets itself, on its own probe engine, into
// a watch database beside its own; with --watch-db alone it shows a history
// that a separate `vpsline watch` records, read-only. Either way the page
// shows the pictures at /watch, and with a running watch /metrics carries the
// watch's series.
//
// Why a file of its own (not the --db file): the looking glass keeps its
// database under limits.maxDbMb by deleting its oldest traces, and it counts
// every page of the file: a watch's weeks of samples would push every trace out.
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Registry } from 'prom-client';
import { VpslineError } from '../errors.js';
import { CarrierTable } from '../lookup/carriers.js';
import type { ProbeEngine } from '../probe/engine.js';
import { DEFAULT_WATCH, type WatchConfig } from '../server/config.js';
import { Alerts, checkAlertTargets, readAlertSettings } from '../watch/alerts.js';
import { WatchMetrics } from '../watch/metrics.js';
import { WatchStore } from '../watch/store.js';
import type { WatchTarget } from '../watch/types.js';
import { Watcher } from '../watch/watcher.js';
import type { CommandIO } from './io.js';
import { eventLine, MAX_TARGETS, watchTargets } from './watch.js';

/** The watch database beside the looking glass's: ./vpsline.db -> ./vpsline-watch.db (`vpsline watch`'s default). */
export function watchDbBeside(db: string): string {
  const ext = extname(db);
  return join(dirname(db), `${basename(db, ext)}-watch${ext || '.db'}`);
}

export interface ServeWatchSettings {
  /** --watch: a target list file (wins over the config's targets). */
  targetsFile?: string;
  db: string;
  /** --watch-db was given: without targets, the history must already exist. */
  dbGiven: boolean;
  config?: WatchConfig;
  carriers?: string;
}

export interface ServedWatch {
  store: WatchStore;
  watcher?: Watcher;
  /** Start sampling (a running watch), with its metrics in the looking glass's registry. */
  start(registry: Registry): void;
  stop(): Promise<void>;
  close(): void;
  describe(): string;
}

/** The watch the settings ask for, or undefined when they ask for none. */
export function serveWatch(set: ServeWatchSettings, engine: ProbeEngine, io: CommandIO): ServedWatch | undefined {
  const c = { ...DEFAULT_WATCH, ...set.config };
  const listed = set.targetsFile ?? c.targets;
  if (listed === undefined && !set.dbGiven) return undefined;
  const retention = { detailDays: c.detailDays, hourlyDays: c.hourlyDays };
  if (listed === undefined) {
    // A history recorded elsewhere: shown, never written (no watcher, no maintenance).
    if (!existsSync(set.db))
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `no watch database at ${set.db} (record one with vpsline watch --db, or give --watch <targets>).`,
        2,
      );
    const store = new WatchStore(set.db, retention);
    return {
      store,
      start: () => {},
      stop: async () => {},
      close: () => store.close(),
      describe: () => `line watch history from ${set.db} at /watch (recorded by another process)`,
    };
  }
  const targets: WatchTarget[] = typeof listed === 'string' ? watchTargets([], listed) : listed;
  if (!targets.length || targets.length > MAX_TARGETS)
    throw new VpslineError('EVPSLINE_BAD_OPTION', `a watch needs 1 to ${MAX_TARGETS} targets.`, 2);
  const store = new WatchStore(set.db, retention);
  const watcher = new Watcher({
    targets,
    store,
    sample: {
      intervalS: c.intervalSeconds,
      rounds: c.rounds,
      table: CarrierTable.load(set.carriers),
      trace: { engine, protocol: 'auto', maxTtl: 30 },
    },
  });
  // Alert rules are read and checked now, so a mistake stops the server before it listens.
  const alertSettings = c.alerts ? readAlertSettings(c.alerts) : undefined;
  if (alertSettings && c.alerts)
    checkAlertTargets(
      alertSettings,
      targets.map((t) => t.name),
      c.alerts,
    );
  let alerts: Alerts | undefined;
  watcher.on('warning', (m) => io.stderr.write(`vpsline: watch: ${m}\n`));
  watcher.on('event', (e, phase) => io.stderr.write(`vpsline: watch: ${eventLine(e, phase)}\n`));
  let running: Promise<void> | undefined;
  return {
    store,
    watcher,
    start(registry) {
      const metrics = new WatchMetrics(watcher, store, registry);
      if (alertSettings) {
        alerts = new Alerts(alertSettings, {
          store,
          warn: (m) => io.stderr.write(`vpsline: watch: ${m}\n`),
          onAlert: (target) => metrics.alertSent(target),
        });
        alerts.watch(watcher);
      }
      running = watcher.run().catch((err: Error) => void io.stderr.write(`vpsline: watch stopped: ${err.message}\n`));
    },
    async stop() {
      if (running) {
        await watcher.stop();
        await running;
      }
      await alerts?.close();
    },
    close: () => store.close(),
    describe: () =>
      `watching ${targets.length} target${targets.length === 1 ? '' : 's'} every ${c.intervalSeconds} s ` +
      `into ${set.db}; pictures at /watch`,
  };
}
