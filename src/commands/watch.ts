// `vpsline watch`, `vpsline events` and `vpsline profile` as library
// functions: watch targets until told to stop, storing every interval; print
// the events; print the hour-of-day profile. The CLI only parses argv.
import { existsSync } from 'node:fs';
import { VpslineError } from '../errors.js';
import { CarrierTable } from '../lookup/carriers.js';
import { addressFamily, type Family } from '../packet/address.js';
import { defaultEngine, openThenDropPrivileges } from '../probe/process-engine.js';
import { loadTargets } from '../route/backtrace.js';
import { carrierTag, lineName } from '../route/lines.js';
import { type AlertSettings, Alerts, checkAlertTargets, readAlertSettings, sendTestAlert } from '../watch/alerts.js';
import { serveWatchMetrics, WatchMetrics } from '../watch/metrics.js';
import { hourIn, profile } from '../watch/profile.js';
import { DEFAULT_RETENTION, type Retention, type StoredEvent, WatchStore } from '../watch/store.js';
import type { WatchTarget } from '../watch/types.js';
import { Watcher } from '../watch/watcher.js';
import type { CommandIO } from './io.js';

export interface WatchRun {
  /** Addresses or host names given on the command line (each its own name). */
  hosts: string[];
  /** A target list file (backtrace's format); with neither, the built-in three-network list. */
  targets?: string;
  db: string;
  intervalS: number;
  rounds: number;
  protocol: 'icmp' | 'udp' | 'tcp' | 'auto';
  port?: number;
  maxTtl: number;
  carriers?: string;
  retention: Retention;
  confirm: number;
  alerts?: string;
  /** Post one test alert to the --alerts webhook, print its answer, and stop (nothing is probed). */
  testAlert?: boolean;
  /** Serve /metrics for Prometheus here (address:port). */
  metricsListen?: string;
  /** Stop after this many samples per target (a test); default: until SIGINT or SIGTERM. */
  samples?: number;
  keepCapabilities: boolean;
  user?: string;
}

/** The targets a watch runs: those named, else those of a file, else the three-network list. */
export function watchTargets(hosts: string[], file?: string): WatchTarget[] {
  const listed: WatchTarget[] = hosts.map((h) => ({ name: h, address: h }));
  if (file !== undefined || !listed.length) listed.push(...loadTargets(file));
  const names = new Set<string>();
  for (const t of listed) {
    if (names.has(t.name))
      throw new VpslineError('EVPSLINE_BAD_OPTION', `two watch targets are named "${t.name}"; names must differ.`, 2);
    names.add(t.name);
  }
  if (listed.length > MAX_TARGETS)
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `at most ${MAX_TARGETS} targets per watch (got ${listed.length}).`,
      2,
    );
  return listed;
}

/** Bounds the metric label sets and the probe rate of one process. */
export const MAX_TARGETS = 256;

