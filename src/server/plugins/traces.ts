// Traces the server measures: start one (the visitor, or a target with a
// token), read it with who measured what and when, follow it live, and let
// its visitor hide their address on its links.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { addressFamily, canonicalAddress } from '../../packet/address.js';
import { refuse, storedObject, visitorAddress } from '../context.js';
import { refusalBody, refusalText } from '../refusals.js';
import type { LiveEvent } from '../runner.js';
import {
  IdParams,
  MaskAnswer,
  RefusalAnswer,
  TraceAccepted,
  TraceAnswer,
  TraceRequest,
  type TraceView,
} from '../schemas.js';
import { openEventStream } from '../sse.js';
import type { TraceRow } from '../store.js';
import { checkTarget, clientKey, networkKey, TargetError } from '../targets.js';
import { homeAddresses, maskedAddress, maskHops, maskText, type ViewHop } from '../views.js';
import { Concurrency } from '../limits.js';

export const newId = (): string => randomBytes(16).toString('base64url');
export const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether the requester is the visitor a trace or upload was made for (same /32 or /64). */
export const isYours = (requester: string, owner: string): boolean => clientKey(requester) === clientKey(owner);

/**
 * A stored trace as the API shows it: who measured what, when, how; and, when its visitor asked, with
 * their address and home hops hidden everywhere in it (the hop list, the mtr report, the findings).
 */
export function traceView(app: FastifyInstance, row: TraceRow, requester: string): TraceView {
  const head = {
    id: row.id,
    measuredBy: 'server' as const,
    status: row.status,
    target: row.target,
    protocol: row.protocol,
    count: row.count,
    createdAt: new Date(row.createdAt).toISOString(),
    finishedAt: row.finishedAt ? new Date(row.finishedAt).toISOString() : null,
    masked: row.masked === 1,
    yours: isYours(requester, row.client),
  };
  const body: Record<string, unknown> =
    row.status === 'running'
      ? { ...head, ...(app.runner.current(row.id) ?? { round: 0, rounds: row.count, hops: [] }) }
      : { ...head, ...(row.error ? { error: row.error } : {}), ...(row.result ? storedObject(row.result) : {}) };
  return (row.masked ? maskedTrace(body, row.target) : body) as TraceView;
}

/**
 * The other routers that answered at a hop: mtr's JSON lists every responder of a TTL (ECMP), the hop list
 * only the first. Each is judged home or not like a hop, by its own address.
 */
function otherResponders(body: Record<string, unknown>): Pick<ViewHop, 'address' | 'name'>[] {
  const report = body.report as { hubs?: unknown } | undefined;
  const hubs = Array.isArray(report?.hubs) ? (report.hubs as { vpsline?: { responders?: unknown } }[]) : [];
  return hubs.flatMap((hub) => {
    const responders = hub?.vpsline?.responders;
    if (!Array.isArray(responders)) return [];
    return (responders as { address?: unknown; name?: unknown }[])
      .filter((r) => typeof r?.address === 'string')
      .map((r) => ({
        address: r.address as string,
        name: typeof r.name === 'string' ? r.name : null,
      }));
  });
}

function maskedTrace(body: Record<string, unknown>, visitor: string): Record<string, unknown> {
  const hops = (Array.isArray(body.hops) ? body.hops : []) as ViewHop[];
  const every = [...hops, ...otherResponders(body)];
  const home = homeAddresses(visitor, every);
  const names = every.filter((h) => h.address && home.has(h.address) && h.name).map((h) => h.name as string);
  const shown = { ...body, hops: maskHops(hops, home) };
  const text = maskText(JSON.stringify(shown), [...home, ...names], '(hidden)');
  return { ...(JSON.parse(text) as Record<string, unknown>), target: maskedAddress(visitor) };
}

const traces: FastifyPluginAsyncTypebox = async (app) => {
  const { limits, policy, tokens, refusals } = app.lg;
  const streams = new Concurrency(limits.maxStreamsPerClient, limits.maxStreams);

  app.post(
    '/api/v1/traces',
    {
      bodyLimit: limits.bodyLimit,
      schema: {
        body: TraceRequest(limits.maxCount),
        response: { 202: TraceAccepted, '4xx': RefusalAnswer, '5xx': RefusalAnswer },
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
        else app.store.audit(entry);
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
      const refused = app.runner.admit(client, checked.address, networkKey(visitor));
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
      app.store.insertTrace({
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
      app.runner.start(id, client, checked.address, protocol, count);
      return reply.code(202).send({
        id,
        target: checked.address,
        protocol,
        count,
        links: { self: `/api/v1/traces/${id}`, events: `/api/v1/traces/${id}/events`, page: `/?trace=${id}` },
      });
    },
  );

  app.get(
    '/api/v1/traces/:id',
    { schema: { params: IdParams, response: { 200: TraceAnswer, '4xx': RefusalAnswer } } },
    async (req, reply) => {
      const row = app.store.getTrace(req.params.id);
      if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-trace' }));
      return traceView(app, row, visitorAddress(req));
    },
  );

  // The visitor hides their address and home hops from everyone who opens the trace's links (for good).
  app.post(
    '/api/v1/traces/:id/mask',
    { schema: { params: IdParams, response: { 200: MaskAnswer, '4xx': RefusalAnswer } } },
    async (req, reply) => {
      const row = app.store.getTrace(req.params.id);
      if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-trace' }));
      if (!isYours(visitorAddress(req), row.client)) return refuse(reply, 403, { code: 'not-yours' }, 'not-yours');
      app.store.maskTrace(row.id);
      return { masked: true };
    },
  );

  app.get('/api/v1/traces/:id/events', { schema: { params: IdParams } }, (req, reply) => {
    const row = app.store.getTrace(req.params.id);
    if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-trace' }));
    const key = clientKey(visitorAddress(req));
    const full = streams.acquire(key);
    if (full) return refuse(reply, 429, { code: full === 'total' ? 'streams-total' : 'streams-client' }, 'streams', 5);
    reply.hijack();
    const viewer = visitorAddress(req);
    let unsubscribe: (() => void) | undefined;
    app.metrics.streams.inc();
    const stream = openEventStream(reply.raw, () => {
      unsubscribe?.();
      streams.release(key);
      app.metrics.streams.dec();
    });
    // A masked trace is shown masked live too: each event goes through the same view as a stored read.
    const masked = (): boolean => app.store.getTrace(row.id)?.masked === 1;
    const ended = (): void => {
      const done = app.store.getTrace(row.id) ?? row;
      const view = traceView(app, done, viewer);
      stream.send('end', { status: done.status, ...(done.result ? { result: view } : {}), ...errorOf(done) });
      stream.end();
    };
    const onEvent = (e: LiveEvent): void => {
      if (e.type === 'progress') {
        const progress = { round: e.round, rounds: e.rounds, hops: e.hops };
        stream.send('progress', masked() ? maskedTrace(progress, row.target) : progress);
      } else ended();
    };
    if (row.status === 'running') {
      const now = app.runner.current(row.id);
      if (now) onEvent({ type: 'progress', ...now });
      unsubscribe = app.runner.subscribe(row.id, onEvent);
      if (unsubscribe) return;
    }
    // Finished (or finished between the read and now): the stored result, then the end.
    ended();
  });
};

function errorOf(row: TraceRow): { error?: string } {
  return row.error ? { error: row.error } : {};
}

export default traces;
