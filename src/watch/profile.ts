// The evening-peak profile: a target's loss, latency and verdict mix by hour
// of day in a chosen time zone (default Beijing time), over a span of days.
// Samples where they are kept; hour rollups before that.
import { VpslineError } from '../errors.js';
import { type Histogram, histogramCount, histogramQuantile, mergeInto } from './histogram.js';
import type { WatchStore } from './store.js';

export interface HourOfDay {
  hour: number;
  samples: number;
  /** Mean loss share of the samples (0..1), and the share of samples with any loss. */
  loss: number | null;
  lossySamples: number;
  p50: number | null;
  p90: number | null;
  /** Samples per verdict. */
  verdicts: Record<string, number>;
}

export interface Profile {
  target: string;
  timeZone: string;
  from: number;
  to: number;
  hours: HourOfDay[];
}

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** The hour of day (0-23) of an instant in a zone; throws a clear error for an unknown zone. */
export function hourIn(timeZone: string): (t: number) => number {
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' });
  } catch {
    throw new VpslineError('EVPSLINE_BAD_OPTION', `unknown time zone ${timeZone} (an IANA name: Asia/Shanghai).`, 2);
  }
  return (t) => Number(f.format(t)) % 24;
}

export function profile(
  store: WatchStore,
  target: string,
  from: number,
  to: number,
  timeZone = DEFAULT_TIME_ZONE,
): Profile {
  const hourOf = hourIn(timeZone);
  const acc = Array.from({ length: 24 }, () => ({
    samples: 0,
    lossSum: 0,
    lossN: 0,
    lossy: 0,
    hist: {} as Histogram,
    verdicts: {} as Record<string, number>,
  }));
  const samples = store.samples(target, from, to, Number.MAX_SAFE_INTEGER);
  const detailFrom = samples[0]?.t ?? to;
  for (const s of samples) {
    const a = acc[hourOf(s.t)];
    if (!a) continue;
    a.samples++;
    if (s.loss !== null) {
      a.lossSum += s.loss;
      a.lossN++;
      if (s.loss > 0) a.lossy++;
    }
    mergeInto(a.hist, s.hist);
    a.verdicts[s.verdict] = (a.verdicts[s.verdict] ?? 0) + 1;
  }
  // Older than the kept samples: each hour's rollup counts for the local hour it starts in.
  for (const h of store.hours(target, from, Math.min(to, Math.floor(detailFrom / 3_600_000) * 3_600_000))) {
    const a = acc[hourOf(h.t)];
    if (!a) continue;
    a.samples += h.samples;
    if (h.loss !== null) {
      a.lossSum += h.loss * h.samples;
      a.lossN += h.samples;
    }
    mergeInto(a.hist, h.hist);
    for (const [v, n] of Object.entries(h.verdicts)) a.verdicts[v] = (a.verdicts[v] ?? 0) + n;
  }
  return {
    target,
    timeZone,
    from,
    to,
    hours: acc.map((a, hour) => ({
      hour,
      samples: a.samples,
      loss: a.lossN ? a.lossSum / a.lossN : null,
      lossySamples: a.lossy,
      p50: histogramCount(a.hist) ? histogramQuantile(a.hist, 0.5) : null,
      p90: histogramCount(a.hist) ? histogramQuantile(a.hist, 0.9) : null,
      verdicts: a.verdicts,
    })),
  };
}
