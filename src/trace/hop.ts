// State of one TTL of a trace: probes sent, replies, responders, statistics.
import type { MplsLabel, UnreachableReason } from '../packet/icmp.js';
import type { ProbeResult } from '../probe/engine.js';
import { LatencyAccumulator, type LatencyStats } from './stats.js';

/** One address that answered at a hop (several under ECMP). */
export interface Responder {
  address: string;
  /** Replies from this address. */
  received: number;
  stats: LatencyStats;
  mpls?: MplsLabel[];
}

/** A hop as reports and live views see it. */
export interface HopSnapshot {
  ttl: number;
  /** Newest responder, as mtr's report shows it; null while nobody answered. */
  address: string | null;
  responders: Responder[];
  sent: number;
  received: number;
  /** Probes that timed out (mtr Drop). */
  lost: number;
  /** Probes still waiting for an answer. */
  inFlight: number;
  /** Loss in percent over probes that are settled (answered or timed out). */
  lossPercent: number;
  stats: LatencyStats;
  mpls?: MplsLabel[];
  /** The hop answered "destination unreachable" (not the target's port unreachable). */
  unreachable?: UnreachableReason;
  /** Replies whose RTT was discarded because the wall clock was stepped. */
  untimed: number;
}

export class HopState {
  sent = 0;
  received = 0;
  lost = 0;
  untimed = 0;
  address: string | null = null;
  mpls: MplsLabel[] | undefined;
  unreachable: UnreachableReason | undefined;
  private readonly latency = new LatencyAccumulator();
  private readonly responders = new Map<
    string,
    { received: number; latency: LatencyAccumulator; mpls?: MplsLabel[] }
  >();

  constructor(readonly ttl: number) {}

  recordSent(): void {
    this.sent++;
  }

  record(result: ProbeResult): void {
    if (result.status !== 'reply' || !result.reply) {
      this.lost++;
      return;
    }
    const reply = result.reply;
    this.received++;
    this.address = reply.from;
    this.mpls = reply.mpls;
    if (reply.kind === 'unreachable' && reply.unreachable && reply.unreachable !== 'port')
      this.unreachable = reply.unreachable;
    let r = this.responders.get(reply.from);
    if (!r) {
      r = { received: 0, latency: new LatencyAccumulator() };
      this.responders.set(reply.from, r);
    }
    r.received++;
    if (reply.mpls) r.mpls = reply.mpls;
    if (result.rttMs === null) {
      this.untimed++;
      return;
    }
    this.latency.add(result.rttMs);
    r.latency.add(result.rttMs);
  }

  snapshot(): HopSnapshot {
    const settled = this.received + this.lost;
    const snap: HopSnapshot = {
      ttl: this.ttl,
      address: this.address,
      responders: [...this.responders].map(([address, r]) => {
        const out: Responder = { address, received: r.received, stats: r.latency.snapshot() };
        if (r.mpls) out.mpls = r.mpls;
        return out;
      }),
      sent: this.sent,
      received: this.received,
      lost: this.lost,
      inFlight: this.sent - settled,
      lossPercent: settled ? (100 * this.lost) / settled : 0,
      stats: this.latency.snapshot(),
      untimed: this.untimed,
    };
    if (this.mpls) snap.mpls = this.mpls;
    if (this.unreachable) snap.unreachable = this.unreachable;
    return snap;
  }
}
