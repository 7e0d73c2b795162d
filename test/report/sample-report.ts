// A report shaped like the lab run behind mtr 0.95's sample outputs
// (h1 -> r1 -> r2 -> r3 -> h2, 10 cycles), for renderer tests.
import type { HopSnapshot } from '../../src/trace/hop.js';
import type { TraceReport } from '../../src/trace/trace.js';

export function hop(
  ttl: number,
  address: string | null,
  loss: number,
  sent: number,
  last: number,
  avg: number,
  best: number,
  worst: number,
  stdev: number,
  extra: string[] = [],
): HopSnapshot {
  const received = Math.round(sent * (1 - loss / 100));
  const stats = {
    received,
    last,
    best,
    worst,
    mean: avg,
    stdev,
    gmean: avg,
    jitter: 0.01,
    jitterMean: 0.01,
    jitterMax: 0.02,
    jitterInterarrival: 0.003,
  };
  const responders = address ? [address, ...extra].map((a) => ({ address: a, received: 1, stats })) : [];
  return {
    ttl,
    address,
    responders,
    sent,
    received,
    lost: sent - received,
    inFlight: 0,
    lossPercent: loss,
    stats,
    untimed: 0,
  };
}

export function sampleReport(hops?: HopSnapshot[]): TraceReport {
  const h = hops ?? [
    hop(1, '198.18.1.1', 0, 10, 0.1, 0.1, 0.1, 0.1, 0),
    hop(2, '198.18.2.2', 30, 10, 0.1, 0.1, 0.1, 0.1, 0),
    hop(3, '198.18.3.2', 0, 10, 0.1, 0.1, 0.1, 0.1, 0),
    hop(4, '198.18.4.2', 10, 10, 15.1, 14.9, 11.0, 20.4, 3.0),
  ];
  return {
    target: '198.18.4.2',
    settings: {
      protocol: 'icmp',
      firstTtl: 1,
      maxTtl: 30,
      interval: 0.2,
      cycles: 10,
      packetSize: 64,
      tos: 0,
      timeout: 2,
      maxUnknown: 12,
    },
    address: '198.18.4.2',
    family: 4,
    mode: { protocol: 'icmp', socket: 'raw', fallbacks: [] },
    source: 'vm',
    startedAt: new Date('2026-11-28T04:39:05Z'),
    endedAt: new Date('2026-11-28T04:39:12Z'),
    endReason: 'completed',
    rounds: 10,
    hops: h,
    destinationTtl: h.length,
  };
}