export async function runWatch(run: WatchRun, io: CommandIO): Promise<void> {
  if (run.testAlert) return testAlert(run.alerts, io);
  const targets = watchTargets(run.hosts, run.targets);
  const table = CarrierTable.load(run.carriers);
  const alertSettings: AlertSettings | undefined = run.alerts ? readAlertSettings(run.alerts) : undefined;
  if (alertSettings && run.alerts)
    checkAlertTargets(
      alertSettings,
      targets.map((t) => t.name),
      run.alerts,
    );
  const engine = defaultEngine();
  // Host names are resolved by each trace; both families are opened unless every target is an address.
  const families = new Set<Family>(targets.map((t) => addressFamily(t.address) ?? 4));
  if (targets.some((t) => !addressFamily(t.address))) families.add(6);
  await openThenDropPrivileges(engine, {
    needs: [...families].map((family) => ({ family, protocol: run.protocol })),
    optional: true,
    keepCapabilities: run.keepCapabilities,
    ...(run.user ? { user: run.user } : {}),
    reads: [run.targets, run.carriers, run.alerts].filter((f): f is string => !!f),
    store: run.db,
    notice: (line) => io.stderr.write(`${line}\n`),
  });
  const store = new WatchStore(run.db, run.retention);
  const watcher = new Watcher({
    targets,
    store,
    confirm: run.confirm,
    sample: {
      intervalS: run.intervalS,
      rounds: run.rounds,
      table,
      trace: { engine, protocol: run.protocol, maxTtl: run.maxTtl, ...(run.port ? { port: run.port } : {}) },
    },
    ...(run.samples !== undefined ? { samples: run.samples } : {}),
  });
  watcher.on('warning', (m) => io.stderr.write(`vpsline: ${m}\n`));
  watcher.on('event', (e, phase) => io.stdout.write(`${eventLine(e, phase)}\n`));
  const metrics = run.metricsListen ? new WatchMetrics(watcher, store) : undefined;
  const alerts = alertSettings
    ? new Alerts(alertSettings, {
        store,
        warn: (m) => io.stderr.write(`vpsline: ${m}\n`),
        onAlert: (target) => metrics?.alertSent(target),
      })
    : undefined;
  alerts?.watch(watcher);
  const server = run.metricsListen && metrics ? await serveWatchMetrics(run.metricsListen, metrics) : undefined;
  io.stderr.write(
    `vpsline: watching ${targets.length} target${targets.length === 1 ? '' : 's'} every ${run.intervalS} s ` +
      `(database ${run.db}${server ? `, metrics on http://${server.address}/metrics` : ''})\n`,
  );
  const stop = (): void => void watcher.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await watcher.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await server?.close();
    await alerts?.close();
    store.close();
  }
}

/** `--test-alert`: one POST, no retries; exit 0 on a 2xx answer, 1 otherwise. */
async function testAlert(file: string | undefined, io: CommandIO): Promise<void> {
  if (!file) throw new VpslineError('EVPSLINE_BAD_OPTION', '--test-alert needs --alerts <file>.', 2);
  const result = await sendTestAlert(readAlertSettings(file));
  io.stdout.write(`${result.line}\n`);
  if (!result.ok) throw new VpslineError('EVPSLINE_BAD_OPTION', 'the webhook did not accept the test alert.', 1);
}

const iso = (t: number | null, zone?: string): string => {
  if (t === null) return '…';
  if (!zone) return new Date(t).toISOString().replace('.000Z', 'Z');
  const parts = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    dateStyle: 'short',
    timeStyle: 'medium',
  }).format(t);
  return parts;
};

/** A path's carriers by name, in order (the event keeps their ids). */
const carriers = (ids: unknown): string =>
  (Array.isArray(ids) ? ids.map((c) => carrierTag(String(c))).join(' > ') : '') || 'no carrier named';

/** One line for a person: when, which target, what changed. */
export function eventLine(e: StoredEvent, phase?: string, zone?: string): string {
  const when = `${iso(e.start, zone)}${e.end !== null || phase === 'opened' ? ` - ${iso(e.end, zone)}` : ''}`;
  const o = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const pct = (v: unknown): string => (typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '?');
  const ms = (v: unknown): string => (typeof v === 'number' ? `${v.toFixed(1)} ms` : '?');
  let what: string;
  switch (e.type) {
    case 'route-change':
      what =
        `route changed at TTL ${(o(e.evidence).changedTtls as number[] | undefined)?.join(', ') ?? '?'}: ` +
        `${carriers(o(e.before).carriers)} -> ${carriers(o(e.after).carriers)}`;
      break;
    case 'verdict-change':
      what = `line changed: ${lineName(String(e.before))} -> ${lineName(String(e.after))}`;
      break;
    case 'loss':
      what =
        `loss at the destination up to ${pct(o(e.after).loss)} (mean ${pct(o(e.after).meanLoss)}` +
        `${typeof o(e.evidence).fromTtl === 'number' ? `, from TTL ${o(e.evidence).fromTtl}` : ''})`;
      break;
    case 'latency':
      what = `latency up to ${ms(o(e.after).worstMs)} against a baseline of ${ms(o(e.before).baselineMs)}`;
      break;
  }
  return `${when}  ${e.target}  ${what}${phase === 'opened' ? ' (going on)' : ''}`;
}

