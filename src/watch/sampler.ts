// One interval of one target: a trace of `rounds` rounds spread over the
// interval (mtr's pace), its replies kept per TTL, and the path classified.
import type { CarrierTable } from '../lookup/carriers.js';
import { classifyTrace } from '../route/backtrace.js';
import { Trace, type TraceOptions, type TraceReport } from '../trace/trace.js';
import { histogramOf, quantile } from './histogram.js';
import type { HopSample, RttSummary, Sample, WatchTarget } from './types.js';

export interface SampleSettings {
  /** Seconds one sample covers. */
  intervalS: number;
  /** Probe rounds in it (at least 1). */
  rounds: number;
  /** Seconds between rounds; default the interval spread evenly (a simulation sets it short). */
  spacingS?: number;
  /** Trace options (engine, protocol, max TTL...); cycles and interval come from the two above. */
  trace: Omit<TraceOptions, 'cycles' | 'interval'>;
  table: CarrierTable;
}

/** The Chinese carriers: a target of theirs is reached towards China. */
const CHINESE = new Set(['ct', 'cu', 'cm']);

const summary = (sorted: number[]): RttSummary | null =>
  sorted.length
    ? {
        min: quantile(sorted, 0),
        p10: quantile(sorted, 0.1),
        p25: quantile(sorted, 0.25),
        p50: quantile(sorted, 0.5),
        p75: quantile(sorted, 0.75),
        p90: quantile(sorted, 0.9),
        max: quantile(sorted, 1),
      }
    : null;

/** Trace one interval; the sample's time is `t` (the watch's clock, which a simulation scripts). */
export async function takeSample(
  target: WatchTarget,
  t: number,
  set: SampleSettings,
  opts: { everReached: boolean; signal?: AbortSignal },
): Promise<Sample> {
  const rounds = Math.max(1, Math.round(set.rounds));
  // The trace's own spacing, at least mtr's floor for root (0.01 s).
  const spacing = Math.max(0.01, set.spacingS ?? set.intervalS / rounds);
  const trace = new Trace(target.address, { ...set.trace, cycles: rounds, interval: spacing });
  const rtts = new Map<number, number[]>();
  trace.on('probe', ({ ttl, result }) => {
    if (result.rttMs === null || !result.reply) return;
    const list = rtts.get(ttl) ?? [];
    list.push(result.rttMs);
    rtts.set(ttl, list);
  });
  const stop = (): void => trace.stop();
  opts.signal?.addEventListener('abort', stop, { once: true });
  void trace.start();
  let report: TraceReport;
  try {
    report = await trace.done;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
  return sampleOf(target, t, rounds, report, rtts, set.table, opts.everReached);
}

/** A finished trace as a sample. `rtts`: every reply's RTT per TTL. */
export async function sampleOf(
  target: WatchTarget,
  t: number,
  rounds: number,
  report: TraceReport,
  rtts: Map<number, number[]>,
  table: CarrierTable,
  everReached: boolean,
): Promise<Sample> {
  const destTtl = report.destinationTtl;
  const hops: HopSample[] = report.hops
    .filter((h) => destTtl === null || h.ttl < destTtl)
    .map((h) => {
      const sorted = [...(rtts.get(h.ttl) ?? [])].sort((a, b) => a - b);
      return {
        ttl: h.ttl,
        address: h.address,
        addresses: h.responders.map((r) => r.address),
        sent: h.sent - h.inFlight,
        lost: h.lost,
        p50: sorted.length ? quantile(sorted, 0.5) : null,
        p90: sorted.length ? quantile(sorted, 0.9) : null,
      };
    });
  const dest = destTtl === null ? undefined : report.hops.find((h) => h.ttl === destTtl);
  const destRtts = destTtl === null ? [] : [...(rtts.get(destTtl) ?? [])].sort((a, b) => a - b);
  const sent = dest ? dest.sent - dest.inFlight : rounds;
  const received = dest ? dest.received : 0;
  const c = await classifyTrace(
    report,
    table,
    undefined,
    target.carrier && CHINESE.has(target.carrier) ? { direction: 'towards-china' } : {},
  );
  return {
    target: target.name,
    t,
    rounds,
    sent,
    received,
    // A destination that never answered has no loss to speak of: it may just not answer probes.
    loss: dest || everReached ? (sent ? Math.max(0, sent - received) / sent : null) : null,
    rtt: summary(destRtts),
    hist: histogramOf(destRtts),
    destinationTtl: destTtl,
    hops,
    verdict: c.verdict,
    confidence: c.confidence,
    carriers: c.segments.map((s) => s.carrier),
  };
}
