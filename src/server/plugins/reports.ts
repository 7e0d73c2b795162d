// Traces visitors upload (their own mtr or traceroute towards this server):
// read off the main thread, kept with every figure they had, shown marked as
// uploaded, and tied to the one trace they were uploaded for. A link naming
// an upload with another trace is refused.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { classify } from '../../route/classify.js';
import { compareDirections, type DirectionHop } from '../../route/directions.js';
import { addImportNotes } from '../../route/import.js';
import { bilingualNames } from '../../route/lines.js';
import { addOriginAs } from '../../route/origin-as.js';
import { refuse, storedObject, visitorAddress } from '../context.js';
import { refusalBody } from '../refusals.js';
import {
  IdParams,
  MaskAnswer,
  RefusalAnswer,
  ReportAnswer,
  ReportQuery,
  ReportRequest,
  type ReportView,
} from '../schemas.js';
import type { ReportRow } from '../store.js';
import { clientKey, networkKey } from '../targets.js';
import { homeAddresses, maskHops, maskText, uploadedHops, type ViewHop } from '../views.js';
import { isYours, newId } from './traces.js';

/** The two directions compared, once the trace an upload belongs to has finished. */
function comparison(app: FastifyInstance, traceId: string | null, forward: { hops: ViewHop[]; verdict: string }) {
  const trace = traceId ? app.store.getTrace(traceId) : undefined;
  if (!trace?.result) return undefined;
  const stored = storedObject(trace.result);
  const reverseHops = (Array.isArray(stored.hops) ? stored.hops : []) as DirectionHop[];
  return compareDirections(forward, { hops: reverseHops, verdict: String(stored.verdict) });
}

/** An upload as the API shows it: marked as the visitor's, with the trace it belongs to. */
export function reportView(app: FastifyInstance, row: ReportRow, requester: string): ReportView {
  const result = storedObject(row.result);
  const hops = (Array.isArray(result.hops) ? result.hops : []) as ViewHop[];
  const view: Record<string, unknown> = {
    id: row.id,
    measuredBy: 'visitor',
    createdAt: new Date(row.createdAt).toISOString(),
    traceId: row.traceId,
    masked: row.masked === 1,
    yours: isYours(requester, row.client),
    ...result,
    body: row.body,
  };
  const compared = comparison(app, row.traceId, { hops, verdict: String(result.verdict) });
  if (compared) view.comparison = compared;
  if (!row.masked) return view as ReportView;
  // Hidden: the uploader's address and home hops, wherever they stand, and the text they pasted.
  const home = homeAddresses(row.client, hops);
  const names = hops.filter((h) => h.address && home.has(h.address) && h.name).map((h) => h.name as string);
  const { body: _text, ...rest } = { ...view, hops: maskHops(hops, home) } as Record<string, unknown>;
  return JSON.parse(maskText(JSON.stringify(rest), [...home, ...names], '(hidden)')) as ReportView;
}

const reports: FastifyPluginAsyncTypebox = async (app) => {
  const { limits, uploads, uploadsByNetwork, parser, table, asnIndex } = app.lg;

  app.post(
    '/api/v1/reports',
    {
      bodyLimit: limits.uploadLimit + 1024,
      schema: {
        body: ReportRequest(limits.uploadLimit),
        response: { 201: ReportAnswer, '4xx': RefusalAnswer, '5xx': RefusalAnswer },
      },
    },
    async (req, reply) => {
      const visitor = visitorAddress(req);
      const wait = uploads.take(clientKey(visitor)) || uploadsByNetwork.take(networkKey(visitor));
      if (wait) return refuse(reply, 429, { code: 'upload-budget', params: { seconds: wait } }, 'rate', wait);
      const traceId = req.body.traceId ?? null;
      const trace = traceId ? app.store.getTrace(traceId) : undefined;
      if (traceId) {
        if (!trace) return refuse(reply, 404, { code: 'trace-id-unknown' }, 'invalid');
        // Only the visitor the trace went back to may put their side next to it.
        if (!isYours(visitor, trace.client)) return refuse(reply, 403, { code: 'not-yours' }, 'not-yours');
      }
      // Off the main thread, with a deadline and a heap limit: no upload stalls the server.
      const parsed = await parser.parse(req.body.text);
      if (!parsed.ok) return refuse(reply, parsed.status, parsed.refusal, parsed.reason);
      const imported = parsed.trace;
      await addOriginAs(imported.hops, table, { kind: 'file', database: asnIndex });
      const classification = classify(imported.hops, table, { namesOnly: imported.namesOnly });
      addImportNotes(classification, imported);
      const id = newId();
      const result = {
        format: imported.format,
        target: imported.target ?? null,
        hops: uploadedHops(imported.hops, table, asnIndex),
        verdict: classification.verdict,
        classification,
        names: bilingualNames(classification),
      };
      const row = {
        id,
        createdAt: Date.now(),
        client: visitor,
        traceId,
        format: imported.format,
        body: req.body.text,
        result: JSON.stringify(result),
      };
      app.store.insertReport(row);
      // An upload to a trace its visitor masked is masked too.
      if (trace?.masked) app.store.maskReport(id);
      app.store.audit({
        at: Date.now(),
        client: visitor,
        action: 'upload',
        target: imported.target ?? null,
        decision: 'stored',
        detail: JSON.stringify({ id, format: imported.format }),
      });
      app.metrics.reports.inc();
      const answer: ReportView = reportView(app, { ...row, masked: trace?.masked ?? 0 }, visitor);
      answer.links = { self: `/api/v1/reports/${id}`, page: `/?report=${id}` };
      return reply.code(201).send(answer);
    },
  );

  app.get(
    '/api/v1/reports/:id',
    { schema: { params: IdParams, querystring: ReportQuery, response: { 200: ReportAnswer, '4xx': RefusalAnswer } } },
    async (req, reply) => {
      const row = app.store.getReport(req.params.id);
      if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-report' }));
      // A link pairs an upload only with the trace it was uploaded for.
      if (req.query.trace !== undefined && req.query.trace !== row.traceId)
        return refuse(reply, 409, { code: 'report-other-trace' }, 'invalid');
      return reportView(app, row, visitorAddress(req));
    },
  );

  app.post(
    '/api/v1/reports/:id/mask',
    { schema: { params: IdParams, response: { 200: MaskAnswer, '4xx': RefusalAnswer } } },
    async (req, reply) => {
      const row = app.store.getReport(req.params.id);
      if (!row) return reply.code(404).send(refusalBody({ code: 'no-such-report' }));
      if (!isYours(visitorAddress(req), row.client)) return refuse(reply, 403, { code: 'not-yours' }, 'not-yours');
      if (row.traceId) app.store.maskTrace(row.traceId);
      else app.store.maskReport(row.id);
      return { masked: true };
    },
  );
};

export default reports;
