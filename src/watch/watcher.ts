// `vpsline watch` as a library: every target sampled once per interval, each
// sample read by the detectors (path, verdict, loss, latency) and stored with
// what it caused in one transaction. The clock is injected, so a test can run
// a week of intervals through the real engine in a minute.
import { EventEmitter } from 'node:events';
import {
  DEFAULT_EPISODES,
  type EpisodeSettings,
  type EpisodeState,
  type EpisodeUpdate,
  emptyEpisode,
  observeLatency,
  observeLoss,
  observeVerdict,
  type VerdictState,
} from './episodes.js';
import { type PathTrackerState, PathTracker, pathKey } from './path-tracker.js';
import { type SampleSettings, takeSample } from './sampler.js';
import type { StoredEvent, WatchStore } from './store.js';
import type { Sample, WatchEvent, WatchTarget } from './types.js';

export interface WatchClock {
  now(): number;
  /** Resolve at `at` (ms), or at once when aborted. */
  wait(at: number, signal: AbortSignal): Promise<void>;
  /** True: wait for each sample before the next (a scripted clock does not move by itself). */
  readonly sequential: boolean;
}

export const realClock: WatchClock = {
  now: () => Date.now(),
  wait: (at, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, at - Date.now()));
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
  sequential: false,
};

/** A clock that jumps to whatever time is waited for: simulated days pass as fast as the traces run. */
export function scriptedClock(start: number): WatchClock & { set(t: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (t) => {
      now = t;
    },
    wait: (at) =>
      new Promise((resolve) => {
        now = Math.max(now, at);
        setImmediate(resolve);
      }),
    sequential: true,
  };
}

export interface WatchOptions {
  targets: WatchTarget[];
  store: WatchStore;
  sample: SampleSettings;
  /** Samples in a row a new path or verdict needs before it counts as a change (default 3). */
  confirm?: number;
  episodes?: Partial<EpisodeSettings>;
  clock?: WatchClock;
  /** Stop after this many samples per target (a test, a bench); default: run until stop(). */
  samples?: number;
}

/** How an event reaches listeners: an instant change, or an episode opening or closing. */
export type EventPhase = 'change' | 'opened' | 'closed';

export interface WatchEvents {
  sample: [sample: Sample];
  event: [event: StoredEvent, phase: EventPhase];
  /** A sample could not be taken (no route, a trace error); the watch goes on. */
  warning: [message: string];
}

/** Everything the detectors know about a target; saved with each sample. */
interface TargetState {
  path: PathTrackerState;
  verdict: VerdictState;
  loss: EpisodeState;
  latency: EpisodeState;
  lossEvent: number | null;
  latencyEvent: number | null;
  everReached: boolean;
  /** The carriers of the last sample on the current path. */
  carriers: string[];
}

const freshState = (): TargetState => ({
  path: { path: null, candidate: null },
  verdict: { verdict: null, candidate: null },
  loss: emptyEpisode(),
  latency: emptyEpisode(),
  lossEvent: null,
  latencyEvent: null,
  everReached: false,
  carriers: [],
});

const HOUR_MS = 3_600_000;
/** Samples of one target measured at once at most (the next waits its turn or is skipped). */
const MAX_IN_FLIGHT = 2;

export class Watcher extends EventEmitter<WatchEvents> {
  readonly intervalMs: number;
  private readonly clock: WatchClock;
  private readonly confirm: number;
  private readonly episodes: EpisodeSettings;
  private readonly abort = new AbortController();
  private readonly states = new Map<string, TargetState>();
  private loops: Promise<void>[] = [];
  private lastMaintained = -1;
  /** Samples skipped because the previous two of the same target were still running. */
  skipped = 0;

  constructor(private readonly opts: WatchOptions) {
    super();
    this.intervalMs = opts.sample.intervalS * 1000;
    this.clock = opts.clock ?? realClock;
    this.confirm = opts.confirm ?? 3;
    this.episodes = { ...DEFAULT_EPISODES, ...opts.episodes };
    const names = new Set<string>();
    for (const t of opts.targets) {
      if (names.has(t.name)) throw new Error(`two watch targets are named ${t.name}`);
      names.add(t.name);
      opts.store.addTarget(t);
      this.states.set(t.name, { ...freshState(), ...opts.store.loadState<TargetState>(t.name) });
    }
  }

  get targets(): WatchTarget[] {
    return this.opts.targets;
  }

  /** Start every target's loop; resolves when all have ended (stop(), or `samples` reached). */
  run(): Promise<void> {
    this.loops = this.opts.targets.map((t, i) => this.loop(t, i));
    return Promise.all(this.loops).then(() => undefined);
  }

