// Generators of trace reports for the property tests, built from the real
// types (TraceReport, HopSnapshot, Responder) and the real accumulator: each
// hop is a list of probe outcomes (lost, or a reply from one of its
// responders with an RTT, or untimed) folded the way HopState folds them, so
// the counts, loss and statistics agree as they do in a real trace.
// Shapes: silent destination, nothing answering, loss anywhere, one hop to
// 255 hops, ECMP responders, unreachable codes, MPLS labels, RTTs from 0 to
// minutes, and hops still waiting for answers (live views).
import fc from 'fast-check';
import type { MplsLabel, UnreachableReason } from '../../src/packet/icmp.js';
import type { HopSnapshot, Responder } from '../../src/trace/hop.js';
import { LatencyAccumulator } from '../../src/trace/stats.js';
import type { TraceReport } from '../../src/trace/trace.js';

// A failing property prints the assertion that failed, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true });

/** Runs per property times PROPERTY_SCALE (default 1: a few seconds per file; raise it for a deep search). */
export const runs = (n: number): number => Math.max(1, Math.round(n * Number(process.env.PROPERTY_SCALE ?? 1)));

/** RTTs in ms: mostly ordinary, also zero, sub-microsecond and minutes (-Z 120). */
export const rtt: fc.Arbitrary<number> = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: 0.01, max: 400, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 0.01, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.double({ min: 400, max: 120_000, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, Number.MIN_VALUE, 1e-9, 0.05, 0.95, 999.95, 1000, 99_999.96) },
);

const octet = fc.integer({ min: 0, max: 255 });
/** Lab, carrier, private and IPv6 addresses (carrier ones so the classifier has evidence). */
export const address: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(octet, octet).map(([a, b]) => `198.18.${a}.${b}`),
  fc
    .tuple(fc.constantFrom('59.43', '202.97', '219.158', '223.120', '221.183', '69.194'), octet, octet)
    .map(([p, a, b]) => `${p}.${a}.${b}`),
  fc.tuple(octet, octet).map(([a, b]) => `10.${a}.${b}.1`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `2001:2::${x.toString(16)}`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `2400:9380:9000::${x.toString(16)}`),
);

export const mplsLabel: fc.Arbitrary<MplsLabel> = fc.record({
  label: fc.integer({ min: 0, max: 1_048_575 }),
  tc: fc.integer({ min: 0, max: 7 }),
  s: fc.integer({ min: 0, max: 1 }),
  ttl: fc.integer({ min: 0, max: 255 }),
});

export const unreachableReason: fc.Arbitrary<Exclude<UnreachableReason, 'port'>> = fc.constantFrom(
  'net',
  'host',
  'protocol',
  'prohibited',
  'fragmentation',
  'other',
);

/** One probe: lost (null), or a reply from responder `from` (index) with an RTT or none (clock step). */
export type Outcome = null | { from: number; rtt: number | null };

export interface HopPlan {
  responders: string[];
  /** MPLS labels per responder (undefined: none). */
  mpls: (MplsLabel[] | undefined)[];
  outcomes: Outcome[];
  /** Probes still out (live views only). */
  inFlight: number;
  unreachable?: UnreachableReason;
}

