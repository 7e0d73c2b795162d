// The process's probe engine: one per thread, shared by every trace in it,
// and the one place where sockets are opened while the process is still
// privileged and every capability is given up afterwards.
import type { Family } from '../packet/address.js';
import { type IcmpSocketKind, ProbeEngine, type ProbeMode } from './engine.js';
import type { ProbeProtocol } from './reply.js';

let shared: ProbeEngine | undefined;

/** The engine traces share unless given their own (one per thread). */
export function defaultEngine(): ProbeEngine {
  shared ??= new ProbeEngine();
  return shared;
}

/** Sockets a command will need, opened before capabilities are dropped. */
export interface SocketNeed {
  family: Family;
  protocol: ProbeProtocol | 'auto';
  icmpSocket?: IcmpSocketKind;
  /** Constant-flow probes: this many flows (raw sockets and one source port each). */
  flows?: number;
}

export interface PrivilegedSetup {
  needs: SocketNeed[];
  /**
   * Needs that cannot be met are skipped rather than fatal: the traces that
   * need them fail later with the reason (a looking glass on a host without
   * IPv6, a backtrace row). Otherwise the first failure is thrown.
   */
  optional?: boolean;
  /** Keep capabilities (for tests and debugging). */
  keepCapabilities?: boolean;
  /** Anything else that needs privileges, such as listening on port 80: runs before the drop. */
  whilePrivileged?: () => Promise<void>;
}

/** What was opened: one mode per need, or the error that need met. */
export type OpenedSocket = { need: SocketNeed; mode: ProbeMode } | { need: SocketNeed; error: unknown };

/**
 * Open the sockets of every need, run `whilePrivileged`, then drop every
 * capability of every thread (unless kept). Raw sockets stay usable after
 * the drop; nothing can open new ones.
 */
export async function openThenDropPrivileges(engine: ProbeEngine, setup: PrivilegedSetup): Promise<OpenedSocket[]> {
  const opened: OpenedSocket[] = [];
  for (const need of setup.needs) {
    try {
      opened.push({ need, mode: open(engine, need) });
    } catch (error) {
      if (!setup.optional) throw error;
      opened.push({ need, error });
    }
  }
  await setup.whilePrivileged?.();
  if (!setup.keepCapabilities) engine.dropCapabilities();
  return opened;
}

function open(engine: ProbeEngine, need: SocketNeed): ProbeMode {
  if (!need.flows) return engine.prepare(need.family, need.protocol, need.icmpSocket);
  const protocol = need.protocol === 'tcp' ? 'tcp' : 'udp';
  const mode = engine.prepareFlow(need.family, protocol);
  for (let i = 0; i < need.flows; i++) engine.flowPort(need.family, i, protocol);
  return mode;
}
