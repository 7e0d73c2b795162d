// Runs the looking glass's traces: admission (concurrency caps and hourly
// budgets), one shared probe engine, live hop updates for viewers, and the
// finished result (mtr JSON + verdict) written to the store.
import type { CarrierTable } from '../lookup/carriers.js';
import type { ReverseDns } from '../lookup/reverse-dns.js';
import type { ProbeEngine } from '../probe/engine.js';
import { jsonReport } from '../report/json.js';
import { shippedAsnIndex } from '../lookup/asn-data.js';
import { classifyTrace } from '../route/backtrace.js';
import { bilingualNames, carrierTag } from '../route/lines.js';
import { analyzeReport } from '../trace/analysis.js';
import type { HopSnapshot } from '../trace/hop.js';
import { Trace, type TraceReport } from '../trace/trace.js';
import { Concurrency, RateWindow, type Limits } from './limits.js';
import type { Refusal } from './refusals.js';
import type { Store } from './store.js';
import { originOf, type ViewHop } from './views.js';

export type Protocol = 'icmp' | 'udp' | 'tcp' | 'auto';

type Figure = 'lossPercent' | 'sent' | 'last' | 'avg' | 'best' | 'worst' | 'stdev';
/**
 * A hop as the page draws it (views.ts's ViewHop), measured here: every figure known, and `received`
 * says whether the times mean anything. Names come from reverse DNS: untrusted text.
 */
export type LiveHop = Omit<ViewHop, Figure | 'masked'> & Record<Figure, number> & { received: number };

/**
 * Where a running trace stands: the round being sent (1-based) of how many, and the hops as the trace
 * shows them now. The list is the trace's own view (up to the destination), the same one the stored
 * result is made from: a hop seen past the destination before a lower TTL answered drops out again.
 */
export interface LiveProgress {
  round: number;
  rounds: number;
  hops: LiveHop[];
}

export type LiveEvent =
  | ({ type: 'progress' } & LiveProgress)
  | { type: 'end'; status: EndStatus; result?: unknown; error?: string };

/** At most this often a running trace tells its viewers where it stands (the last change is never held back). */
const PROGRESS_EVERY_MS = 200;

export interface RunnerOptions {
  /** Throttle of progress events (default PROGRESS_EVERY_MS; a test sees every change with 0). */
  progressEveryMs?: number;
}

/** Why a trace may not start now (admit). */
export interface Admission {
  statusCode: 429 | 503;
  refusal: Refusal;
  retryAfterS: number;
}

/** How a trace ended: a stop before its last round keeps what was measured, as "interrupted". */
export type EndStatus = 'done' | 'failed' | 'interrupted';

interface LiveTrace {
  trace: Trace;
  progress: LiveProgress;
  /** A progress event is due (throttled to PROGRESS_EVERY_MS). */
  pending: NodeJS.Timeout | undefined;
  lastSentAt: number;
  listeners: Set<(e: LiveEvent) => void>;
  /** Stopped before its last round (the time limit, or the server shutting down). */
  stopped: boolean;
  /** Settles once the trace is stored, whatever its end. */
  stored: Promise<void>;
}

export interface RunnerHooks {
  started?: () => void;
  finished?: (status: EndStatus, seconds: number) => void;
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

export class TraceRunner {
  private readonly live = new Map<string, LiveTrace>();
  private readonly byClient: Concurrency;
  private readonly byTarget: Concurrency;
  private readonly clientBudget: RateWindow;
  private readonly targetBudget: RateWindow;
  private readonly networkBudget: RateWindow;

  constructor(
    private readonly store: Store,
    private readonly engine: ProbeEngine,
    private readonly table: CarrierTable,
    private readonly limits: Limits,
    private readonly dns?: ReverseDns,
    private readonly hooks: RunnerHooks = {},
    private readonly options: RunnerOptions = {},
  ) {
    this.byClient = new Concurrency(limits.maxPerClient, limits.maxConcurrent);
    this.byTarget = new Concurrency(limits.maxPerTarget);
    this.clientBudget = new RateWindow(limits.tracesPerClientPerHour, 3_600_000);
    this.targetBudget = new RateWindow(limits.tracesPerTargetPerHour, 3_600_000);
    this.networkBudget = new RateWindow(limits.tracesPerNetworkPerHour, 3_600_000);
  }

  get running(): number {
    return this.byClient.total;
  }

  /**
   * Whether a client may start a trace to `address` now; takes the slots when it may. `network` is the
   * client's wider network (an IPv6 /48), with a budget of its own.
   */
  admit(client: string, address: string, network = client): Admission | undefined {
    const c = this.byClient.acquire(client);
    if (c === 'total')
      return {
        statusCode: 503,
        refusal: { code: 'server-busy', params: { max: this.limits.maxConcurrent } },
        retryAfterS: 5,
      };
    if (c === 'key')
      return {
        statusCode: 429,
        refusal: { code: 'client-busy', params: { max: this.limits.maxPerClient } },
        retryAfterS: 5,
      };
    if (this.byTarget.acquire(address)) {
      this.byClient.release(client);
      return {
        statusCode: 429,
        refusal: { code: 'target-busy', params: { address, max: this.limits.maxPerTarget } },
        retryAfterS: 5,
      };
    }
    const wait = this.clientBudget.take(client) || this.networkBudget.take(network) || this.targetBudget.take(address);
    if (wait) {
      this.byClient.release(client);
      this.byTarget.release(address);
      return { statusCode: 429, refusal: { code: 'trace-budget', params: { seconds: wait } }, retryAfterS: wait };
    }
    return undefined;
  }

