// The line watch's history for the page's pictures (web/watch.js): the
// targets, a target's series over a range (every sample while the range is
// short and recent enough, hour rollups otherwise), its events, its
// hour-of-day profile, and one sample's hops. Read-only and bounded: at most
// MAX_POINTS samples, MAX_RANGE_DAYS of hours, MAX_EVENTS events per answer.
// Registered only when the looking glass is given a watch (ServeOptions.watch).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { lineName } from '../../route/lines.js';
import { histogramCount, histogramQuantile } from '../../watch/histogram.js';
import { DEFAULT_TIME_ZONE, hourIn, profile } from '../../watch/profile.js';
import type { HourRow, WatchStore } from '../../watch/store.js';
import type { Sample } from '../../watch/types.js';
import { refuse } from '../context.js';
import {
  RefusalAnswer,
  WatchEventsAnswer,
  WatchProfileAnswer,
  WatchProfileQuery,
  WatchRangeQuery,
  WatchSampleAnswer,
  WatchSampleQuery,
  WatchSeriesAnswer,
  WatchTargetsAnswer,
} from '../schemas.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Samples one series answer holds at most; a range with more is answered in hours. */
export const MAX_POINTS = 5000;
/** The longest range asked for at once (9600 hour points). */
export const MAX_RANGE_DAYS = 400;
export const MAX_EVENTS = 1000;
/** The range when none is asked for: the last day. */
const DEFAULT_RANGE_MS = DAY_MS;

type Names = Record<string, { en: string; zh: string }>;
const namesOf = (verdicts: Iterable<string | null>): Names => {
  const out: Names = {};
  for (const v of verdicts) if (v && !out[v]) out[v] = { en: lineName(v, 'en'), zh: lineName(v, 'zh') };
  return out;
};

/** `2026-11-02T20:00+08:00` or digits (ms since 1970); undefined when it is neither. */
export function parseTime(text: string): number | undefined {
  const t = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

/** The verdict most of an hour's samples had. */
function mainVerdict(verdicts: Record<string, number>): string | null {
  let best: string | null = null;
  let n = 0;
  for (const [v, c] of Object.entries(verdicts))
    if (c > n) {
      best = v;
      n = c;
    }
  return best;
}

/** The usual time between samples (the median gap), for drawing gaps as gaps. */
function usualStep(ts: number[], fallback: number): number {
  const gaps = ts.slice(1).map((t, i) => t - (ts[i] as number));
  if (!gaps.length) return fallback;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] as number;
}

function samplesSeries(list: (Sample & { pathId: number | null })[]) {
  return {
    t: list.map((s) => s.t),
    loss: list.map((s) => s.loss),
    p10: list.map((s) => s.rtt?.p10 ?? null),
    p25: list.map((s) => s.rtt?.p25 ?? null),
    p50: list.map((s) => s.rtt?.p50 ?? null),
    p75: list.map((s) => s.rtt?.p75 ?? null),
    p90: list.map((s) => s.rtt?.p90 ?? null),
    verdict: list.map((s) => s.verdict as string | null),
    pathId: list.map((s) => s.pathId),
  };
}

function hoursSeries(list: HourRow[]) {
  const q = (h: HourRow, p: number): number | null => (histogramCount(h.hist) ? histogramQuantile(h.hist, p) : null);
  return {
    t: list.map((h) => h.t),
    loss: list.map((h) => h.loss),
    p10: list.map((h) => q(h, 0.1)),
    p25: list.map((h) => q(h, 0.25)),
    p50: list.map((h) => q(h, 0.5)),
    p75: list.map((h) => q(h, 0.75)),
    p90: list.map((h) => q(h, 0.9)),
    verdict: list.map((h) => mainVerdict(h.verdicts)),
    pathId: list.map(() => null),
  };
}

