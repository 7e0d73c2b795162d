// trace(): traceroute + ping in one, the library API under `vpsline mtr`.
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { VpslineError } from '../errors.js';
import { resolveTarget } from '../lookup/resolve.js';
import type { Family } from '../packet/address.js';
import type { IcmpSocketKind, ProbeEngine, ProbeMode, ProbeResult } from '../probe/engine.js';
import { defaultEngine } from '../probe/process-engine.js';
import type { ProbeProtocol } from '../probe/reply.js';
import { HopState, type HopSnapshot } from './hop.js';

export interface TraceOptions {
  /** 'auto' (default): ICMP when the machine allows it, else UDP. */
  protocol?: ProbeProtocol | 'auto';
  /** Force the ICMP socket kind (default: raw with CAP_NET_RAW, else ping). */
  icmpSocket?: IcmpSocketKind;
  /** Address family when the target is a name (default: what DNS gives first). */
  family?: Family;
  firstTtl?: number;
  maxTtl?: number;
  /** Seconds between rounds (mtr -i). */
  interval?: number;
  /** Rounds to run (mtr -c); Infinity runs until stop(). */
  cycles?: number;
  /** Whole packet size in bytes (mtr -s). */
  packetSize?: number;
  tos?: number;
  /** Seconds a probe may take before it counts as lost (mtr -Z). */
  timeout?: number;
  /** Unknown hops after the last known one before a round stops (mtr -U). */
  maxUnknown?: number;
  /** Seconds the last round's probes may take (mtr -G); at most `timeout`. */
  graceTime?: number;
  /** UDP destination port (fixed) or TCP destination port. */
  port?: number;
  /**
   * Constant-flow UDP (Paris traceroute): every probe of this trace uses the
   * same ports, so ECMP routers keep it on one path. Different flow numbers
   * take different source ports, to see several paths. Needs raw sockets.
   */
  flow?: number;
  /** Share sockets with other traces (default: the process-wide engine). */
  engine?: ProbeEngine;
}

export type EndReason = 'completed' | 'stopped';

/** What a trace ran with (after defaults). */
export interface TraceSettings {
  protocol: ProbeProtocol;
  firstTtl: number;
  maxTtl: number;
  interval: number;
  cycles: number;
  packetSize: number;
  tos: number;
  timeout: number;
  maxUnknown: number;
  port?: number;
  flow?: number;
}

export interface TraceReport {
  /** Target as given. */
  target: string;
  settings: TraceSettings;
  /** The address actually traced. */
  address: string;
  family: Family;
  mode: ProbeMode;
  source: string;
  startedAt: Date;
  endedAt: Date;
  endReason: EndReason;
  /** Rounds started. */
  rounds: number;
  /** Hops up to the destination (or the hop that said unreachable, or one past the last answer). */
  hops: HopSnapshot[];
  /** TTL at which the destination answered, if it did. */
  destinationTtl: number | null;
  /** Constant-flow traces: the flow's ports. */
  flow?: { index: number; srcPort: number; dstPort: number };
}

export interface ProbeEvent {
  ttl: number;
  round: number;
  result: ProbeResult;
}

export interface TraceEvents {
  start: [info: { address: string; family: Family; mode: ProbeMode }];
  /** A probe left; `key` is its identity on the wire (ICMP seq, UDP/TCP port). */
  sent: [event: { ttl: number; round: number; key: number }];
  probe: [event: ProbeEvent];
  hop: [hop: HopSnapshot];
  round: [round: number];
  end: [report: TraceReport];
  error: [err: Error];
}

const DEFAULTS = {
  firstTtl: 1,
  maxTtl: 30,
  interval: 1,
  cycles: 10,
  packetSize: 64,
  tos: 0,
  timeout: 2,
  maxUnknown: 12,
};

export class Trace extends EventEmitter<TraceEvents> {
  /**
   * Resolves with the final report when the trace ends; rejects when it cannot run
   * (bad target, no route, no permission).
   */
  readonly done: Promise<TraceReport>;
  readonly target: string;

  private readonly opts: Required<
    Omit<TraceOptions, 'engine' | 'family' | 'port' | 'icmpSocket' | 'flow' | 'graceTime'>
  > &
    Pick<TraceOptions, 'family' | 'port' | 'icmpSocket' | 'flow' | 'graceTime'>;
  private readonly engine: ProbeEngine;
  private readonly hops = new Map<number, HopState>();
  private address = '';
  private family: Family = 4;
  private mode: ProbeMode | undefined;
  private startedAt = new Date();
  private round = 0;
  private outstanding = 0;
  private destinationTtl: number | null = null;
  private unreachableTtl: number | null = null;
  private stopping = false;
  private paused = false;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  /** First round: the TTL just sent, and what sends the next one once it is settled. */
  private advance: { ttl: number; next: () => void } | undefined;
  private resolveDone!: (r: TraceReport) => void;
  private rejectDone!: (e: Error) => void;

