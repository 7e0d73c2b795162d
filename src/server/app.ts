// The looking glass over HTTP: the page, the JSON API it uses, live updates
// as server-sent events, /healthz and /metrics. Safe by default: visitors
// trace only themselves, other targets need a token, special address space
// is refused, everything is bounded, and every decision is audited.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchemaValidationError,
} from 'fastify';
import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import helmet, { type HelmetOptions } from 'helmet';
import ipaddr from 'ipaddr.js';
import { CarrierTable } from '../lookup/carriers.js';
import { ReverseDns } from '../lookup/reverse-dns.js';
import { addressFamily, canonicalAddress } from '../packet/address.js';
import type { ProbeEngine } from '../probe/engine.js';
import { classify } from '../route/classify.js';
import { addImportNotes } from '../route/import.js';
import { RefusalAudit } from './audit.js';
import { ParsePool } from './parse-pool.js';
import { addOriginAs } from '../route/origin-as.js';
import { shippedAsnIndex } from '../lookup/asn-data.js';
import { bilingualNames } from '../route/lines.js';
import { defaultEngine } from '../probe/process-engine.js';
import { DEFAULT_LIMITS, RateWindow, Concurrency, type Limits } from './limits.js';
import { Metrics } from './metrics.js';
import { type Refusal, refusalBody, refusalText } from './refusals.js';
import { TraceRunner, type LiveEvent, type Protocol } from './runner.js';
import { Store } from './store.js';
import { hostName, requestedHost } from './forwarded.js';
import { addressInCidrs, checkTarget, clientKey, networkKey, TargetError, type TargetPolicy } from './targets.js';

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
  /** How the forward-direction commands name this server (default: the address the visitor connected to). */
  publicHost?: string;
  engine?: ProbeEngine;
  /** Fastify's request log (default off). */
  log?: boolean;
  /** Who may read /metrics (CIDRs, by the connection's address); default: loopback only. */
  metricsAllow?: string[];
}

const ID = '^[A-Za-z0-9_-]{22}$';
const newId = (): string => randomBytes(16).toString('base64url');
const idParams = { params: { type: 'object', properties: { id: { type: 'string', pattern: ID } } } };

