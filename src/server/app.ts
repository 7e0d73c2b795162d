// The looking glass over HTTP: the page, the JSON API it uses, live updates
// as server-sent events, /healthz and /metrics. Safe by default: visitors
// trace only themselves, other targets need a token, special address space
// is refused, everything is bounded, and every decision is audited.
//
// This file builds what the routes share and registers them as Fastify
// plugins (plugins/): security (headers, rates, cross-site check, errors),
// static (the page), site (whoami, return routes), traces, reports, ops.
import type { WatchStore } from '../watch/store.js';
import type { Watcher } from '../watch/watcher.js';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import fastifyCompress from '@fastify/compress';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { shippedAsnIndex } from '../lookup/asn-data.js';
import { CarrierTable } from '../lookup/carriers.js';
import { ReverseDns } from '../lookup/reverse-dns.js';
import type { ProbeEngine } from '../probe/engine.js';
import { defaultEngine } from '../probe/process-engine.js';
import { RefusalAudit } from './audit.js';
import type { ReturnRoutesView, ServerContext } from './context.js';
import { DEFAULT_LIMITS, type Limits, RateWindow } from './limits.js';
import { Metrics } from './metrics.js';
import { ParsePool } from './parse-pool.js';
import ops from './plugins/ops.js';
import reports from './plugins/reports.js';
import security, { HELMET } from './plugins/security.js';
import site from './plugins/site.js';
import staticFiles from './plugins/static.js';
import traces, { digest } from './plugins/traces.js';
import watchPictures from './plugins/watch.js';
import { refusalBody } from './refusals.js';
import { TraceRunner } from './runner.js';
import { Store } from './store.js';
import { addressInCidrs } from './targets.js';

export interface ServeOptions {
  /** SQLite file (created when missing). */
  db: string;
  /** Bearer tokens that may trace targets other than the visitor. None: only visitors themselves. */
  tokens?: string[];
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For is believed. */
  trustProxy?: string[];
  /** Special address space the operator allows anyway (CIDRs); never this server's own addresses. */
  allow?: string[];
  /** Trace this server's own addresses too (a lab or a test; --allow-self). */
  allowSelf?: boolean;
  limits?: Partial<Limits>;
  /** Reverse DNS for hop names (default true). */
  dns?: boolean;
  /** Extra or replacement carrier prefixes. */
  carriers?: string;
  /** How the forward-direction commands name this server (default: the host the browser asked for). */
  publicHost?: string;
  engine?: ProbeEngine;
  /** Fastify's request log (default off). */
  log?: boolean;
  /** Who may read /metrics (CIDRs, by the connection's address); default: loopback only. */
  metricsAllow?: string[];
  /** What the page says about this server (the operator's words). */
  site?: SiteFacts;
  /** The three-network return routes (made from the settings by the caller); none: the page has no such table. */
  returnRoutes?: ReturnRoutesView;
  /**
   * A line watch's history (and the watch itself when it runs in this process): the page's pictures at
   * /watch. The caller owns both: it stops the watcher and closes the store after close().
   */
  watch?: { store: WatchStore; watcher?: Watcher };
}

export interface SiteFacts {
  name?: string;
  location?: string;
  description?: string;
  /** The server's public addresses (default: this machine's global unicast ones; behind NAT, list them). */
  addresses?: string[];
  /** Names that reach this server over one family only, for a visitor who wants the other one. */
  hosts?: { v4?: string; v6?: string };
}

/**
 * The security headers where Fastify's hooks do not run (the router's own refusals).
 * The cast: the plugin's types come from helmet's CommonJS declarations, these from its ESM ones (the same shape).
 */
const securityHeaders = helmet(HELMET as HelmetOptions);

export interface LookingGlass {
  app: FastifyInstance;
  store: Store;
  runner: TraceRunner;
  metrics: Metrics;
  close(): Promise<void>;
}

