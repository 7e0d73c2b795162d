// Security for every route: helmet's headers (a strict Content-Security-Policy),
// a request rate per client, the cross-site check on writes, and one shape for
// every error. Registered with fastify-plugin so its hooks cover the whole app.
import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import fp from 'fastify-plugin';
import { refuse, visitorAddress } from '../context.js';
import { type Refusal, refusalBody } from '../refusals.js';
import { requestedHost } from '../forwarded.js';
import { clientKey } from '../targets.js';

/**
 * Security headers, by helmet: a strict Content-Security-Policy (the page loads only its own
 * files), no framing, no referrer. No HSTS: the server speaks plain HTTP; a TLS proxy in
 * front sets it.
 */
export const HELMET: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
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

type HandledError = Error & {
  statusCode?: number;
  validation?: FastifySchemaValidationError[];
  code?: string;
  /** Set by the request-rate limit's errorResponseBuilder. */
  refusal?: Refusal;
};

async function security(app: FastifyInstance): Promise<void> {
  const { limits, opts, refusals } = app.lg;
  const trusted = opts.trustProxy ?? [];
  await app.register(fastifyHelmet, HELMET);
  // Requests per client (/32, or /64 for IPv6) and minute, refused ones included: a flood is cut off
  // before it reaches a handler. The hourly trace and upload budgets are checked after a request is
  // validated (a refused target costs nothing) and for a /64 and its /48 at once, which one key per
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

  app.addHook('onRequest', async (req, reply) => {
    // A page on another site must not make a visitor's browser start traces (the visitor's address is the target).
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let from: string | undefined;
    try {
      from = new URL(origin).host.toLowerCase();
    } catch {
      from = undefined;
    }
    // Behind a proxy the page's origin is the proxy's public name, which the proxy passes on in
    // X-Forwarded-Host; believed from the proxies in --trust-proxy only (forwarded.ts).
    const ours = requestedHost(req.headers, req.socket.remoteAddress, trusted)?.toLowerCase();
    if (!from || from !== ours) return refuse(reply, 403, { code: 'cross-site' }, 'origin');
  });
  app.addHook('onResponse', async (req, reply) => {
    app.metrics.requests.inc({
      method: req.method,
      route: req.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
  });
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
}

export default fp(security, { name: 'vpsline-security' });
