// Which path a target's samples take, and when it really changes.
//
// A path is, per TTL, the set of addresses that answered there: a router that
// balances load (ECMP) shows as one TTL with two branches, not as two paths.
// A sample whose every hop is a known branch is on the path. An address
// answering beside a known one is a branch on probation: it joins the path
// when a later sample shows the known ones there again (a route that changes
// inside an interval shows both paths in that sample, then the new one only;
// the change is dated at that sample).
// A sample with a TTL where only unknown addresses answered starts a
// candidate; if the old addresses come back before `confirm` samples in a row took the candidate,
// the new ones were branches and join the path; otherwise the route changed,
// at the candidate's first sample. One alternation or one odd sample is never
// an event.
import type { HopSample } from './types.js';

/** TTL -> addresses seen there (kept sorted). */
export type PathHops = Record<string, string[]>;

export interface RouteChange {
  /** The first sample on the new path. */
  at: number;
  before: PathHops;
  after: PathHops;
  /** TTLs whose addresses differ. */
  changedTtls: number[];
}

export interface PathTrackerState {
  path: PathHops | null;
  /** Addresses seen beside known ones, not yet part of the path (absent in states saved before it existed). */
  probation?: PathHops;
  /** The first sample that showed the addresses on probation. */
  probationSince?: number;
  /** Samples that showed only unknown addresses at some TTLs (`ttls`), since `since`. */
  candidate: { since: number; count: number; hops: PathHops; ttls: number[]; oldTtls: number[] } | null;
}

export function hopsOf(hops: readonly HopSample[]): PathHops {
  const out: PathHops = {};
  for (const h of hops) if (h.addresses.length) out[h.ttl] = [...h.addresses].sort();
  return out;
}

function merge(into: PathHops, more: PathHops): PathHops {
  const out: PathHops = { ...into };
  for (const [ttl, addrs] of Object.entries(more)) out[ttl] = [...new Set([...(out[ttl] ?? []), ...addrs])].sort();
  return out;
}

/** One line per path, the same for the same branches: the path's identity in the store. */
export function pathKey(path: PathHops): string {
  return Object.keys(path)
    .map(Number)
    .sort((a, b) => a - b)
    .map((ttl) => `${ttl}=${(path[ttl] ?? []).join(',')}`)
    .join(' ');
}

export class PathTracker {
  private state: PathTrackerState;

  constructor(
    readonly confirm = 3,
    state?: PathTrackerState,
  ) {
    this.state = state ?? { path: null, candidate: null };
  }

  get path(): PathHops | null {
    return this.state.path;
  }

  /** The path samples are being counted to: the candidate while one is open. */
  get pending(): { since: number; hops: PathHops } | null {
    return this.state.candidate;
  }

  /** The last sample showed nothing off the path: no candidate open, no address on probation. */
  get settled(): boolean {
    return !this.state.candidate && !Object.keys(this.state.probation ?? {}).length;
  }

  snapshot(): PathTrackerState {
    return structuredClone(this.state);
  }

  /** Take one sample (in time order); a confirmed change is returned once. */
  observe(t: number, hops: readonly HopSample[]): RouteChange | null {
    const seen = hopsOf(hops);
    const s = this.state;
    if (!s.path) {
      if (Object.keys(seen).length) s.path = seen;
      return null;
    }
    // Addresses answering beside a known one at the same TTL may be branches of it: they join the path once
    // a later sample shows the known ones there again. Until then they are no part of it, so that a route
    // changing inside an interval (both paths in that sample, the new one after) is still a change.
    const novel: PathHops = {};
    const branches: PathHops = {};
    const probation: PathHops = { ...s.probation };
    for (const [ttl, addrs] of Object.entries(seen)) {
      const known = new Set(s.path[ttl] ?? []);
      if (probation[ttl] && addrs.some((a) => known.has(a))) {
        branches[ttl] = probation[ttl];
        for (const a of probation[ttl]) known.add(a);
        delete probation[ttl];
      }
      const fresh = addrs.filter((a) => !known.has(a));
      if (!fresh.length) continue;
      if (fresh.length < addrs.length) probation[ttl] = [...new Set([...(probation[ttl] ?? []), ...fresh])].sort();
      else novel[ttl] = addrs;
    }
    s.path = merge(s.path, branches);
    // A candidate made of addresses on probation began in the sample that first showed them.
    const onProbation = Object.entries(novel).every(([ttl, addrs]) => addrs.every((a) => probation[ttl]?.includes(a)));
    const candidateSince = onProbation ? (s.probationSince ?? t) : t;
    s.probation = probation;
    if (!Object.keys(probation).length) delete s.probationSince;
    else s.probationSince ??= t;
    if (!Object.keys(novel).length) {
      // Known addresses again where the candidate differed: what it saw were branches. A sample
      // silent at those TTLs says nothing either way.
      if (s.candidate?.ttls.some((ttl) => seen[ttl])) {
        s.path = merge(s.path, s.candidate.hops);
        s.candidate = null;
      }
      return null;
    }
    const novelTtls = Object.keys(novel).map(Number);
    const oldTtls = Object.keys(seen)
      .map(Number)
      .filter((ttl) => !novel[ttl]);
    // New addresses where the candidate's samples still showed the old path: the candidate was a branch of
    // the old path (it joins it), and this sample starts a candidate of its own.
    if (s.candidate && novelTtls.some((ttl) => s.candidate?.oldTtls.includes(ttl))) {
      s.path = merge(s.path, s.candidate.hops);
      s.candidate = null;
    }
    s.candidate = s.candidate
      ? {
          since: s.candidate.since,
          count: s.candidate.count + 1,
          hops: merge(s.candidate.hops, seen),
          ttls: [...new Set([...s.candidate.ttls, ...novelTtls])],
          oldTtls: [...new Set([...s.candidate.oldTtls, ...oldTtls])],
        }
      : { since: candidateSince, count: 1, hops: seen, ttls: novelTtls, oldTtls };
    if (s.candidate.count < this.confirm) return null;
    const before = s.path;
    const after = s.candidate.hops;
    const ttls = new Set([...Object.keys(before), ...Object.keys(after)].map(Number));
    const changedTtls = [...ttls]
      .filter((ttl) => (before[ttl] ?? []).join() !== (after[ttl] ?? []).join())
      .sort((a, b) => a - b);
    s.path = after;
    const at = s.candidate.since;
    s.candidate = null;
    s.probation = {};
    delete s.probationSince;
    return { at, before, after, changedTtls };
  }
}
