// A watch's /metrics for Prometheus: per target the latest sample (loss, RTT
// percentiles in seconds, the line), counters of samples, probes and events,
// and which episodes are going on. Labels are the target's name and small
// fixed sets only (quantile, event type, the line's id): a target costs a
// fixed number of series, never one per hop address. Counters start from the
// history the database keeps, so a restarted watch carries on where it was
// (docs/watch-metrics.md explains the one case where they step back).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { errnoCode, VpslineError } from '../errors.js';
import { parseListen } from '../listen.js';
import type { StoredEvent, WatchStore } from './store.js';
import type { EventType, Sample } from './types.js';
import type { EventPhase, Watcher } from './watcher.js';

const EVENT_TYPES: readonly EventType[] = ['route-change', 'verdict-change', 'loss', 'latency'];
const EPISODE_TYPES = ['loss', 'latency'] as const;
const QUANTILES = [
  ['0.1', 'p10'],
  ['0.5', 'p50'],
  ['0.9', 'p90'],
] as const;

export class WatchMetrics {
  readonly loss: Gauge<'target'>;
  readonly rtt: Gauge<'target' | 'quantile'>;
  readonly line: Gauge<'target' | 'line'>;
  readonly lastSample: Gauge<'target'>;
  readonly episodeOpen: Gauge<'target' | 'type'>;
  readonly samples: Counter<'target'>;
  readonly probesSent: Counter<'target'>;
  readonly probesAnswered: Counter<'target'>;
  readonly routeChanges: Counter<'target'>;
  readonly verdictChanges: Counter<'target'>;
  readonly events: Counter<'target' | 'type'>;
  readonly alerts: Counter<'target'>;
  /** The line each target's line_info series names now (to remove it when the line changes). */
  private readonly lines = new Map<string, string>();

