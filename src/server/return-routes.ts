// The looking glass's three-network return routes: a backtrace from this
// server to Chinese targets (电信/联通/移动 × city), for the page. Every run
// probes every target, so runs are rationed: at most one at a time, shared
// by every visitor asking meanwhile, and its result (a failure too) kept for
// the period, so that no request, however many, makes the server probe more.
import { shippedAsnIndex } from '../lookup/asn-data.js';
import type { CarrierTable } from '../lookup/carriers.js';
import { errorMessage } from '../lookup/narrow.js';
import type { ProbeEngine } from '../probe/engine.js';
import type { ProbeProtocol } from '../probe/reply.js';
import { backtrace, loadTargets, type BacktraceResult, type BacktraceTarget } from '../route/backtrace.js';
import type { Confidence, Verdict } from '../route/classify.js';
import { bilingualNames, carrierName, carrierTag } from '../route/lines.js';
import type { OriginAsSource } from '../route/origin-as.js';
import { DEFAULT_RETURN_ROUTES, type ReturnRoutesConfig } from './config.js';

export type ReturnRoutesProtocol = ProbeProtocol | 'auto';

/** Runs the traces; aborting `signal` must end the run soon (with what it measured). */
export type ReturnRoutesRun = (targets: BacktraceTarget[], signal: AbortSignal) => Promise<BacktraceResult[]>;

export interface ReturnRoutesOptions {
  engine: ProbeEngine;
  table: CarrierTable;
  targets: BacktraceTarget[];
  /** Shortest time between two runs, in ms (a result is served until it is this old). */
  periodMs: number;
  /** Rounds per target. */
  cycles: number;
  /** Seconds between rounds. */
  interval: number;
  /** Default 30. */
  maxTtl?: number;
  /** Default 'auto' (ICMP where the engine can, else UDP). */
  protocol?: ReturnRoutesProtocol;
  /** Constant-flow traces per target (default 1). More need sockets opened per flow before privileges go. */
  flows?: number;
  /** Origin AS for hops the table does not name; default the shipped offline index (no lookups on the wire). */
  originAs?: OriginAsSource;
  /** Epoch ms; injectable so tests can move time. */
  now?: () => number;
  /** The tracing itself; default `backtrace` with the options above. Injectable for tests. */
  run?: ReturnRoutesRun;
}

/** A hop as the page draws it. */
export interface ReturnRouteHop {
  ttl: number;
  address: string | null;
  /** Short carrier tag (CN2, 163, 9929 ...), null when the hop is no known carrier's. */
  carrier: string | null;
  asn: number | null;
  lossPercent: number;
  /** null: nothing answered at this TTL. */
  avgMs: number | null;
}

/** One target's line, JSON-friendly. */
export interface ReturnRouteRow {
  name: string;
  /** The target's carrier group: ct (电信), cu (联通), cm (移动), or what the target list says. */
  carrier: string;
  carrierName: { en: string; zh: string };
  city: string | null;
  address: string;
  verdict: Verdict;
  confidence: Confidence;
  /** The line, landing network and notes in English and Chinese. */
  names: ReturnType<typeof bilingualNames>;
  landing: string | null;
  destinationAnswered: boolean;
  rttMs: number | null;
  lossPercent: number | null;
  /** The probe protocol this target's trace used; null when it could not run. */
  protocol: ProbeProtocol | null;
  /** Hops listed (the destination's included when it answered). */
  hopCount: number;
  hops: ReturnRouteHop[];
  /** The trace could not run (no IPv6 here, no route ...). */
  error?: string;
}

export interface ReturnRoutesSnapshot {
  /** Epoch ms when the run started and ended; the period counts from the end. */
  startedAt: number;
  measuredAt: number;
  protocol: { requested: ReturnRoutesProtocol; used: ProbeProtocol[] };
  rows: ReturnRouteRow[];
  /** The run as a whole failed (rows is then empty); kept for the period like a result. */
  error?: string;
}

/**
 * What an HTTP handler can answer at once. "running" may come with the previous (stale) result, to show
 * meanwhile; "idle" only after close().
 */
export interface ReturnRoutesStatus {
  status: 'idle' | 'running' | 'ready';
  measuredAt?: number;
  /** When a new run may start (measuredAt + period). */
  nextAllowedAt?: number;
  protocol?: ReturnRoutesSnapshot['protocol'];
  rows?: ReturnRouteRow[];
  error?: string;
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

export class ReturnRoutes {
  private readonly now: () => number;
  private readonly run: ReturnRoutesRun;
  private readonly abort = new AbortController();
  private cached: ReturnRoutesSnapshot | undefined;
  private inFlight: Promise<ReturnRoutesSnapshot> | undefined;
  private closed = false;
  private started = 0;

  constructor(private readonly opts: ReturnRoutesOptions) {
    if (!(opts.periodMs > 0) || !Number.isFinite(opts.periodMs)) throw new RangeError('periodMs must be positive');
    if (!opts.targets.length) throw new RangeError('ReturnRoutes needs at least one target');
    this.now = opts.now ?? Date.now;
    this.run = opts.run ?? ((targets, signal) => this.backtrace(targets, signal));
  }

  /** Runs started so far (for tests and metrics). */
  get runs(): number {
    return this.started;
  }

  /** The result if younger than the period; otherwise the run under way, or a new one. Rejects after close(). */
  get(): Promise<ReturnRoutesSnapshot> {
    if (this.closed) return Promise.reject(new Error('the return routes are closed'));
    const fresh = this.fresh();
    if (fresh) return Promise.resolve(fresh);
    return this.inFlight ?? this.start();
  }

