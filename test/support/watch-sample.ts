// Hand-made watch samples for the tests that feed the detectors directly
// (Watcher.process): a path given by its addresses, a flat RTT, no loss unless asked.
import type { HopSample, RttSummary, Sample } from '../../src/watch/types.js';

/** One answering hop (10 probes, none lost). */
export const watchHop = (ttl: number, address: string, over: Partial<HopSample> = {}): HopSample => ({
  ttl,
  address,
  addresses: [address],
  sent: 10,
  lost: 0,
  p50: ttl,
  p90: ttl,
  ...over,
});

/** Every percentile the same. */
export const flatRtt = (ms: number): RttSummary => ({ min: ms, p10: ms, p25: ms, p50: ms, p75: ms, p90: ms, max: ms });

/** A sample of `target` at `t` through `route` (one address per TTL, the destination after them). */
export function watchSample(target: string, t: number, route: string[], over: Partial<Sample> = {}): Sample {
  const loss = over.loss ?? 0;
  return {
    target,
    t,
    rounds: 10,
    sent: 10,
    received: Math.round(10 * (1 - (loss ?? 1))),
    loss,
    rtt: flatRtt(30),
    hist: {},
    destinationTtl: route.length + 1,
    hops: route.map((a, i) => watchHop(i + 1, a)),
    verdict: 'other',
    confidence: 'low',
    carriers: [],
    ...over,
  };
}