/** The snapshot HopState would give after these outcomes. */
export function buildHop(ttl: number, plan: HopPlan): HopSnapshot {
  const all = new LatencyAccumulator();
  const per = new Map<string, { received: number; acc: LatencyAccumulator; mpls?: MplsLabel[] }>();
  let received = 0;
  let lost = 0;
  let untimed = 0;
  let last: string | null = null;
  let lastMpls: MplsLabel[] | undefined;
  for (const o of plan.outcomes) {
    if (o === null) {
      lost++;
      continue;
    }
    const i = o.from % plan.responders.length;
    const from = plan.responders[i] ?? '198.18.0.1';
    const mpls = plan.mpls[i];
    received++;
    last = from;
    lastMpls = mpls;
    let r = per.get(from);
    if (!r) {
      r = { received: 0, acc: new LatencyAccumulator() };
      per.set(from, r);
    }
    r.received++;
    if (mpls) r.mpls = mpls;
    if (o.rtt === null) {
      untimed++;
      continue;
    }
    all.add(o.rtt);
    r.acc.add(o.rtt);
  }
  const settled = received + lost;
  const hop: HopSnapshot = {
    ttl,
    address: last,
    responders: [...per].map(([a, r]) => {
      const out: Responder = { address: a, received: r.received, stats: r.acc.snapshot() };
      if (r.mpls) out.mpls = r.mpls;
      return out;
    }),
    sent: settled + plan.inFlight,
    received,
    lost,
    inFlight: plan.inFlight,
    lossPercent: settled ? (100 * lost) / settled : 0,
    stats: all.snapshot(),
    untimed,
  };
  if (lastMpls) hop.mpls = lastMpls;
  if (plan.unreachable && received > 0) hop.unreachable = plan.unreachable;
  return hop;
}

const outcome = (responders: number): fc.Arbitrary<Outcome> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    {
      weight: 3,
      arbitrary: fc.record({
        from: fc.nat(responders - 1),
        rtt: fc.option(rtt, { freq: 12, nil: null }),
      }),
    },
  );

/** A hop that answers (at least one reply), with ECMP responders, loss and MPLS at random. */
function answeringHop(probes: number, live: boolean, fixed?: string): fc.Arbitrary<HopPlan> {
  return fc
    .record({
      responders: fixed ? fc.constant<string[]>([fixed]) : fc.uniqueArray(address, { minLength: 1, maxLength: 4 }),
      mplsOn: fc.boolean(),
      labels: fc.array(fc.array(mplsLabel, { minLength: 1, maxLength: 3 }), { minLength: 4, maxLength: 4 }),
      inFlight: live ? fc.integer({ min: 0, max: 2 }) : fc.constant(0),
      seed: fc.nat(),
    })
    .chain((r) =>
      fc
        .array(outcome(r.responders.length), { minLength: probes, maxLength: probes })
        // At least one reply, so the hop answers.
        .map((o): Outcome[] => (o.some((x) => x !== null) ? o : [{ from: 0, rtt: 1 }, ...o.slice(1)]))
        .map(
          (outcomes): HopPlan => ({
            responders: r.responders,
            mpls: r.responders.map((_, i) => (r.mplsOn && (r.seed >> i) & 1 ? r.labels[i] : undefined)),
            outcomes,
            inFlight: r.inFlight,
          }),
        ),
    );
}

function silentHop(probes: number, live: boolean): fc.Arbitrary<HopPlan> {
  return (live ? fc.integer({ min: 0, max: 2 }) : fc.constant(0)).map((inFlight) => ({
    responders: ['198.18.0.1'],
    mpls: [],
    outcomes: Array.from({ length: live ? Math.max(0, probes - inFlight) : probes }, () => null),
    inFlight,
  }));
}

/** A hop's plan: answering (maybe through ECMP, lossy, MPLS) or silent. */
export const hopPlan = (probes: number, live = false): fc.Arbitrary<HopPlan> =>
  fc.oneof({ weight: 3, arbitrary: answeringHop(probes, live) }, { weight: 1, arbitrary: silentHop(probes, live) });

/** n RTTs spread evenly over mean +- half, in a random order: a jittery link with a known spread. */
export function spread(mean: number, half: number, n: number): fc.Arbitrary<number[]> {
  const even = Array.from({ length: n }, (_, i) => mean - half + (n > 1 ? (2 * half * i) / (n - 1) : half));
  return fc.shuffledSubarray(even, { minLength: n, maxLength: n });
}

