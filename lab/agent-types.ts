// What the lab agent is asked to do and what it answers.
import type { MplsLabel } from '../src/packet/icmp.js';
import type { EngineCounters } from '../src/probe/engine.js';
import type { HopSnapshot } from '../src/trace/hop.js';
import type { TraceOptions } from '../src/trace/trace.js';

export interface AgentJob {
  target: string;
  trace: Omit<TraceOptions, 'engine'>;
  /** Keep the agent's event loop busy meanwhile. */
  busy?: { busyMs: number; periodMs: number };
}

export interface AgentProbe {
  ttl: number;
  round: number;
  status: string;
  rttMs: number | null;
  key: number;
  from?: string;
  kind?: string;
  kernelTime?: boolean;
  /** The send time is the kernel's send stamp. */
  kernelSendTime?: boolean;
  mpls?: MplsLabel[];
}

export interface AgentResult {
  report: {
    target: string;
    address: string;
    mode: { protocol: string; socket: string; fallbacks: string[] };
    hops: HopSnapshot[];
    destinationTtl: number | null;
    endReason: string;
    rounds: number;
  };
  counters: EngineCounters;
  probes: AgentProbe[];
  loopUtilization: number;
}
