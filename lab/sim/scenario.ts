// Scenario files: a simulated network path described in YAML for people.
//
//   name: twenty-ms
//   paths:
//     - target: { v4: 198.18.200.1, v6: "2001:2:0:200::1" }
//       hops:
//         - { v4: 198.18.100.1, v6: "2001:2:0:100::1" }
//         - v4: [198.18.101.1, 198.18.101.2]   # ECMP: one address per flow
//           v6: "2001:2:0:101::1"
//           delay: 20ms          # round-trip time this link adds (carried on)
//           jitter: 0.2ms        # +- uniform, per packet
//           loss: 10%            # probes lost on this link (carried on)
//           reply-delay: 5ms     # slow ICMP generation at this hop only
//           reply-loss: 30%      # this hop's own answers lost (not carried on)
//           rate-limit: { per-second: 10, burst: 5 }
//           silent: true         # forwards, never answers
//           mpls: [{ label: 24005, tc: 0, s: 1, ttl: 1 }]
//           quote: 8             # bytes quoted after the IP header (default: as much as fits)
//           unreachable: net     # answers "unreachable" instead of forwarding: net|host|prohibited
//       destination: { delay: 1ms, loss: 0%, icmp: echo, udp: port-unreachable, tcp: rst }
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { MplsLabel } from '../../src/packet/icmp.js';

export interface AddressPair {
  v4: string[];
  v6: string[];
}

export interface HopSpec extends AddressPair {
  delayMs: number;
  jitterMs: number;
  loss: number;
  replyDelayMs: number;
  replyLoss: number;
  rateLimit?: { perSecond: number; burst: number };
  silent: boolean;
  mpls?: MplsLabel[];
  quote?: number;
  unreachable?: 'net' | 'host' | 'prohibited';
  ecmp: 'flow' | 'packet';
}

export interface DestinationSpec {
  delayMs: number;
  jitterMs: number;
  loss: number;
  icmp: 'echo' | 'silent';
  udp: 'port-unreachable' | 'silent';
  tcp: 'syn-ack' | 'rst' | 'silent';
}

export interface PathSpec {
  target: { v4?: string; v6?: string };
  hops: HopSpec[];
  destination: DestinationSpec;
}

export interface Scenario {
  name: string;
  description?: string;
  paths: PathSpec[];
}

class ScenarioError extends Error {}

function duration(v: unknown, where: string): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^\s*([0-9.]+)\s*(us|µs|ms|s)\s*$/.exec(String(v));
  if (!m) throw new ScenarioError(`${where}: ${JSON.stringify(v)} is not a duration like 20ms, 150us or 1s`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'ms' ? n : n / 1000;
}

function fraction(v: unknown, where: string): number {
  if (v === undefined) return 0;
  const m = /^\s*([0-9.]+)\s*%?\s*$/.exec(String(v));
  const n = m ? Number(m[1]) : NaN;
  const f = String(v).includes('%') ? n / 100 : n;
  if (!(f >= 0 && f <= 1)) throw new ScenarioError(`${where}: ${JSON.stringify(v)} is not a share like 10% or 0.1`);
  return f;
}

function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], fallback: T, where: string): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T))
    throw new ScenarioError(`${where}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  return v as T;
}

type Raw = Record<string, unknown>;

function hop(raw: Raw, where: string): HopSpec {
  const h: HopSpec = {
    v4: list(raw.v4),
    v6: list(raw.v6),
    delayMs: duration(raw.delay, `${where}.delay`),
    jitterMs: duration(raw.jitter, `${where}.jitter`),
    loss: fraction(raw.loss, `${where}.loss`),
    replyDelayMs: duration(raw['reply-delay'], `${where}.reply-delay`),
    replyLoss: fraction(raw['reply-loss'], `${where}.reply-loss`),
    silent: raw.silent === true,
    ecmp: oneOf(raw.ecmp, ['flow', 'packet'] as const, 'flow', `${where}.ecmp`),
  };
  const rl = raw['rate-limit'] as Raw | undefined;
  if (rl) h.rateLimit = { perSecond: Number(rl['per-second']), burst: Number(rl.burst ?? 1) };
  if (raw.mpls)
    h.mpls = (raw.mpls as Raw[]).map((l) => ({
      label: Number(l.label),
      tc: Number(l.tc ?? 0),
      s: Number(l.s ?? 1),
      ttl: Number(l.ttl ?? 1),
    }));
  if (raw.quote !== undefined) h.quote = Number(raw.quote);
  if (raw.unreachable !== undefined)
    h.unreachable = oneOf(raw.unreachable, ['net', 'host', 'prohibited'] as const, 'net', `${where}.unreachable`);
  if (!h.silent && !h.v4.length && !h.v6.length)
    throw new ScenarioError(`${where}: a hop that answers needs a v4 or v6 address (or silent: true)`);
  return h;
}

export function parseScenario(text: string, source = 'scenario'): Scenario {
  const doc = parse(text) as Raw;
  if (!doc || !Array.isArray(doc.paths)) throw new ScenarioError(`${source}: needs a list of paths`);
  const paths = (doc.paths as Raw[]).map((p, i): PathSpec => {
    const where = `${source}: paths[${i}]`;
    const target = (p.target ?? {}) as Raw;
    if (!target.v4 && !target.v6) throw new ScenarioError(`${where}.target needs v4 or v6`);
    const d = (p.destination ?? {}) as Raw;
    return {
      target: {
        ...(target.v4 ? { v4: String(target.v4) } : {}),
        ...(target.v6 ? { v6: String(target.v6) } : {}),
      },
      hops: ((p.hops ?? []) as Raw[]).map((h, j) => hop(h, `${where}.hops[${j}]`)),
      destination: {
        delayMs: duration(d.delay, `${where}.destination.delay`),
        jitterMs: duration(d.jitter, `${where}.destination.jitter`),
        loss: fraction(d.loss, `${where}.destination.loss`),
        icmp: oneOf(d.icmp, ['echo', 'silent'] as const, 'echo', `${where}.destination.icmp`),
        udp: oneOf(d.udp, ['port-unreachable', 'silent'] as const, 'port-unreachable', `${where}.destination.udp`),
        tcp: oneOf(d.tcp, ['syn-ack', 'rst', 'silent'] as const, 'rst', `${where}.destination.tcp`),
      },
    };
  });
  const s: Scenario = { name: String(doc.name ?? source), paths };
  if (doc.description) s.description = String(doc.description);
  return s;
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(file, 'utf8'), file);
}

export const scenarioDir = new URL('../scenarios/', import.meta.url).pathname;

export function loadNamedScenario(name: string): Scenario {
  return loadScenario(`${scenarioDir}${name}.yaml`);
}