/** A hop answering every probe from one address with these RTTs. */
export function steadyHop(ttl: number, samples: number[]): HopSnapshot {
  return buildHop(ttl, {
    responders: [`198.18.${ttl}.1`],
    mpls: [],
    outcomes: samples.map((x) => ({ from: 0, rtt: x })),
    inFlight: 0,
  });
}

export type Ending = 'answered' | 'silent' | 'unreachable' | 'all-silent';

export interface ReportShape {
  hops?: { min: number; max: number };
  endings?: Ending[];
  /** Hops may have probes in flight (a live view's snapshot). */
  live?: boolean;
}

/**
 * A report as trace() ends it: hops firstTtl..end, every hop sent the same
 * number of probes; the destination answered at the last hop, or stayed
 * silent (one silent hop after the last answer, as mtr shows it), or a hop
 * said unreachable, or nothing answered at all.
 */
export function report(shape: ReportShape = {}): fc.Arbitrary<TraceReport> {
  const { min, max } = shape.hops ?? { min: 1, max: 12 };
  const live = shape.live ?? false;
  return fc
    .record({
      count: fc.integer({ min, max }),
      firstTtl: fc.oneof(
        { weight: 4, arbitrary: fc.constant(1) },
        { weight: 1, arbitrary: fc.integer({ min: 2, max: 20 }) },
      ),
      probes: fc.integer({ min: 1, max: 12 }),
      ending: fc.constantFrom(...(shape.endings ?? (['answered', 'silent', 'unreachable', 'all-silent'] as Ending[]))),
      target: address,
      reason: unreachableReason,
      // Which hops answer (middle hops may be silent or not).
      answers: fc.array(fc.boolean(), { minLength: 256, maxLength: 256 }),
      protocol: fc.constantFrom('icmp', 'udp', 'tcp' as const),
      family: fc.constantFrom(4 as const, 6 as const),
      cutShort: fc.boolean(),
    })
    .chain((p) => {
      const firstTtl = Math.min(p.firstTtl, 256 - p.count);
      const ttls = Array.from({ length: p.count }, (_, i) => firstTtl + i);
      const lastTtl = firstTtl + p.count - 1;
      const plans = ttls.map((_, i) => {
        const isLast = i === p.count - 1;
        if (p.ending === 'all-silent') return silentHop(p.probes, live);
        if (isLast) {
          if (p.ending === 'answered') return answeringHop(p.probes, live, p.target);
          if (p.ending === 'unreachable')
            return answeringHop(p.probes, live).map((h) => ({ ...h, unreachable: p.reason }));
          // Silent: the hop after the last answer, unless the path was cut at -m.
          return p.cutShort ? answeringHop(p.probes, live) : silentHop(p.probes, live);
        }
        return p.answers[i] ? answeringHop(p.probes, live) : silentHop(p.probes, live);
      });
      return fc.tuple(...plans).map((hopPlans): TraceReport => {
        const hops = hopPlans.map((plan, i) => buildHop(firstTtl + i, plan));
        const start = new Date(Date.UTC(2026, 10, 28, 4, 39, 5));
        return {
          target: p.target,
          settings: {
            protocol: p.protocol,
            firstTtl,
            maxTtl: p.ending === 'silent' && p.cutShort ? lastTtl : Math.max(30, lastTtl),
            interval: 1,
            cycles: p.probes,
            packetSize: 64,
            tos: 0,
            timeout: 2,
            maxUnknown: 12,
          },
          address: p.target,
          family: p.family,
          mode: { protocol: p.protocol, socket: p.protocol === 'icmp' ? 'raw' : p.protocol, fallbacks: [] },
          source: 'vm',
          startedAt: start,
          endedAt: new Date(start.getTime() + 1000 * p.probes),
          endReason: 'completed',
          rounds: p.probes,
          hops,
          destinationTtl: p.ending === 'answered' ? lastTtl : null,
        };
      });
    });
}

/** The TTLs a report has. */
export const ttlsOf = (r: TraceReport): Set<number> => new Set(r.hops.map((h) => h.ttl));
