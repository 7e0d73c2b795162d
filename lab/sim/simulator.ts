// Runs a scenario: a TUN device in a fresh namespace, fed by tunpump, with
// PathSimulator deciding the answers, all in a process of its own (main.ts).
// The client (the tracer under test) runs in the same namespace and reaches
// the simulated path through the TUN route.
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { Lab, Netns } from '../netns.js';
import { CLIENT_V4, CLIENT_V6 } from './addresses.js';
import type { ProbeTruth, SimCounters } from './path.js';
import type { Scenario } from './scenario.js';

export { CLIENT_V4, CLIENT_V6 } from './addresses.js';
export { findTruth, type ProbeIdentity, type ProbeTruth, truthRttMs } from './path.js';

const root = new URL('../../', import.meta.url).pathname;
const source = `${root}lab/sim/tunpump.c`;
const binary = `${root}build/lab/tunpump`;

/** Compile tunpump once (it is test tooling, not part of the package). */
export function tunpumpBinary(): string {
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(`${root}build/lab`, { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-o', binary, source]);
  }
  return binary;
}

export interface SimStats {
  counters: SimCounters;
  /** Probes seen per TOS / traffic class value. */
  tosSeen: Map<number, number>;
}

export class Simulator {
  /** Ids matching IPC questions to their answers. */
  private truthQueries = 0;

  private constructor(
    readonly ns: Netns,
    private readonly child: ChildProcess,
    /** CLOCK_MONOTONIC (ns) of the truth's time 0, to line its stamps up with other clocks. */
    readonly monotonicZeroNs: bigint,
  ) {}

  /** Start the simulated path in a new namespace of `lab`. */
  static async start(lab: Lab, scenario: Scenario, opts: { seed?: number } = {}): Promise<Simulator> {
    const ns = lab.namespace('sim');
    const child = lab.spawn(
      ns,
      process.execPath,
      ['--import', 'tsx', `${root}lab/sim/main.ts`, tunpumpBinary(), JSON.stringify(scenario), String(opts.seed ?? 1)],
      {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const zeroNs = await new Promise<bigint>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
      child.on(
        'message',
        (m: { type: string; zeroNs?: string }) => m.type === 'ready' && resolve(BigInt(m.zeroNs ?? 0)),
      );
    });
    ns.ip('link', 'set', 'sim0', 'up');
    ns.ip('addr', 'add', `${CLIENT_V4}/24`, 'dev', 'sim0');
    ns.ip('-6', 'addr', 'add', `${CLIENT_V6}/64`, 'dev', 'sim0', 'nodad');
    ns.ip('route', 'add', '198.18.0.0/15', 'dev', 'sim0');
    ns.ip('-6', 'route', 'add', '2001:2::/48', 'dev', 'sim0');
    ns.sysctl('net.ipv4.ping_group_range', '0 2147483647');
    ns.sysctl('net.ipv4.conf.all.rp_filter', '0');
    ns.sysctl('net.ipv4.conf.sim0.rp_filter', '0');
    return new Simulator(ns, child, zeroNs);
  }

  /**
   * Answer from now on as `scenario` says (a route change under a running
   * tracer). The TUN routes stay, so its targets must be the old ones'.
   * Resolves once the simulator has switched.
   */
  setScenario(scenario: Scenario): Promise<void> {
    const id = ++this.truthQueries;
    return new Promise((resolve) => {
      const onMessage = (m: { type: string; id?: number }): void => {
        if (m.type !== 'scenario' || m.id !== id) return;
        this.child.off('message', onMessage);
        resolve();
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'scenario', scenario, id });
    });
  }

  /** What the simulator has seen and done so far. */
  stats(): Promise<SimStats> {
    return new Promise((resolve) => {
      const onMessage = (m: { type: string; counters: SimCounters; tosSeen: [number, number][] }): void => {
        if (m.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve({ counters: m.counters, tosSeen: new Map(m.tosSeen) });
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' });
    });
  }

  /**
   * Every probe the path has seen from index `from` on (0: since the start),
   * in arrival order, with its arrival and its answer's real emission: the
   * truth a tracer's RTTs are checked against. Ask after the tracer is done,
   * so that every answer has left.
   */
  async truth(from = 0): Promise<ProbeTruth[]> {
    return (await this.queryTruth(from)).probes;
  }

  /** How many probes the path has seen so far: `truth(mark)` later returns only the ones after it. */
  async truthMark(): Promise<number> {
    return (await this.queryTruth(Number.MAX_SAFE_INTEGER)).total;
  }

  private queryTruth(from: number): Promise<{ total: number; probes: ProbeTruth[] }> {
    const id = ++this.truthQueries;
    return new Promise((resolve) => {
      const onMessage = (m: { type: string; id?: number; total: number; probes: ProbeTruth[] }): void => {
        if (m.type !== 'truth' || m.id !== id) return;
        this.child.off('message', onMessage);
        resolve({ total: m.total, probes: m.probes });
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'truth', from, id });
    });
  }
}