  constructor(
    readonly watcher: Watcher,
    readonly store: WatchStore,
    /** The registry to add to (the looking glass's own, under serve); a new one by default. */
    readonly registry: Registry = new Registry(),
  ) {
    const registers = [registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> =>
      new Gauge({ name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      new Counter({ name, help, labelNames, registers });
    new Gauge({ name: 'vpsline_watch_interval_seconds', help: 'Seconds between samples of a target', registers }).set(
      watcher.intervalMs / 1000,
    );
    this.loss = gauge('vpsline_watch_loss_ratio', "Latest sample's share of probes to the destination lost (0..1)", [
      'target',
    ]);
    this.rtt = gauge('vpsline_watch_rtt_seconds', "Latest sample's destination round-trip time percentiles", [
      'target',
      'quantile',
    ]);
    this.line = gauge('vpsline_watch_line_info', 'The line the target is on now (confirmed verdict); always 1', [
      'target',
      'line',
    ]);
    this.lastSample = gauge('vpsline_watch_last_sample_timestamp_seconds', "Latest sample's start, Unix time", [
      'target',
    ]);
    this.episodeOpen = gauge('vpsline_watch_episode_open', '1 while a loss or latency episode goes on', [
      'target',
      'type',
    ]);
    this.samples = counter('vpsline_watch_samples_total', 'Samples taken and stored', ['target']);
    this.probesSent = counter('vpsline_watch_probes_sent_total', 'Probes sent to the destination', ['target']);
    this.probesAnswered = counter('vpsline_watch_probes_answered_total', 'Replies from the destination', ['target']);
    this.routeChanges = counter('vpsline_watch_route_changes_total', 'Confirmed route changes', ['target']);
    this.verdictChanges = counter('vpsline_watch_verdict_changes_total', 'Confirmed line (verdict) changes', [
      'target',
    ]);
    this.events = counter('vpsline_watch_events_total', 'Events recorded, by type (an episode counts when it opens)', [
      'target',
      'type',
    ]);
    this.alerts = counter('vpsline_watch_alerts_total', 'Alerts raised by the alert rules', ['target']);

    for (const { name } of watcher.targets) this.startFromHistory(name);
    watcher.on('sample', (s) => this.onSample(s));
    watcher.on('event', (e, phase) => this.onEvent(e, phase));
  }

  /** The alerts module calls this for each alert it raises (resolved messages are not counted). */
  alertSent(target: string): void {
    this.alerts.inc({ target });
  }

  /** Every series of the target exists from the start (a missing series reads as "no data", not 0). */
  private startFromHistory(target: string): void {
    const t = { target };
    const history = storedCounts(this.store, target);
    this.samples.inc(t, history.samples);
    this.probesSent.inc(t, history.sent);
    this.probesAnswered.inc(t, history.received);
    this.alerts.inc(t, this.store.alertCount(target));
    const events = this.store.events({ target });
    const count = (type: EventType): number => events.filter((e) => e.type === type).length;
    for (const type of EVENT_TYPES) this.events.inc({ target, type }, count(type));
    this.routeChanges.inc(t, count('route-change'));
    this.verdictChanges.inc(t, count('verdict-change'));
    for (const type of EPISODE_TYPES) {
      const last = events.filter((e) => e.type === type).at(-1);
      this.episodeOpen.set({ target, type }, last && last.end === null ? 1 : 0);
    }
    const last = this.store.lastSample(target);
    if (last) {
      this.showSample(last);
      this.showLine(target, confirmedVerdict(this.store.loadState(target)) ?? 'inconclusive');
    }
  }

  private onSample(s: Sample): void {
    const t = { target: s.target };
    this.samples.inc(t);
    this.probesSent.inc(t, s.sent);
    this.probesAnswered.inc(t, s.received);
    this.showSample(s);
    // The watcher's rule: the first conclusive sample sets the line, later ones change it only when confirmed.
    const current = this.lines.get(s.target);
    if (current === undefined || (current === 'inconclusive' && s.verdict !== 'inconclusive'))
      this.showLine(s.target, s.verdict);
  }

  private onEvent(e: StoredEvent, phase: EventPhase): void {
    const t = { target: e.target };
    if (phase === 'closed') {
      this.episodeOpen.set({ ...t, type: e.type }, 0);
      return;
    }
    this.events.inc({ ...t, type: e.type });
    if (e.type === 'route-change') this.routeChanges.inc(t);
    if (e.type === 'verdict-change') {
      this.verdictChanges.inc(t);
      this.showLine(e.target, String(e.after));
    }
    if (phase === 'opened') this.episodeOpen.set({ ...t, type: e.type }, 1);
  }

  /** The gauges of the latest sample; a value the sample does not have is removed, not left stale. */
  private showSample(s: Sample): void {
    const t = { target: s.target };
    this.lastSample.set(t, s.t / 1000);
    if (s.loss === null) this.loss.remove(t);
    else this.loss.set(t, s.loss);
    for (const [quantile, key] of QUANTILES) {
      if (s.rtt) this.rtt.set({ ...t, quantile }, s.rtt[key] / 1000);
      else this.rtt.remove({ ...t, quantile });
    }
  }

  /** One line_info series per target: the old line's series goes when the line changes. */
  private showLine(target: string, line: string): void {
    const old = this.lines.get(target);
    if (old !== undefined && old !== line) this.line.remove({ target, line: old });
    this.lines.set(target, line);
    this.line.set({ target, line }, 1);
  }
}

/** The verdict a watcher saved in its detector state, if the state has one. */
function confirmedVerdict(state: unknown): string | undefined {
  const verdict = (state as { verdict?: { verdict?: unknown } } | undefined)?.verdict?.verdict;
  return typeof verdict === 'string' ? verdict : undefined;
}

/**
 * Samples and destination probes the database knows of: the hour rollups
 * (kept 400 days), except the newest one, which may miss samples stored after
 * it was rolled, plus every sample from that hour on.
 */
function storedCounts(store: WatchStore, target: string): { samples: number; sent: number; received: number } {
  const hours = store.hours(target);
  const newest = hours.at(-1);
  const counts = { samples: 0, sent: 0, received: 0 };
  for (const h of hours.slice(0, -1)) {
    counts.samples += h.samples;
    counts.sent += h.sent;
    counts.received += h.received;
  }
  const from = newest ? newest.t : 0;
  for (const s of store.samples(target, from, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
    counts.samples++;
    counts.sent += s.sent;
    counts.received += s.received;
  }
  return counts;
}

/** Serve GET /metrics (and HEAD) at `listen`; anything else is 404, other methods 405. */
export async function serveWatchMetrics(
  listen: string,
  metrics: WatchMetrics,
): Promise<{ address: string; close(): Promise<void> }> {
  const { host, port } = parseListen(listen, '--metrics-listen', '127.0.0.1:9464 or [::1]:9464');
  const server = createServer((req, res) => void answer(req, res, metrics.registry));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `Cannot listen on ${listen} for --metrics-listen: ${errnoCode(err) ?? (err as Error).message}.`,
      1,
    );
  }
  const addr = server.address();
  const address =
    typeof addr === 'object' && addr
      ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
      : listen;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, registry: Registry): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('Only GET\n');
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`Metrics failed: ${(err as Error).message}\n`);
  }
}