  /** Start an admitted trace; the row is already in the store. */
  start(id: string, client: string, address: string, protocol: Protocol, count: number): void {
    const trace = new Trace(address, {
      engine: this.engine,
      protocol,
      cycles: count,
      interval: this.limits.interval,
      maxTtl: 30,
    });
    let stored: () => void = () => {};
    const entry: LiveTrace = {
      trace,
      progress: { round: 0, rounds: count, hops: [] },
      pending: undefined,
      lastSentAt: 0,
      listeners: new Set(),
      stopped: false,
      stored: new Promise((resolve) => {
        stored = resolve;
      }),
    };
    this.live.set(id, entry);
    const startedAt = Date.now();
    this.hooks.started?.();
    const watchdog = setTimeout(() => this.stop(entry), this.limits.maxDurationS * 1000);
    const publish = (): void => {
      entry.pending = undefined;
      entry.lastSentAt = Date.now();
      entry.progress = {
        round: entry.progress.round,
        rounds: count,
        hops: trace.snapshot().map((h) => this.liveHop(h)),
      };
      for (const l of entry.listeners) l({ type: 'progress', ...entry.progress });
    };
    const changed = (): void => {
      if (entry.pending) return;
      const wait = entry.lastSentAt + (this.options.progressEveryMs ?? PROGRESS_EVERY_MS) - Date.now();
      if (wait <= 0) publish();
      else entry.pending = setTimeout(publish, wait);
    };
    trace.on('hop', changed);
    trace.on('round', (round) => {
      entry.progress.round = round;
      changed();
    });
    const finish = (ended: 'done' | 'failed', result: unknown, error: string | null): void => {
      clearTimeout(watchdog);
      clearTimeout(entry.pending);
      // The last live view is the stored one, figure for figure (both are the trace's final snapshot).
      publish();
      const status: EndStatus = ended === 'done' && entry.stopped ? 'interrupted' : ended;
      this.store.finishTrace(id, status, result === undefined ? null : JSON.stringify(result), error);
      this.live.delete(id);
      this.byClient.release(client);
      this.byTarget.release(address);
      this.hooks.finished?.(status, (Date.now() - startedAt) / 1000);
      for (const l of entry.listeners)
        l({ type: 'end', status, ...(result !== undefined ? { result } : {}), ...(error ? { error } : {}) });
      entry.listeners.clear();
      stored();
    };
    trace.done.then(
      async (report) => {
        try {
          finish('done', await this.result(report), null);
        } catch (err) {
          finish('failed', undefined, err instanceof Error ? err.message : String(err));
        }
      },
      (err: Error) => finish('failed', undefined, err.message),
    );
    void trace.start();
  }

  /** The stored result: mtr's JSON for the report, plus the verdict on the path. */
  async result(report: TraceReport): Promise<Record<string, unknown>> {
    await this.dns?.settle();
    const classification = await classifyTrace(report, this.table, { kind: 'file', database: shippedAsnIndex() });
    const doc = jsonReport(report, { ...this.names(), tagOf: (a) => this.tag(a) });
    // The page speaks both languages; the report's own analysis is English.
    return {
      ...doc,
      verdict: classification.verdict,
      classification,
      names: bilingualNames(classification),
      analysisZh: analyzeReport(report, 'zh'),
      hops: report.hops.map((h) => this.liveHop(h)),
    };
  }

  /** Where a running trace stands, for a viewer joining it; undefined when it is not running. */
  current(id: string): LiveProgress | undefined {
    return this.live.get(id)?.progress;
  }

  subscribe(id: string, listener: (e: LiveEvent) => void): (() => void) | undefined {
    const e = this.live.get(id);
    if (!e) return undefined;
    e.listeners.add(listener);
    return () => e.listeners.delete(listener);
  }

  /**
   * Stop every running trace and wait (at most `waitMs`) until each is stored, as "interrupted" with
   * what it measured: the server shutting down still keeps its visitors' results.
   */
  async stopAll(waitMs = 5000): Promise<void> {
    const entries = [...this.live.values()];
    for (const e of entries) this.stop(e);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(entries.map((e) => e.stored)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private stop(entry: LiveTrace): void {
    entry.stopped = true;
    entry.trace.stop();
  }

  private names(): { nameOf?: (a: string) => string | null | undefined } {
    const dns = this.dns;
    return dns ? { nameOf: (a) => dns.nameOf(a) } : {};
  }

  private tag(address: string): string | undefined {
    const c = this.table.match(address);
    return c ? carrierTag(c.id) : undefined;
  }

  private liveHop(h: HopSnapshot): LiveHop {
    const name = h.address ? (this.dns?.nameOf(h.address) ?? null) : null;
    return {
      ttl: h.ttl,
      address: h.address,
      name,
      ...originOf(h.address, shippedAsnIndex()),
      carrier: h.address ? (this.tag(h.address) ?? null) : null,
      sent: h.sent,
      received: h.received,
      lossPercent: r3(h.lossPercent),
      last: r3(h.stats.last),
      avg: r3(h.stats.mean),
      best: r3(h.stats.best),
      worst: r3(h.stats.worst),
      stdev: r3(h.stats.stdev),
    };
  }
}
