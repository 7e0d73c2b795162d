// A watch history for the pictures' tests, written through the real
// detectors (Watcher.process) into a real WatchStore file: one target sampled
// every `intervalS` for `days` ending at `end`, with loss planted from 20:00
// to 23:00 Beijing time, a slower evening, and at `switchAt` a new router at
// TTL 2 and a new line (a route change and a verdict change follow).
import { CarrierTable } from '../../src/lookup/carriers.js';
import { histogramOf } from '../../src/watch/histogram.js';
import { type Retention, WatchStore } from '../../src/watch/store.js';
import type { Sample } from '../../src/watch/types.js';
import { Watcher } from '../../src/watch/watcher.js';

export const WATCH_TARGET = { name: 'lab-ct', address: '198.18.5.5', carrier: 'ct' };
export const EVENING_BEIJING = [20, 21, 22];
const beijingHour = (t: number): number => (new Date(t).getUTCHours() + 8) % 24;

export interface History {
  store: WatchStore;
  start: number;
  end: number;
  switchAt: number;
  intervalS: number;
}

/** The loss share planted at t: 30 % in the Beijing evening, none otherwise. */
export const plantedLoss = (t: number): number => (EVENING_BEIJING.includes(beijingHour(t)) ? 0.3 : 0);

function sampleAt(t: number, switched: boolean): Sample {
  const loss = plantedLoss(t);
  // Ten replies around a base that rises in the evening, spread so every band has a width.
  const base = 40 + (loss ? 25 : 0) + (switched ? -8 : 0);
  const rtts = Array.from({ length: 10 }, (_, i) => base + i * 1.5 + ((t / 60_000) % 3));
  const received = Math.round(10 * (1 - loss));
  const got = rtts.slice(0, received).sort((a, b) => a - b);
  const at = (q: number): number => got[Math.min(got.length - 1, Math.floor(q * (got.length - 1)))] as number;
  const r2 = switched ? '198.18.0.22' : '198.18.0.12';
  return {
    target: WATCH_TARGET.name,
    t,
    rounds: 10,
    sent: 10,
    received,
    loss: loss ? (10 - received) / 10 : 0,
    rtt: { min: at(0), p10: at(0.1), p25: at(0.25), p50: at(0.5), p75: at(0.75), p90: at(0.9), max: at(1) },
    hist: histogramOf(got),
    destinationTtl: 3,
    hops: [
      { ttl: 1, address: '198.18.0.11', addresses: ['198.18.0.11'], sent: 10, lost: 0, p50: 1.2, p90: 1.9 },
      { ttl: 2, address: r2, addresses: [r2], sent: 10, lost: loss ? 3 : 0, p50: base - 5, p90: base + 3 },
    ],
    verdict: switched ? 'cn2-gia' : 'chinanet-163',
    confidence: 'high',
    carriers: switched ? ['cn2'] : ['chinanet-163'],
  };
}

/** Write the history into `file` and roll up its hours as of `end`. */
export function writeHistory(
  file: string,
  opts: { days: number; intervalS: number; end?: number; retention?: Retention },
): History {
  const intervalMs = opts.intervalS * 1000;
  const end = Math.floor((opts.end ?? Date.now()) / intervalMs) * intervalMs;
  const start = end - opts.days * 86_400_000;
  const switchAt = start + Math.floor((end - start) / 2 / intervalMs) * intervalMs;
  const store = new WatchStore(file, opts.retention);
  const watcher = new Watcher({
    targets: [WATCH_TARGET],
    store,
    // Never traced: every sample is handed to the detectors directly.
    sample: { intervalS: opts.intervalS, rounds: 10, trace: {}, table: CarrierTable.load() },
  });
  for (let t = start; t < end; t += intervalMs) watcher.process(WATCH_TARGET, sampleAt(t, t >= switchAt));
  store.maintain(end + intervalMs);
  store.checkpoint();
  return { store, start, end, switchAt, intervalS: opts.intervalS };
}