const watch: FastifyPluginAsyncTypebox = async (app) => {
  const w = app.lg.opts.watch;
  if (!w) return;
  const store: WatchStore = w.store;
  const watcher = w.watcher;

  /** The target's name when the watch has it; otherwise the 404 is sent and undefined returned. */
  const known = (reply: FastifyReply, target: string): string | undefined => {
    if (store.targetId(target) !== undefined) return target;
    void refuse(reply, 404, { code: 'watch-no-target', params: { target: target.slice(0, 100) } }, 'invalid');
    return undefined;
  };

  /** from/to from the query (default: the last day); the 400 is sent and undefined returned when bad. */
  const range = (reply: FastifyReply, q: { from?: string; to?: string }): { from: number; to: number } | undefined => {
    const to = q.to === undefined ? Date.now() : parseTime(q.to);
    if (to === undefined) {
      void refuse(reply, 400, { code: 'watch-bad-time', params: { field: 'to' } }, 'invalid');
      return undefined;
    }
    const from = q.from === undefined ? to - DEFAULT_RANGE_MS : parseTime(q.from);
    if (from === undefined) {
      void refuse(reply, 400, { code: 'watch-bad-time', params: { field: 'from' } }, 'invalid');
      return undefined;
    }
    if (!(from < to) || to - from > MAX_RANGE_DAYS * DAY_MS) {
      void refuse(reply, 400, { code: 'watch-bad-range', params: { days: MAX_RANGE_DAYS } }, 'invalid');
      return undefined;
    }
    return { from, to };
  };

  const errors = { '4xx': RefusalAnswer };

  app.get('/api/v1/watch/targets', { schema: { response: { 200: WatchTargetsAnswer } } }, async () => {
    const targets = store.targets().map((t) => {
      const last = store.lastSample(t.name);
      return {
        name: t.name,
        address: t.address,
        carrier: t.carrier ?? null,
        lastSample: last?.t ?? null,
        verdict: last?.verdict ?? null,
      };
    });
    return {
      running: watcher !== undefined,
      intervalMs: watcher?.intervalMs ?? null,
      retention: { ...store.retention },
      targets,
      lines: namesOf(targets.map((t) => t.verdict)),
    };
  });

  app.get(
    '/api/v1/watch/series',
    { schema: { querystring: WatchRangeQuery, response: { 200: WatchSeriesAnswer, ...errors } } },
    async (req, reply) => {
      const target = known(reply, req.query.target);
      const r = target && range(reply, req.query);
      if (!target || !r) return reply;
      // Samples while the range is within the detail days and holds few enough of them; else hours.
      const detailFrom = Date.now() - store.retention.detailDays * DAY_MS;
      const samples =
        r.from >= detailFrom - HOUR_MS && r.to - r.from <= store.retention.detailDays * DAY_MS
          ? store.samples(target, r.from, r.to, MAX_POINTS + 1)
          : undefined;
      const bySample = samples !== undefined && samples.length <= MAX_POINTS;
      const series = bySample ? samplesSeries(samples) : hoursSeries(store.hours(target, r.from, r.to));
      return {
        target,
        ...r,
        resolution: bySample ? ('sample' as const) : ('hour' as const),
        // The samples' own spacing: a history may have been recorded at another interval than the watch's now.
        stepMs: bySample ? usualStep(series.t, watcher?.intervalMs ?? 60_000) : HOUR_MS,
        ...series,
        lines: namesOf(series.verdict),
      };
    },
  );

  app.get(
    '/api/v1/watch/events',
    { schema: { querystring: WatchRangeQuery, response: { 200: WatchEventsAnswer, ...errors } } },
    async (req, reply) => {
      const target = known(reply, req.query.target);
      const r = target && range(reply, req.query);
      if (!target || !r) return reply;
      const events = store.events({ target, from: r.from, to: r.to, limit: MAX_EVENTS });
      const verdicts = events
        .filter((e) => e.type === 'verdict-change')
        .flatMap((e) => [e.before, e.after].map((v) => (typeof v === 'string' ? v : null)));
      return {
        target,
        ...r,
        events: events.map(({ target: _t, ...e }) => e),
        lines: namesOf(verdicts),
      };
    },
  );

  app.get(
    '/api/v1/watch/profile',
    { schema: { querystring: WatchProfileQuery, response: { 200: WatchProfileAnswer, ...errors } } },
    async (req, reply) => {
      const q = req.query;
      const target = known(reply, q.target);
      if (!target) return reply;
      const tz = q.tz ?? DEFAULT_TIME_ZONE;
      try {
        hourIn(tz);
      } catch {
        return refuse(reply, 400, { code: 'watch-bad-time-zone', params: { tz: tz.slice(0, 64) } }, 'invalid');
      }
      const days = q.days === undefined ? 7 : Number(q.days);
      const to = q.to === undefined ? Date.now() : parseTime(q.to);
      if (to === undefined) return refuse(reply, 400, { code: 'watch-bad-time', params: { field: 'to' } }, 'invalid');
      if (!(days >= 1 && days <= MAX_RANGE_DAYS))
        return refuse(reply, 400, { code: 'watch-bad-range', params: { days: MAX_RANGE_DAYS } }, 'invalid');
      const p = profile(store, target, to - days * DAY_MS, to, tz);
      return { ...p, lines: namesOf(p.hours.flatMap((h) => Object.keys(h.verdicts))) };
    },
  );

  app.get(
    '/api/v1/watch/sample',
    { schema: { querystring: WatchSampleQuery, response: { 200: WatchSampleAnswer, ...errors } } },
    async (req, reply) => {
      const target = known(reply, req.query.target);
      if (!target) return reply;
      const t = parseTime(req.query.t);
      if (t === undefined) return refuse(reply, 400, { code: 'watch-bad-time', params: { field: 't' } }, 'invalid');
      // The sample at t, or the first one after it within the hour (a point of an hour rollup).
      const [s] = store.samples(target, t, t + HOUR_MS, 1);
      if (!s) return refuse(reply, 404, { code: 'watch-no-sample' }, 'invalid');
      const address = store.targets().find((x) => x.name === target)?.address ?? null;
      const share = (sent: number, lost: number): number | null => (sent ? lost / sent : null);
      const hops = s.hops.map((h) => ({ ...h, loss: share(h.sent, h.lost) }));
      // The destination as the last row, with the sample's own figures.
      if (s.destinationTtl !== null)
        hops.push({
          ttl: s.destinationTtl,
          address,
          addresses: address ? [address] : [],
          sent: s.sent,
          lost: Math.max(0, s.sent - s.received),
          loss: s.loss,
          p50: s.rtt?.p50 ?? null,
          p90: s.rtt?.p90 ?? null,
        });
      return {
        target,
        t: s.t,
        loss: s.loss,
        p50: s.rtt?.p50 ?? null,
        p90: s.rtt?.p90 ?? null,
        verdict: s.verdict,
        confidence: s.confidence,
        carriers: s.carriers,
        destinationTtl: s.destinationTtl,
        hops,
        lines: namesOf([s.verdict]),
      };
    },
  );
};

export default watch;
