// What the looking glass's plugins share, as Fastify decorators: the store,
// the trace runner and the metrics by name, and the rest (settings, lookups,
// budgets) as `lg`. One refusal helper, so every 4xx has the same shape and
// is counted by reason.
import type { FastifyReply, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import type { AsnIndex } from '../lookup/asn-index.js';
import type { CarrierTable } from '../lookup/carriers.js';
import type { ServeOptions } from './app.js';
import type { RefusalAudit } from './audit.js';
import type { Limits, RateWindow } from './limits.js';
import type { Metrics } from './metrics.js';
import type { ParsePool } from './parse-pool.js';
import { type Refusal, refusalBody } from './refusals.js';
import type { TraceRunner } from './runner.js';
import type { Store } from './store.js';
import type { TargetPolicy } from './targets.js';

/** The three-network return routes as the page polls them: never waits for a run. */
export interface ReturnRoutesView {
  /** Where the cached run stands (starts one when none is cached and the period allows). */
  peek(): { status: string };
  close(): void | Promise<void>;
}

export interface ServerContext {
  opts: ServeOptions;
  limits: Limits;
  table: CarrierTable;
  asnIndex: AsnIndex;
  parser: ParsePool;
  refusals: RefusalAudit;
  policy: TargetPolicy;
  /** SHA-256 of each bearer token. */
  tokens: Buffer[];
  uploads: RateWindow;
  uploadsByNetwork: RateWindow;
  /** The three-network return routes, when the operator has them on. */
  returnRoutes: ReturnRoutesView | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    runner: TraceRunner;
    metrics: Metrics;
    lg: ServerContext;
  }
}

/** The visitor as the server sees it: IPv4-mapped addresses read as IPv4. */
export function visitorAddress(req: FastifyRequest): string {
  return ipaddr.process(req.ip).toString();
}

/** A 4xx/5xx answer: its code and one line in English and Chinese (refusals.ts), counted by reason. */
export function refuse(
  reply: FastifyReply,
  statusCode: number,
  refusal: Refusal,
  reason: string,
  retryAfterS?: number,
): FastifyReply {
  reply.server.metrics.refused.inc({ reason });
  if (retryAfterS) reply.header('retry-after', String(retryAfterS));
  return reply.code(statusCode).send(refusalBody(refusal));
}

/** A result the server stored (always written from an object), read back. */
export function storedObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('a stored result is not a JSON object');
  return value as Record<string, unknown>;
}