export async function createLookingGlass(opts: ServeOptions): Promise<LookingGlass> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const store = new Store(opts.db);
  store.markInterrupted();
  // The database stays bounded: old traces, uploads and audit entries go, and the oldest rows go
  // whenever the data outgrows maxDbMb; checked at start and every minute.
  let lastAgePrune = 0;
  const prune = (): number => {
    let n = 0;
    if (Date.now() - lastAgePrune >= 3_600_000) {
      n += store.prune(Date.now() - limits.keepDays * 86_400_000);
      lastAgePrune = Date.now();
    }
    return n + store.pruneToSize(limits.maxDbMb * 1024 * 1024);
  };
  prune();
  const pruner = setInterval(prune, 60_000);
  pruner.unref();
  // The gauges read the runner and the store when scraped, after both exist.
  const metrics = new Metrics(
    () => runner.running,
    () => store.usedBytes(),
  );
  const engine = opts.engine ?? defaultEngine();
  const table = CarrierTable.load(opts.carriers);
  // Read at start (about 50 ms), not on the first upload: a request must never wait for it.
  const asnIndex = shippedAsnIndex();
  const dns = opts.dns === false ? undefined : new ReverseDns();
  const runner = new TraceRunner(store, engine, table, limits, dns, {
    started: () => metrics.tracesStarted.inc(),
    finished: (status, seconds) => {
      metrics.tracesFinished.inc({ status });
      metrics.traceSeconds.observe(seconds);
    },
  });
  const parser = new ParsePool({
    workers: limits.parseWorkers,
    deadlineMs: limits.parseDeadlineMs,
    memoryMb: limits.parseMemoryMb,
    queue: limits.parseQueue,
  });
  const context: ServerContext = {
    opts,
    limits,
    table,
    asnIndex,
    parser,
    refusals: new RefusalAudit(store),
    policy: { allow: opts.allow ?? [], refuseOwnAddresses: !opts.allowSelf },
    tokens: (opts.tokens ?? []).filter(Boolean).map(digest),
    uploads: new RateWindow(limits.uploadsPerClientPerHour, 3_600_000),
    uploadsByNetwork: new RateWindow(limits.uploadsPerNetworkPerHour, 3_600_000),
    returnRoutes: opts.returnRoutes,
  };

  const app = Fastify({
    logger: opts.log ?? false,
    trustProxy: opts.trustProxy?.length ? opts.trustProxy : false,
    bodyLimit: limits.uploadLimit + 1024,
    // Unknown fields are an error, not silently dropped; types are not coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // Slow senders are cut off: the whole request within requestTimeout (response streams are not limited).
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): once a second here.
    requestTimeout: limits.requestTimeoutMs,
    http: { connectionsCheckingInterval: 1000 },
    // The router's own refusals (a bad URL, a path parameter over 100 characters) in the one error shape,
    // with the same headers as every other answer.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      securityHeaders(req.raw, reply.raw, () => {});
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      metrics.refused.inc({ reason: tooLong ? 'uri-too-long' : 'invalid' });
      void reply.code(tooLong ? 414 : 400).send(refusalBody({ code: tooLong ? 'uri-too-long' : 'bad-url' }));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('store', store);
  app.decorate('runner', runner);
  app.decorate('metrics', metrics);
  app.decorate('lg', context);
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  limitConnectionsPerAddress(app.server, limits.maxConnectionsPerClient, opts.trustProxy ?? []);

  await app.register(security);
  // gzip or brotli for the page and the JSON (not the event streams, which are written raw).
  await app.register(fastifyCompress, { global: true, threshold: 1024 });
  await app.register(staticFiles);
  await app.register(site);
  await app.register(traces);
  await app.register(reports);
  await app.register(ops);
  // The watch's history for /watch: only when the operator gave one (otherwise those routes are 404s).
  if (opts.watch) await app.register(watchPictures);
  // Shut down in order: no new requests, running traces stored as interrupted, then the store.
  app.addHook('onClose', async () => {
    clearInterval(pruner);
    await runner.stopAll();
    await parser.close();
    await context.returnRoutes?.close();
    context.refusals.close();
    store.close();
  });

  return {
    app,
    store,
    runner,
    metrics,
    close: () => app.close(),
  };
}

/**
 * At most `max` open connections per address: more are closed at once. A trusted proxy carries many
 * visitors on its connections, so its addresses are not counted.
 */
function limitConnectionsPerAddress(server: Server, max: number, trusted: string[]): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (addressInCidrs(address, trusted)) return;
    const n = (open.get(address) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/** The headers every answer carries, the router's own refusals included. */