const WEB = new URL('../../web/', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const UPLOT = dirname(require.resolve('uplot/package.json'));

/** Files the page needs, read once: path -> [content type, body]. */
function assets(): Map<string, [string, Buffer]> {
  const files: [string, string, string][] = [
    ['/', join(WEB, 'index.html'), 'text/html; charset=utf-8'],
    ['/app.js', join(WEB, 'app.js'), 'text/javascript; charset=utf-8'],
    ['/style.css', join(WEB, 'style.css'), 'text/css; charset=utf-8'],
    ['/vendor/uPlot.iife.min.js', join(UPLOT, 'dist', 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.min.css', join(UPLOT, 'dist', 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  return new Map(files.map(([route, file, type]) => [route, [type, readFileSync(file)]]));
}

/** The visitor as the server sees it: IPv4-mapped addresses read as IPv4. */
function visitorAddress(req: FastifyRequest): string {
  return ipaddr.process(req.ip).toString();
}

/** A result the server stored (always written from an object), read back. */
function storedObject(text: string): object {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) throw new Error('a stored result is not a JSON object');
  return value;
}

/**
 * Security headers, by helmet: a strict Content-Security-Policy (the page loads only its own
 * files), no framing, no referrer. No HSTS: the server speaks plain HTTP; a TLS proxy in
 * front sets it.
 */
const HELMET: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: false,
};
/**
 * The same headers where Fastify's hooks do not run (the router's own refusals).
 * The cast: the plugin's types come from helmet's CommonJS declarations, these from its ESM ones (the same shape).
 */
const securityHeaders = helmet(HELMET as HelmetOptions);

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

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
  const policy: TargetPolicy = { allow: opts.allow ?? [], refuseOwnAddresses: !opts.allowSelf };
  const tokens = (opts.tokens ?? []).filter(Boolean).map(digest);
  const refusals = new RefusalAudit(store);
  const uploads = new RateWindow(limits.uploadsPerClientPerHour, 3_600_000);
  const uploadsByNetwork = new RateWindow(limits.uploadsPerNetworkPerHour, 3_600_000);
  const streams = new Concurrency(limits.maxStreamsPerClient, limits.maxStreams);
  const files = assets();
  const parser = new ParsePool({
    workers: limits.parseWorkers,
    deadlineMs: limits.parseDeadlineMs,
    memoryMb: limits.parseMemoryMb,
    queue: limits.parseQueue,
  });

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
  });
  await app.register(fastifyHelmet, HELMET);
  // Requests per client (/32, or /64 for IPv6) and minute, refused ones included: a flood is cut off
  // before it reaches a handler. The hourly trace and upload budgets below are checked after a request
  // is validated (a refused target costs nothing) and for a /64 and its /48 at once, which one key per
  // route of this plugin does not do.
  await app.register(fastifyRateLimit, {
    max: limits.requestsPerClientPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => clientKey(visitorAddress(req)),
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error('request rate'), {
        statusCode: 429,
        refusal: { code: 'request-rate', params: { seconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) } },
      }),
  });
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  limitConnectionsPerAddress(app.server, limits.maxConnectionsPerClient, opts.trustProxy ?? []);
  const metricsAllow = opts.metricsAllow ?? ['127.0.0.0/8', '::1/128'];

  /** A 4xx/5xx answer: its code and one line in English and Chinese (refusals.ts), counted by reason. */
  const refuse = (
    reply: FastifyReply,
    statusCode: number,
    refusal: Refusal,
    reason: string,
    retryAfterS?: number,
  ): FastifyReply => {
    metrics.refused.inc({ reason });
    if (retryAfterS) reply.header('retry-after', String(retryAfterS));
    return reply.code(statusCode).send(refusalBody(refusal));
  };

  app.addHook('onRequest', async (req, reply) => {
    // A page on another site must not make a visitor's browser start traces (the visitor's address is the target).
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const origin = req.headers.origin;
      if (origin !== undefined) {
        let host: string | undefined;
        try {
          host = new URL(origin).host;
        } catch {
          host = undefined;
        }
        // Behind a trusted proxy, the host the browser asked for is in X-Forwarded-Host (forwarded.ts).
        const expected = requestedHost(req.headers, req.socket.remoteAddress, opts.trustProxy ?? []);
        if (host === undefined || host !== expected?.toLowerCase())
          return refuse(reply, 403, { code: 'cross-site' }, 'origin');
      }
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({
      method: req.method,
      route: req.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
  });
  type HandledError = Error & {
    statusCode?: number;
    validation?: FastifySchemaValidationError[];
    code?: string;
    /** Set by the request-rate limit's errorResponseBuilder. */
    refusal?: Refusal;
  };
  app.setErrorHandler((err: HandledError, req, reply) => {
    if (err.refusal && err.statusCode) {
      // Counted in the audit log like any refusal: a flood shows there as one row a minute.
      const visitor = visitorAddress(req);
      refusals.refused(clientKey(visitor), {
        at: Date.now(),
        client: visitor,
        // One action for every route, so a flood is one row per client a minute, whatever it asks for.
        action: 'request',
        target: null,
        resolved: null,
        decision: 'refused: request rate',
        detail: null,
      });
      return refuse(reply, err.statusCode, err.refusal, 'request-rate');
    }
    if (err.validation) {
      const first = err.validation[0];
      const refusal: Refusal =
        first?.keyword === 'additionalProperties'
          ? { code: 'unknown-field', params: { field: String(first.params?.additionalProperty).slice(0, 40) } }
          : { code: 'bad-request', params: { detail: err.message } };
      return refuse(reply, 400, refusal, 'invalid');
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? refuse(reply, err.statusCode, { code: 'too-large', params: { detail: err.message } }, 'too-large')
        : refuse(reply, err.statusCode, { code: 'bad-request', params: { detail: err.message } }, 'invalid');
    req.log.error(err);
    return reply.code(500).send(refusalBody({ code: 'internal' }));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send(refusalBody({ code: 'not-found', params: { method: req.method, url: req.url.slice(0, 100) } })),
  );

  for (const [route, [type, body]] of files)
    app.get(route, (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));

  // Health checks (a load balancer polls from one address) are not counted against the request rate.
  app.get('/healthz', { config: { rateLimit: false } }, async (_req, reply) => {
    const ok = store.ping();
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ok' : 'database unavailable', tracesRunning: runner.running });
  });
  app.get('/metrics', async (req, reply) => {
    // By the connection's own address: X-Forwarded-For cannot open it.
    if (!addressInCidrs(req.socket.remoteAddress ?? '', metricsAllow))
      return refuse(reply, 403, { code: 'metrics-forbidden' }, 'metrics');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/v1/whoami', async (req) => {
    const address = visitorAddress(req);
    // The name the visitor used (through a trusted proxy too), not a private address behind NAT or a proxy.
    const asked = requestedHost(req.headers, req.socket.remoteAddress, opts.trustProxy ?? []);
    const host =
      opts.publicHost ?? (asked && hostName(asked)) ?? req.socket.localAddress?.replace(/^::ffff:/, '') ?? '';
    return { address, family: address.includes(':') ? 6 : 4, server: host, uploadLimit: limits.uploadLimit };
  });

  app.post<{ Body: { target?: string; protocol?: Protocol; count?: number } | undefined }>(
    '/api/v1/traces',
    {
      bodyLimit: limits.bodyLimit,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            target: { type: 'string', minLength: 1, maxLength: 253 },
            protocol: { type: 'string', enum: ['icmp', 'udp', 'tcp', 'auto'] },
            count: { type: 'integer', minimum: 1, maximum: limits.maxCount },
          },
        },
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const visitor = visitorAddress(req);
      const client = clientKey(visitor);
      const wanted = body.target ?? visitor;
      const audit = (decision: string, resolved: string | null = null, detail: string | null = null): void => {
        const entry = { at: Date.now(), client: visitor, action: 'trace', target: wanted, resolved, decision, detail };
        // Refusals are counted per client and minute; an accepted trace is a row of its own.
        if (decision.startsWith('refused')) refusals.refused(client, entry);
        else store.audit(entry);
      };
      // The visitor's own address, however it is written, needs no token.
      const isSelf =
        body.target === undefined || (addressFamily(body.target) !== null && canonicalAddress(body.target) === visitor);
      if (!isSelf) {
        const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const given = auth ? digest(auth) : undefined;
        if (!given || !tokens.some((t) => timingSafeEqual(t, given))) {
          audit('refused: no token');
          return refuse(reply, 401, { code: tokens.length ? 'token-required' : 'self-only' }, 'token');
        }
      }
      let checked: Awaited<ReturnType<typeof checkTarget>>;
      try {
        checked = await checkTarget(wanted, policy);
      } catch (err) {
        if (!(err instanceof TargetError)) throw err;
        audit(`refused: ${err.message}`);
        return refuse(reply, err.statusCode, err.refusal, 'target');
      }
      const refused = runner.admit(client, checked.address, networkKey(visitor));
      if (refused) {
        audit(`refused: ${refusalText(refused.refusal, 'en')}`, checked.address);
        return refuse(
          reply,
          refused.statusCode,
          refused.refusal,
          refused.statusCode === 503 ? 'busy' : 'rate',
          refused.retryAfterS,
        );
      }
      const id = newId();
      const protocol = body.protocol ?? 'auto';
      const count = body.count ?? limits.defaultCount;
      store.insertTrace({
        id,
        createdAt: Date.now(),
        client: visitor,
        targetInput: wanted,
        target: checked.address,
        protocol,
        count,
        status: 'running',
      });
      audit('accepted', checked.address, JSON.stringify({ id, protocol, count }));
      runner.start(id, client, checked.address, protocol, count);
      return reply.code(202).send({
        id,
        target: checked.address,
        protocol,
        count,
        links: { self: `/api/v1/traces/${id}`, events: `/api/v1/traces/${id}/events`, page: `/?trace=${id}` },
      });
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/traces/:id', { schema: idParams }, async (req, reply) => {
    const row = store.getTrace(req.params.id);
    if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-trace' }));
    const head = {
      id: row.id,
      status: row.status,
      target: row.target,
      protocol: row.protocol,
      count: row.count,
      createdAt: new Date(row.createdAt).toISOString(),
      finishedAt: row.finishedAt ? new Date(row.finishedAt).toISOString() : null,
    };
    if (row.status === 'running') return { ...head, hops: runner.current(row.id) ?? [] };
    return {
      ...head,
      ...(row.error ? { error: row.error } : {}),
      ...(row.result ? storedObject(row.result) : {}),
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/traces/:id/events', { schema: idParams }, (req, reply) => {
    const row = store.getTrace(req.params.id);
    if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-trace' }));
    const key = clientKey(visitorAddress(req));
    const full = streams.acquire(key);
    if (full) return refuse(reply, 429, { code: full === 'total' ? 'streams-total' : 'streams-client' }, 'streams', 5);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    metrics.streams.inc();
    const send = (event: string, data: unknown): void =>
      void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let unsubscribe: (() => void) | undefined;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe?.();
      streams.release(key);
      metrics.streams.dec();
      res.end();
    };
    res.on('close', close);
    const onEvent = (e: LiveEvent): void => {
      if (e.type === 'hop') send('hop', e.hop);
      else {
        send('end', {
          status: e.status,
          ...(e.result ? { result: e.result } : {}),
          ...(e.error ? { error: e.error } : {}),
        });
        close();
      }
    };
    if (row.status === 'running') {
      for (const hop of runner.current(row.id) ?? []) send('hop', hop);
      unsubscribe = runner.subscribe(row.id, onEvent);
      if (unsubscribe) return;
    }
    // Finished (or finished between the read and now): the stored result, then the end.
    // (Pruning skips running traces and is by age, so the row is still there; if
    // not, the row read above is the last word.)
    const done = store.getTrace(row.id) ?? row;
    const result: unknown = done.result ? JSON.parse(done.result) : undefined;
    send('end', {
      status: done.status,
      ...(done.result ? { result } : {}),
      ...(done.error ? { error: done.error } : {}),
    });
    close();
  });

  app.post<{ Body: { text: string; traceId?: string } }>(
    '/api/v1/reports',
    {
      bodyLimit: limits.uploadLimit + 1024,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['text'],
          properties: {
            text: { type: 'string', minLength: 1, maxLength: limits.uploadLimit },
            traceId: { type: 'string', pattern: ID },
          },
        },
      },
    },
    async (req, reply) => {
      const visitor = visitorAddress(req);
      const wait = uploads.take(clientKey(visitor)) || uploadsByNetwork.take(networkKey(visitor));
      if (wait) return refuse(reply, 429, { code: 'upload-budget', params: { seconds: wait } }, 'rate', wait);
      if (req.body.traceId && !store.getTrace(req.body.traceId))
        return refuse(reply, 404, { code: 'trace-id-unknown' }, 'invalid');
      // Off the main thread, with a deadline and a heap limit: no upload stalls the server.
      const parsed = await parser.parse(req.body.text);
      if (!parsed.ok) return refuse(reply, parsed.status, parsed.refusal, parsed.reason);
      const imported = parsed.trace;
      await addOriginAs(imported.hops, table, { kind: 'file', database: asnIndex });
      const classification = classify(imported.hops, table, { namesOnly: imported.namesOnly });
      addImportNotes(classification, imported);
      const hops = imported.hops.map((h) => ({
        ttl: h.ttl,
        address: h.address,
        asn: h.asn ?? null,
        carrier: h.address ? (table.match(h.address)?.id ?? null) : null,
      }));
      const id = newId();
      const result = {
        format: imported.format,
        target: imported.target ?? null,
        hops,
        verdict: classification.verdict,
        classification,
        names: bilingualNames(classification),
      };
      store.insertReport({
        id,
        createdAt: Date.now(),
        client: visitor,
        traceId: req.body.traceId ?? null,
        format: imported.format,
        body: req.body.text,
        result: JSON.stringify(result),
      });
      store.audit({
        at: Date.now(),
        client: visitor,
        action: 'upload',
        target: imported.target ?? null,
        decision: 'stored',
        detail: JSON.stringify({ id, format: imported.format }),
      });
      metrics.reports.inc();
      return reply.code(201).send({
        id,
        ...result,
        links: {
          self: `/api/v1/reports/${id}`,
          page: `/?${req.body.traceId ? `trace=${req.body.traceId}&` : ''}report=${id}`,
        },
      });
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/reports/:id', { schema: idParams }, async (req, reply) => {
    const row = store.getReport(req.params.id);
    if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-report' }));
    return {
      id: row.id,
      createdAt: new Date(row.createdAt).toISOString(),
      traceId: row.traceId,
      body: row.body,
      ...storedObject(row.result),
    };
  });

  return {
    app,
    store,
    runner,
    metrics,
    close: async () => {
      clearInterval(pruner);
      await runner.stopAll();
      await parser.close();
      await app.close();
      refusals.close();
      store.close();
    },
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
