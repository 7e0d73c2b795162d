// RTT histograms with log-spaced buckets (5 % wide, 0.01 ms to 100 s): small
// enough to keep per sample, and mergeable, so an hour's or an evening's
// percentiles come from every reply rather than from averaged percentiles.
const BASE_MS = 0.01;
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
const MAX_BUCKET = Math.ceil(Math.log(100_000 / BASE_MS) / LOG_GROWTH);

export type Histogram = Record<string, number>;

export function bucketOf(rttMs: number): number {
  if (!(rttMs > BASE_MS)) return 0;
  return Math.min(MAX_BUCKET, Math.floor(Math.log(rttMs / BASE_MS) / LOG_GROWTH));
}

/** The bucket's geometric middle: within 2.5 % of any RTT in it. */
export function bucketValue(bucket: number): number {
  return BASE_MS * GROWTH ** (bucket + 0.5);
}

export function histogramOf(rtts: readonly number[]): Histogram {
  const h: Histogram = {};
  for (const r of rtts) {
    const b = String(bucketOf(r));
    h[b] = (h[b] ?? 0) + 1;
  }
  return h;
}

export function mergeInto(into: Histogram, more: Histogram): Histogram {
  for (const [b, n] of Object.entries(more)) into[b] = (into[b] ?? 0) + n;
  return into;
}

export function histogramCount(h: Histogram): number {
  let n = 0;
  for (const v of Object.values(h)) n += v;
  return n;
}

/** The q-quantile (0..1) of a histogram, or null when it is empty. */
export function histogramQuantile(h: Histogram, q: number): number | null {
  const buckets = Object.entries(h)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, n]) => s + n, 0);
  if (!total) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [b, n] of buckets) {
    seen += n;
    if (seen >= rank) return bucketValue(b);
  }
  return bucketValue(buckets[buckets.length - 1]?.[0] ?? 0);
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}