  /** Stop sampling; samples being measured are cut short and stored. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async loop(target: WatchTarget, index: number): Promise<void> {
    const signal = this.abort.signal;
    // Targets start spread over the first interval, not all in the same millisecond.
    let next = this.clock.now() + Math.floor((this.intervalMs * index) / this.opts.targets.length);
    let chain: Promise<void> = Promise.resolve();
    let inFlight = 0;
    for (let n = 0; this.opts.samples === undefined || n < this.opts.samples; n++) {
      await this.clock.wait(next, signal);
      if (signal.aborted) break;
      const t = next;
      next += this.intervalMs;
      // A machine that slept or stalled does not make up for lost intervals all at once.
      if (next < this.clock.now()) next = this.clock.now();
      if (inFlight >= MAX_IN_FLIGHT) {
        this.skipped++;
        continue;
      }
      inFlight++;
      const measured = this.measure(target, t, signal);
      chain = chain
        .then(() => measured)
        .then((s) => {
          if (s) this.process(target, s);
        })
        .catch((err: Error) => void this.emit('warning', `${target.name}: ${err.message}`))
        .finally(() => {
          inFlight--;
        });
      if (this.clock.sequential) await chain;
    }
    await chain;
  }

  private async measure(target: WatchTarget, t: number, signal: AbortSignal): Promise<Sample | null> {
    const state = this.states.get(target.name) as TargetState;
    try {
      return await takeSample(target, t, this.opts.sample, { everReached: state.everReached, signal });
    } catch (err) {
      this.emit('warning', `${target.name}: no sample at ${new Date(t).toISOString()}: ${(err as Error).message}`);
      return null;
    }
  }

  /** Run the detectors on one sample and store it with what it caused. */
  process(target: WatchTarget, s: Sample): void {
    const state = this.states.get(target.name) as TargetState;
    const newEvents: WatchEvent[] = [];
    const updated: StoredEvent[] = [];
    const announce: [WatchEvent, EventPhase][] = [];
    if (s.destinationTtl !== null) state.everReached = true;

    const tracker = new PathTracker(this.confirm, state.path);
    const change = tracker.observe(s.t, s.hops);
    if (change) {
      const e: WatchEvent = {
        target: target.name,
        type: 'route-change',
        start: change.at,
        end: null,
        before: { hops: change.before, carriers: state.carriers },
        after: { hops: change.after, carriers: s.carriers },
        evidence: { changedTtls: change.changedTtls, samples: this.confirm },
      };
      newEvents.push(e);
      announce.push([e, 'change']);
      // A new path has its own normal latency.
      state.latency.recent = [];
    }
    // Only a sample wholly on the path names its carriers (not one that also saw a path taking over).
    if (tracker.settled) state.carriers = s.carriers;
    state.path = tracker.snapshot();

    const verdict = observeVerdict(state.verdict, s, this.confirm);
    if (verdict) {
      const e: WatchEvent = {
        target: target.name,
        type: 'verdict-change',
        start: verdict.at,
        end: null,
        before: verdict.before,
        after: verdict.after,
        evidence: { samples: verdict.samples, carriers: s.carriers, confidence: s.confidence },
      };
      newEvents.push(e);
      announce.push([e, 'change']);
    }

    const episode = (type: 'loss' | 'latency', u: EpisodeUpdate, key: 'lossEvent' | 'latencyEvent'): void => {
      if (!u) return;
      const ep = u.episode;
      const e: WatchEvent =
        type === 'loss'
          ? {
              target: target.name,
              type,
              start: ep.start,
              end: ep.end,
              before: { loss: ep.normal },
              after: { loss: ep.worst, meanLoss: ep.sum / ep.samples },
              evidence: { samples: ep.samples, fromTtl: ep.fromTtl ?? null },
            }
          : {
              target: target.name,
              type,
              start: ep.start,
              end: ep.end,
              before: { baselineMs: ep.normal },
              after: { worstMs: ep.worst, meanMs: ep.sum / ep.samples },
              evidence: { samples: ep.samples },
            };
      if (u.kind === 'opened') {
        newEvents.push(e);
        announce.push([e, 'opened']);
      } else if (state[key] !== null) {
        const stored = { ...e, id: state[key] as number };
        updated.push(stored);
        announce.push([stored, 'closed']);
        state[key] = null;
      }
    };
    episode('loss', observeLoss(state.loss, s, this.intervalMs, this.episodes), 'lossEvent');
    episode('latency', observeLatency(state.latency, s, this.intervalMs, this.episodes), 'latencyEvent');

    const path = tracker.path;
    // Ids come back in the order the events were listed; an opened episode's id is kept to close it.
    const ids = this.opts.store.record({
      sample: s,
      path: path ? { key: pathKey(path), hops: path, ...(change ? { relabelFrom: change.at } : {}) } : null,
      newEvents,
      updatedEvents: updated,
      state: { ...state, path: state.path },
    });
    newEvents.forEach((e, i) => {
      if (ids[i] !== undefined) e.id = ids[i];
      if (e.type === 'loss' && e.end === null) state.lossEvent = ids[i] ?? null;
      if (e.type === 'latency' && e.end === null) state.latencyEvent = ids[i] ?? null;
    });
    if (newEvents.some((e) => (e.type === 'loss' || e.type === 'latency') && e.end === null))
      this.opts.store.saveState(target.name, state);
    this.emit('sample', s);
    for (const [e, phase] of announce) this.emit('event', e as StoredEvent, phase);
    const hour = Math.floor(this.clock.now() / HOUR_MS);
    if (hour !== this.lastMaintained) {
      this.lastMaintained = hour;
      this.opts.store.maintain(this.clock.now());
    }
  }
}