  constructor(target: string, options: TraceOptions = {}) {
    super();
    this.target = target;
    this.opts = withDefaults(options);
    validate(this.opts);
    this.engine = options.engine ?? defaultEngine();
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only awaits `done` should not also get an unhandled 'error' event.
    this.on('error', () => {});
  }

  /** Resolve the target, open sockets (mode ladder) and start the rounds. */
  async start(): Promise<void> {
    try {
      const { address, family } = await resolveTarget(this.target, this.opts.family);
      this.address = address;
      this.family = family;
      this.mode =
        this.opts.flow !== undefined
          ? this.engine.prepareFlow(family, this.opts.protocol === 'tcp' ? 'tcp' : 'udp')
          : this.engine.prepare(family, this.opts.protocol, this.opts.icmpSocket);
      await this.engine.ready();
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.ended) return; // stopped while the target was being resolved
    this.startedAt = new Date();
    this.emit('start', { address: this.address, family: this.family, mode: this.mode });
    this.runRound();
  }

  /** Stop sending; the trace ends when the probes already out are settled. */
  stop(): void {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.maybeEnd();
  }

  /** Stop sending after the current round until resume(); probes already out still count. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.timer && !this.stopping && !this.ended) this.runRound();
  }

  /** The address being traced ('' until start() resolved it). */
  get resolvedAddress(): string {
    return this.address;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Forget all statistics (mtr's `r`); the path found so far is kept. */
  reset(): void {
    for (const [ttl, h] of this.hops) {
      const fresh = new HopState(ttl);
      fresh.address = h.address;
      this.hops.set(ttl, fresh);
    }
  }

  /** Current hops up to the display limit. */
  snapshot(): HopSnapshot[] {
    const last = this.displayLimit();
    const out: HopSnapshot[] = [];
    for (let ttl = this.opts.firstTtl; ttl <= last; ttl++) out.push(this.hop(ttl).snapshot());
    return out;
  }

  private hop(ttl: number): HopState {
    let h = this.hops.get(ttl);
    if (!h) {
      h = new HopState(ttl);
      this.hops.set(ttl, h);
    }
    return h;
  }

  /** Highest TTL worth probing this round. */
  private probeLimit(): number {
    const end = Math.min(this.destinationTtl ?? Infinity, this.unreachableTtl ?? Infinity);
    if (end !== Infinity) return end;
    return Math.min(this.opts.maxTtl, this.lastAnsweringTtl() + this.opts.maxUnknown);
  }

  private lastAnsweringTtl(): number {
    let last = this.opts.firstTtl - 1;
    for (const [ttl, h] of this.hops) if (h.received > 0 && ttl > last) last = ttl;
    return last;
  }

  /** Like mtr: up to the destination, else the unreachable hop, else one past the last answer. */
  private displayLimit(): number {
    const end = Math.min(this.destinationTtl ?? Infinity, this.unreachableTtl ?? Infinity);
    if (end !== Infinity) return end;
    return Math.min(this.opts.maxTtl, Math.max(this.lastAnsweringTtl() + 1, this.opts.firstTtl));
  }

  private runRound(): void {
    this.timer = undefined;
    if (this.stopping || this.paused) return;
    if (this.round >= this.opts.cycles) {
      this.stopping = true;
      this.maybeEnd();
      return;
    }
    this.round++;
    this.emit('round', this.round);
    const round = this.round;
    const intervalMs = this.opts.interval * 1000;
    const startedMs = performance.now();
    // The first round finds the path TTL by TTL, like mtr: the next TTL goes out when the
    // previous one is settled, or after a tenth of the interval (mtr's pace before it knows
    // the path), and none goes out past the destination once it has answered. Later rounds
    // spread the known TTLs evenly over the interval (gentler on ICMP rate limits).
    const discovering = round === 1;
    const gap = discovering ? intervalMs / 10 : intervalMs / Math.max(1, this.probeLimit() - this.opts.firstTtl + 1);
    const lastTtl = discovering ? this.opts.maxTtl : this.probeLimit();
    let ttl = this.opts.firstTtl;
    const more = (): boolean => ttl <= Math.min(lastTtl, this.probeLimit());
    const endRound = (): void => {
      if (round >= this.opts.cycles) {
        // The last round is out: the report ends as soon as its probes are settled.
        this.stopping = true;
        this.maybeEnd();
        return;
      }
      this.timer = setTimeout(() => this.runRound(), Math.max(0, startedMs + intervalMs - performance.now()));
    };
    const tick = (): void => {
      this.timer = undefined;
      this.advance = undefined;
      if (this.stopping || round !== this.round) return;
      if (!more()) {
        endRound();
        return;
      }
      const sent = ttl++;
      this.sendProbe(sent);
      if (this.ended) return;
      // While discovering, whether another TTL is needed is known once this one is settled.
      if (!discovering && !more()) {
        endRound();
        return;
      }
      if (discovering) this.advance = { ttl: sent, next: tick };
      this.timer = setTimeout(tick, gap);
    };
    tick();
  }

  private sendProbe(ttl: number): void {
    if (!this.mode) return; // rounds run only after start() chose the mode
    const hop = this.hop(ttl);
    const round = this.round;
    hop.recordSent();
    this.outstanding++;
    const request = {
      family: this.family,
      protocol: this.mode.protocol,
      dst: this.address,
      ttl,
      tos: this.opts.tos,
      size: this.opts.packetSize,
      timeoutMs: this.probeTimeout(round) * 1000,
      ...(this.opts.port !== undefined ? { port: this.opts.port } : {}),
      ...(this.opts.flow !== undefined ? { flow: this.opts.flow } : {}),
    };
    try {
      const key = this.engine.send(request, (result) => this.onResult(ttl, round, hop, result));
      this.emit('sent', { ttl, round, key });
    } catch (err) {
      this.outstanding--;
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Seconds a probe of `round` may take: the last round's wait is capped by the grace time. */
  private probeTimeout(round: number): number {
    const { timeout, graceTime, cycles } = this.opts;
    return graceTime !== undefined && round >= cycles ? Math.min(timeout, graceTime) : timeout;
  }

  private onResult(ttl: number, round: number, sentFrom: HopState, result: ProbeResult): void {
    this.outstanding--;
    if (result.status === 'error' && (result.error === 'ENETUNREACH' || result.error === 'EHOSTUNREACH')) {
      // The local machine has no route at all: nothing will ever come back.
      this.fail(
        new VpslineError(
          'EVPSLINE_NO_ROUTE',
          `No route to ${this.address} from this machine (${result.error}). ` +
            'Check the routing table or use -4/-6 for the other address family.',
        ),
      );
      return;
    }
    const hop = this.hop(ttl);
    // A probe sent before reset() belongs to statistics that are gone.
    if (hop === sentFrom) hop.record(result);
    const reply = result.reply;
    if (reply) {
      const atTarget = reply.from === this.address;
      if (atTarget && reply.kind !== 'time-exceeded') {
        if (this.destinationTtl === null || ttl < this.destinationTtl) this.destinationTtl = ttl;
      } else if (reply.kind === 'unreachable' && reply.unreachable && reply.unreachable !== 'port') {
        if (this.unreachableTtl === null || ttl < this.unreachableTtl) this.unreachableTtl = ttl;
      }
    }
    this.emit('probe', { ttl, round, result });
    if (ttl <= this.displayLimit()) this.emit('hop', hop.snapshot());
    const advance = this.advance;
    if (advance && advance.ttl === ttl && round === this.round && this.timer) {
      // Discovery: this TTL is settled, so the next one need not wait for the pace timer.
      // (Sent from a timer of its own, not from inside the engine's callback.)
      clearTimeout(this.timer);
      this.advance = undefined;
      this.timer = setTimeout(advance.next, 0);
    }
    this.maybeEnd();
  }

  /** A failure that makes the rest of the run pointless: `done` rejects with it. */
  private fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.emit('error', err);
    this.rejectDone(err);
  }

  private maybeEnd(): void {
    if (this.ended || !this.stopping || this.outstanding > 0) return;
    this.finish(this.round >= this.opts.cycles ? 'completed' : 'stopped');
  }

  private finish(reason: EndReason): void {
    if (this.ended) return;
    const mode = this.mode;
    if (!mode) {
      // stop() before start() had opened anything: there is no report to give.
      this.fail(new VpslineError('EVPSLINE_STOPPED', `The trace to ${this.target} was stopped before it started.`));
      return;
    }
    this.ended = true;
    const o = this.opts;
    const report: TraceReport = {
      target: this.target,
      settings: {
        protocol: mode.protocol,
        firstTtl: o.firstTtl,
        maxTtl: o.maxTtl,
        interval: o.interval,
        cycles: o.cycles,
        packetSize: o.packetSize,
        tos: o.tos,
        timeout: o.timeout,
        maxUnknown: o.maxUnknown,
        ...(o.port !== undefined ? { port: o.port } : {}),
        ...(o.flow !== undefined ? { flow: o.flow } : {}),
      },
      address: this.address,
      family: this.family,
      mode: mode,
      source: hostname(),
      startedAt: this.startedAt,
      endedAt: new Date(),
      endReason: reason,
      rounds: this.round,
      hops: this.snapshot(),
      destinationTtl: this.destinationTtl,
      ...(o.flow !== undefined
        ? {
            flow: {
              index: o.flow,
              srcPort: this.engine.flowPort(this.family, o.flow, mode.protocol === 'tcp' ? 'tcp' : 'udp'),
              dstPort: o.port ?? (mode.protocol === 'tcp' ? 80 : 33434),
            },
          }
        : {}),
    };
    this.emit('end', report);
    this.resolveDone(report);
  }
}

/** Start a trace. Await `trace(...).done` for the final report, or listen to its events. */
export function trace(target: string, options: TraceOptions = {}): Trace {
  const t = new Trace(target, options);
  void t.start();
  return t;
}

function withDefaults(o: TraceOptions): Trace['opts'] {
  return {
    protocol: o.protocol ?? 'auto',
    firstTtl: o.firstTtl ?? DEFAULTS.firstTtl,
    maxTtl: o.maxTtl ?? DEFAULTS.maxTtl,
    interval: o.interval ?? DEFAULTS.interval,
    cycles: o.cycles ?? DEFAULTS.cycles,
    packetSize: o.packetSize ?? DEFAULTS.packetSize,
    tos: o.tos ?? DEFAULTS.tos,
    timeout: o.timeout ?? DEFAULTS.timeout,
    maxUnknown: o.maxUnknown ?? DEFAULTS.maxUnknown,
    ...(o.family !== undefined ? { family: o.family } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.icmpSocket !== undefined ? { icmpSocket: o.icmpSocket } : {}),
    ...(o.flow !== undefined ? { flow: o.flow } : {}),
    ...(o.graceTime !== undefined ? { graceTime: o.graceTime } : {}),
  };
}

function bad(message: string): never {
  throw new VpslineError('EVPSLINE_BAD_OPTION', message, 2);
}

function validate(o: Trace['opts']): void {
  const int = (v: number, lo: number, hi: number, what: string): void => {
    if (!Number.isInteger(v) || v < lo || v > hi) bad(`${what} must be a whole number from ${lo} to ${hi} (got ${v}).`);
  };
  int(o.firstTtl, 1, 255, 'first TTL (-f)');
  int(o.maxTtl, 1, 255, 'max TTL (-m)');
  if (o.firstTtl > o.maxTtl) bad(`first TTL (-f ${o.firstTtl}) is larger than max TTL (-m ${o.maxTtl}).`);
  if (!(o.interval >= 0.01 && o.interval <= 3600))
    bad(`interval (-i) must be between 0.01 and 3600 seconds (got ${o.interval}).`);
  if (!(o.cycles === Infinity || (Number.isInteger(o.cycles) && o.cycles >= 1 && o.cycles <= 1_000_000)))
    bad(`cycles (-c) must be a whole number from 1 to 1000000 (got ${o.cycles}).`);
  int(o.packetSize, 28, 9000, 'packet size (-s)');
  int(o.tos, 0, 255, 'TOS (-Q)');
  if (!(o.timeout > 0 && o.timeout <= 60))
    bad(`probe timeout (-Z) must be between 0 and 60 seconds (got ${o.timeout}).`);
  int(o.maxUnknown, 1, 255, 'max unknown hops (-U)');
  if (o.graceTime !== undefined && !(o.graceTime > 0 && o.graceTime <= 60))
    bad(`grace time (-G) must be between 0 and 60 seconds (got ${o.graceTime}).`);
  if (o.port !== undefined) int(o.port, 1, 65535, 'port (-P)');
  if (o.flow !== undefined) {
    int(o.flow, 0, 1023, 'flow');
    if (o.protocol === 'icmp')
      bad('constant-flow probes (--flows) are UDP or TCP (-T); ICMP probes follow one path already.');
  }
  if (!['auto', 'icmp', 'udp', 'tcp'].includes(o.protocol))
    bad(`protocol must be icmp, udp or tcp (got ${String(o.protocol)}).`);
}
