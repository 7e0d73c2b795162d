// The other events of a watch: the line's verdict changing, and episodes of
// loss at the destination or of latency above the target's own baseline.
// Every detector takes samples in time order and keeps a small, serialisable
// state, so a restarted watch goes on where the last one stopped.
import type { Verdict } from '../route/classify.js';
import { quantile } from './histogram.js';
import type { Sample } from './types.js';

export interface VerdictChange {
  at: number;
  before: Verdict;
  after: Verdict;
  samples: number;
}

export interface VerdictState {
  verdict: Verdict | null;
  candidate: { verdict: Verdict; since: number; count: number } | null;
}

/** A verdict holds until `confirm` conclusive samples in a row name another line; inconclusive ones are skipped. */
export function observeVerdict(state: VerdictState, s: Sample, confirm: number): VerdictChange | null {
  if (s.verdict === 'inconclusive') return null;
  if (state.verdict === null) {
    state.verdict = s.verdict;
    return null;
  }
  if (s.verdict === state.verdict) {
    state.candidate = null;
    return null;
  }
  state.candidate =
    state.candidate?.verdict === s.verdict
      ? { ...state.candidate, count: state.candidate.count + 1 }
      : { verdict: s.verdict, since: s.t, count: 1 };
  if (state.candidate.count < confirm) return null;
  const change = { at: state.candidate.since, before: state.verdict, after: s.verdict, samples: state.candidate.count };
  state.verdict = s.verdict;
  state.candidate = null;
  return change;
}

export interface EpisodeSettings {
  /** Destination loss at or above this share (0..1) makes a sample bad (default 0.05). */
  lossRatio: number;
  /** A sample's median RTT this many times the baseline, and `latencyMinMs` above it, is bad (default 1.5). */
  latencyFactor: number;
  latencyMinMs: number;
  /** Bad samples in a row that open an episode, and good ones that close it (default 2 and 2). */
  open: number;
  close: number;
  /** Samples the latency baseline is the median of (default: a day's worth, at most 1440). */
  baselineSamples: number;
}

export const DEFAULT_EPISODES: EpisodeSettings = {
  lossRatio: 0.05,
  latencyFactor: 1.5,
  latencyMinMs: 5,
  open: 2,
  close: 2,
  baselineSamples: 1440,
};

export interface Episode {
  start: number;
  /** The end of its last bad sample; null while open. */
  end: number | null;
  samples: number;
  worst: number;
  sum: number;
  /** What "normal" was when it opened (loss share or baseline ms). */
  normal: number;
  /** The hop from which the loss carried on to the destination, in the worst sample. */
  fromTtl?: number | null;
  /** The end of the newest bad sample (the episode's end once it closes). */
  lastBad: number;
}

export interface EpisodeState {
  bad: number;
  good: number;
  firstBad: number | null;
  open: Episode | null;
  /** Latency only: recent medians (the baseline is their median), oldest first. */
  recent?: number[];
}

export const emptyEpisode = (): EpisodeState => ({ bad: 0, good: 0, firstBad: null, open: null });

export type EpisodeUpdate = { kind: 'opened' | 'closed'; episode: Episode } | null;

function step(
  st: EpisodeState,
  s: Sample,
  intervalMs: number,
  value: number | null,
  isBad: boolean,
  normal: number,
  set: EpisodeSettings,
  fromTtl?: number | null,
): EpisodeUpdate {
  if (value === null) return null; // nothing measured: neither good nor bad
  if (isBad) {
    st.good = 0;
    st.bad++;
    st.firstBad ??= s.t;
    if (st.open) {
      st.open.samples++;
      st.open.sum += value;
      st.open.end = null;
      if (value > st.open.worst) {
        st.open.worst = value;
        if (fromTtl !== undefined) st.open.fromTtl = fromTtl;
      }
      st.open.lastBad = s.t + intervalMs;
      return null;
    }
    if (st.bad >= set.open) {
      st.open = {
        start: st.firstBad,
        end: null,
        samples: st.bad,
        worst: value,
        sum: value * st.bad,
        normal,
        lastBad: s.t + intervalMs,
        ...(fromTtl !== undefined ? { fromTtl } : {}),
      };
      return { kind: 'opened', episode: { ...st.open } };
    }
    return null;
  }
  st.bad = 0;
  st.firstBad = null;
  if (!st.open) return null;
  st.good++;
  if (st.good < set.close) return null;
  const closed: Episode = { ...st.open, end: st.open.lastBad };
  st.open = null;
  st.good = 0;
  return { kind: 'closed', episode: closed };
}

/** The first hop from which every hop that answered lost at least half the destination's share. */
export function lossFrom(s: Sample): number | null {
  if (s.loss === null || s.loss === 0) return null;
  let from: number | null = null;
  for (const h of s.hops) {
    if (!h.sent || h.lost === h.sent) continue; // silent hops say nothing about loss
    if (h.lost / h.sent >= s.loss / 2) from ??= h.ttl;
    else from = null;
  }
  return from ?? s.destinationTtl;
}

export function observeLoss(st: EpisodeState, s: Sample, intervalMs: number, set: EpisodeSettings): EpisodeUpdate {
  return step(st, s, intervalMs, s.loss, (s.loss ?? 0) >= set.lossRatio, 0, set, lossFrom(s));
}

/** The baseline a latency episode is judged against: median of recent medians (null until 10 are known). */
export function baseline(st: EpisodeState): number | null {
  const r = st.recent ?? [];
  return r.length >= 10
    ? quantile(
        [...r].sort((a, b) => a - b),
        0.5,
      )
    : null;
}

export function observeLatency(st: EpisodeState, s: Sample, intervalMs: number, set: EpisodeSettings): EpisodeUpdate {
  const median = s.rtt?.p50 ?? null;
  const base = baseline(st);
  const isBad =
    median !== null && base !== null && median >= base * set.latencyFactor && median - base >= set.latencyMinMs;
  const update = step(st, s, intervalMs, median, isBad, base ?? 0, set);
  // Every median counts, bad ones too: an evening's rise moves a day's median little, while a rise that lasts
  // more than half the window becomes the new normal and its episode ends.
  if (median !== null) st.recent = [...(st.recent ?? []), median].slice(-set.baselineSamples);
  return update;
}