  /** Never waits: the state now, after starting a run if the result is missing or stale and none is running. */
  peek(): ReturnRoutesStatus {
    if (!this.closed && !this.inFlight && !this.fresh()) void this.start();
    const c = this.cached;
    const status = this.inFlight ? 'running' : c && !this.closed ? 'ready' : 'idle';
    if (!c || this.closed) return { status };
    return {
      status,
      measuredAt: c.measuredAt,
      nextAllowedAt: c.measuredAt + this.opts.periodMs,
      protocol: c.protocol,
      rows: c.rows,
      ...(c.error !== undefined ? { error: c.error } : {}),
    };
  }

  /**
   * Stop the run under way (its traces end after the probes already out) and wait for it, at most
   * `waitMs`; later calls to get() reject and peek() says idle.
   */
  async close(waitMs = 5000): Promise<void> {
    this.closed = true;
    this.abort.abort();
    const running = this.inFlight;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  private fresh(): ReturnRoutesSnapshot | undefined {
    const c = this.cached;
    return c && this.now() - c.measuredAt < this.opts.periodMs ? c : undefined;
  }

  private start(): Promise<ReturnRoutesSnapshot> {
    this.started++;
    const run = this.measure().then((snapshot) => {
      // A run cut short by close() is partial: not kept.
      if (!this.closed) this.cached = snapshot;
      this.inFlight = undefined;
      return snapshot;
    });
    this.inFlight = run;
    return run;
  }

  /** Never rejects: a failed run is a snapshot with its error, so that it is cached like any other. */
  private async measure(): Promise<ReturnRoutesSnapshot> {
    const startedAt = this.now();
    const requested = this.opts.protocol ?? 'auto';
    try {
      const rows = (await this.run(this.opts.targets, this.abort.signal)).map((r) => this.row(r));
      const used = [...new Set(rows.flatMap((r) => (r.protocol ? [r.protocol] : [])))].sort();
      return { startedAt, measuredAt: this.now(), protocol: { requested, used }, rows };
    } catch (err) {
      return {
        startedAt,
        measuredAt: this.now(),
        protocol: { requested, used: [] },
        rows: [],
        error: errorMessage(err),
      };
    }
  }

  private backtrace(targets: BacktraceTarget[], signal: AbortSignal): Promise<BacktraceResult[]> {
    const o = this.opts;
    return backtrace(targets, {
      engine: o.engine,
      table: o.table,
      originAs: this.originAs(),
      protocol: o.protocol ?? 'auto',
      cycles: o.cycles,
      interval: o.interval,
      maxTtl: o.maxTtl ?? 30,
      ...(o.flows !== undefined ? { flows: o.flows } : {}),
      signal,
    });
  }

  private originAs(): OriginAsSource {
    // Read on first use (about 50 ms), not when the server starts without ever showing the routes.
    return this.opts.originAs ?? { kind: 'file', database: shippedAsnIndex() };
  }

  private row(r: BacktraceResult): ReturnRouteRow {
    const t = r.target;
    const hops = (r.report?.hops ?? []).map((h): ReturnRouteHop => {
      const known = h.address ? this.opts.table.match(h.address) : undefined;
      const evidence = r.evidence.find((e) => e.ttl === h.ttl);
      const tag = known ? carrierTag(known.id) : evidence ? carrierTag(evidence.carrier) : null;
      return {
        ttl: h.ttl,
        address: h.address,
        carrier: tag,
        asn: evidence?.asn ?? known?.asn ?? this.asnOf(h.address),
        lossPercent: r3(h.lossPercent),
        avgMs: h.received > 0 ? r3(h.stats.mean) : null,
      };
    });
    return {
      name: t.name,
      carrier: t.carrier,
      carrierName: { en: carrierName(t.carrier, 'en'), zh: carrierName(t.carrier, 'zh') },
      city: t.city ?? null,
      address: t.address,
      verdict: r.verdict,
      confidence: r.confidence,
      names: bilingualNames(r),
      landing: r.landing,
      destinationAnswered: r.destinationAnswered,
      rttMs: r.rttMs === null ? null : r3(r.rttMs),
      lossPercent: r.lossPercent === null ? null : r3(r.lossPercent),
      protocol: r.report?.mode.protocol ?? null,
      hopCount: hops.length,
      hops,
      ...(r.error !== undefined ? { error: r.error } : {}),
    };
  }

  /** A hop's origin AS from an offline source only: building the rows must not send lookups. */
  private asnOf(address: string | null): number | null {
    if (!address) return null;
    const source = this.originAs();
    return source.kind === 'file' ? source.database.lookup(address) : null;
  }
}

/** Rounds and pacing of the server's runs: the CLI's defaults (5 rounds, 0.5 s), one ICMP (or UDP) trace each. */
export const RETURN_ROUTES_CYCLES = 5;
export const RETURN_ROUTES_INTERVAL_S = 0.5;

/**
 * The server's return routes from its settings; undefined when they are turned off. Without a targets file
 * this is the built-in list of real carrier addresses: for a real server only.
 */
export function returnRoutesFromConfig(
  config: ReturnRoutesConfig | undefined,
  deps: Pick<ReturnRoutesOptions, 'engine' | 'table' | 'now' | 'run'>,
): ReturnRoutes | undefined {
  const c = config ?? DEFAULT_RETURN_ROUTES;
  if (!c.enabled) return undefined;
  return new ReturnRoutes({
    engine: deps.engine,
    table: deps.table,
    targets: loadTargets(c.targets),
    periodMs: c.periodMinutes * 60_000,
    cycles: RETURN_ROUTES_CYCLES,
    interval: RETURN_ROUTES_INTERVAL_S,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.run ? { run: deps.run } : {}),
  });
}

/** Seconds the page waits before asking again while a run is under way. */
export const RETURN_ROUTES_POLL_S = 3;