export interface EventsRun {
  db: string;
  json: boolean;
  target?: string;
  type?: StoredEvent['type'];
  since?: number;
  timeZone?: string;
}

/** JSON: one object per line, `time` being the start in ISO form. */
export function runEvents(run: EventsRun, io: CommandIO): void {
  const store = openExisting(run.db);
  try {
    if (run.timeZone) hourIn(run.timeZone); // a clear error for a bad zone
    const events = store.events({
      ...(run.target !== undefined ? { target: run.target } : {}),
      ...(run.type ? { type: run.type } : {}),
      ...(run.since !== undefined ? { from: run.since } : {}),
    });
    for (const e of events) {
      io.stdout.write(
        run.json
          ? `${JSON.stringify({
              time: new Date(e.start).toISOString(),
              target: e.target,
              type: e.type,
              before: e.before,
              after: e.after,
              start: e.start,
              end: e.end,
              evidence: e.evidence,
              id: e.id,
            })}\n`
          : `${eventLine(e, isOpenEpisode(e) ? 'opened' : undefined, run.timeZone)}\n`,
      );
    }
    if (!run.json && !events.length) io.stderr.write('vpsline: no events recorded.\n');
  } finally {
    store.close();
  }
}

const isOpenEpisode = (e: StoredEvent): boolean => e.end === null && (e.type === 'loss' || e.type === 'latency');

export interface ProfileRun {
  db: string;
  target?: string;
  days: number;
  timeZone: string;
  json: boolean;
  now?: number;
}

export function runProfile(run: ProfileRun, io: CommandIO): void {
  const store = openExisting(run.db);
  try {
    const names = store.targets().map((t) => t.name);
    const chosen = run.target !== undefined ? [run.target] : names;
    for (const name of chosen)
      if (!names.includes(name))
        throw new VpslineError(
          'EVPSLINE_BAD_OPTION',
          `no target "${name}" in ${run.db} (it has: ${names.join(', ')}).`,
          2,
        );
    const to = run.now ?? Date.now();
    const from = to - run.days * 86_400_000;
    const profiles = chosen.map((n) => profile(store, n, from, to, run.timeZone));
    if (run.json) {
      io.stdout.write(`${JSON.stringify(profiles)}\n`);
      return;
    }
    for (const p of profiles) {
      io.stdout.write(`${p.target}: the last ${run.days} days by hour of day (${p.timeZone})\n`);
      io.stdout.write('Hour  Samples   Loss%   Lossy   Median     P90  Lines\n');
      for (const h of p.hours) {
        const f = (v: number | null, d = 1): string => (v === null ? '-' : v.toFixed(d));
        const total = Object.values(h.verdicts).reduce((a, b) => a + b, 0);
        const mix = Object.entries(h.verdicts)
          .sort((a, b) => b[1] - a[1])
          .map(([v, n]) => `${lineName(v)} ${Math.round((100 * n) / total)} %`)
          .join(', ');
        io.stdout.write(
          `${String(h.hour).padStart(2, '0')}:00 ${String(h.samples).padStart(8)} ` +
            `${f(h.loss === null ? null : h.loss * 100).padStart(7)} ` +
            `${String(h.lossySamples).padStart(7)} ${f(h.p50).padStart(8)} ${f(h.p90).padStart(7)}  ${mix}\n`,
        );
      }
    }
  } finally {
    store.close();
  }
}

/** A watch database that must already exist (events and profile never create one). */
function openExisting(db: string): WatchStore {
  if (!existsSync(db))
    throw new VpslineError('EVPSLINE_BAD_OPTION', `no watch database at ${db} (start one with vpsline watch --db).`, 2);
  return new WatchStore(db, DEFAULT_RETENTION);
}
