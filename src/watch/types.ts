// What `vpsline watch` measures and keeps: one sample per target and interval,
// and the events read from the run of samples. Plain data, stored as is.
import type { Confidence, Verdict } from '../route/classify.js';

export interface WatchTarget {
  /** Unique within a watch; names the target in the database, events, alerts and metrics. */
  name: string;
  address: string;
  /** ct, cu or cm when the target is a Chinese carrier's address: the path then runs towards China. */
  carrier?: string;
}

/** Round-trip percentiles of one sample's replies, ms (SmokePing's bands: p10-p90 and p25-p75). */
export interface RttSummary {
  min: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  max: number;
}

export interface HopSample {
  ttl: number;
  /** The address that answered last (mtr's); null when nothing answered at this TTL. */
  address: string | null;
  /** Every address that answered at this TTL in the interval (ECMP branches show as several). */
  addresses: string[];
  sent: number;
  lost: number;
  /** Median and 90th percentile RTT of this hop's replies, ms; null without replies. */
  p50: number | null;
  p90: number | null;
}

export interface Sample {
  target: string;
  /** Start of the interval, ms since the epoch. */
  t: number;
  rounds: number;
  /** Probes to the destination and replies from it. */
  sent: number;
  received: number;
  /** Share of probes to the destination lost (0..1); null while the destination has never answered. */
  loss: number | null;
  rtt: RttSummary | null;
  /** Sparse log-bucket histogram of the destination's RTTs (histogram.ts), for merging into hours. */
  hist: Record<string, number>;
  /** The TTL the destination answered from, null when it did not answer in this interval. */
  destinationTtl: number | null;
  /** The hops before the destination. */
  hops: HopSample[];
  verdict: Verdict;
  confidence: Confidence;
  /** The carriers of the path's segments, in order. */
  carriers: string[];
}

export type EventType = 'route-change' | 'verdict-change' | 'loss' | 'latency';

export interface WatchEvent {
  /** Assigned by the store. */
  id?: number;
  target: string;
  type: EventType;
  /** When it began (ms): the first sample on the new path or verdict, or the episode's first bad sample. */
  start: number;
  /** When an episode ended (ms); null while it goes on, and for changes (they are instants). */
  end: number | null;
  before: unknown;
  after: unknown;
  evidence: unknown;
}
