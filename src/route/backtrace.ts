// The three-network return-route test: trace to each carrier's targets at
// once, classify every path, and summarise. Library side (no output here).
import { readFileSync } from 'node:fs';
import { errnoCode, VpslineError } from '../errors.js';
import type { CarrierTable } from '../lookup/carriers.js';
import { errorMessage, isObject } from '../lookup/narrow.js';
import { addressFamily } from '../packet/address.js';
import type { ProbeEngine } from '../probe/engine.js';
import { Trace, type TraceOptions, type TraceReport } from '../trace/trace.js';
import { classify, type Classification, type ClassifyHop, type ClassifyOptions } from './classify.js';
import { addNote } from './notes.js';
import { addOriginAs, type OriginAsSource } from './origin-as.js';

export interface BacktraceTarget {
  name: string;
  address: string;
  /** ct, cu or cm: the carrier the target belongs to. */
  carrier: string;
  city?: string;
}

export interface BacktraceResult extends Classification {
  target: BacktraceTarget;
  /** False: the target never answered; the verdict comes from the hops that did. */
  destinationAnswered: boolean;
  /** Avg RTT at the destination, or at the last hop that answered. */
  rttMs: number | null;
  lossPercent: number | null;
  /** The trace could not run (no route, no IPv6 here...). */
  error?: string;
  /** The first flow's trace. */
  report?: TraceReport;
  /** With several flows: each flow's line, so load balancing between lines shows. */
  flows?: FlowVerdict[];
}

export interface FlowVerdict {
  flow: number;
  verdict: Classification['verdict'];
  confidence: Classification['confidence'];
  segments: Classification['segments'];
}

const DEFAULT_TARGETS = new URL('../../data/backtrace-targets.json', import.meta.url);

/** Targets from a file: a JSON list (or {targets: [...]}) or lines "<address> <name...>". */
export function loadTargets(file?: string): BacktraceTarget[] {
  let text: string;
  try {
    text = readFileSync(file ?? DEFAULT_TARGETS, 'utf8');
  } catch (err) {
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `Cannot read the targets file ${file} (${errnoCode(err) ?? 'error'}).`,
      2,
    );
  }
  const where = file ?? 'the built-in target list';
  let list: unknown[];
  if (/^\s*[[{]/.test(text)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new VpslineError('EVPSLINE_BAD_OPTION', `${where} is not valid JSON: ${errorMessage(err)}`, 2);
    }
    const inner = isObject(doc) ? doc.targets : undefined;
    list = Array.isArray(doc) ? doc : Array.isArray(inner) ? inner : [];
  } else {
    list = text
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map((l) => {
        const [address, ...name] = l.split(/\s+/);
        return { address, name: name.join(' ') || address };
      });
  }
  const targets = list.map((raw, i): BacktraceTarget => {
    // An entry that is not an object has no address, and is named as such below.
    const t = isObject(raw) ? raw : {};
    if (!t.address || !addressFamily(String(t.address)))
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `${where}: target ${i + 1} needs an IP address (got ${JSON.stringify(t.address)}).`,
        2,
      );
    return {
      name: String(t.name ?? t.address),
      address: String(t.address),
      carrier: String(t.carrier ?? '?'),
      ...(t.city ? { city: String(t.city) } : {}),
    };
  });
  if (!targets.length) throw new VpslineError('EVPSLINE_BAD_OPTION', `${where} has no targets.`, 2);
  return targets;
}

export interface BacktraceOptions extends Omit<TraceOptions, 'engine'> {
  engine: ProbeEngine;
  table: CarrierTable;
  /** Origin AS numbers for hops the table does not name (optional, bounded). */
  originAs?: OriginAsSource;
  /**
   * Constant-flow traces per target (Paris traceroute: UDP, or TCP with protocol 'tcp'). Routers that
   * balance load send different flows different ways, and a route may split between lines. 1: one trace.
   */
  flows?: number;
  /** Aborting stops every trace (a server shutting down); each row keeps what its trace measured so far. */
  signal?: AbortSignal;
}

/**
 * Classify a finished trace: the destination itself is the target's network,
 * not evidence of the line; a silent target leaves the hops that answered.
 */
export async function classifyTrace(
  report: TraceReport,
  table: CarrierTable,
  originAs?: OriginAsSource,
  opts: Pick<ClassifyOptions, 'direction'> = {},
): Promise<Classification> {
  const answered = report.destinationTtl !== null;
  const hops = report.hops
    .filter((h) => !answered || h.ttl !== report.destinationTtl)
    .map((h): ClassifyHop => ({ ttl: h.ttl, address: h.address, ...(h.mpls ? { mpls: true } : {}) }));
  const asNote = originAs ? await addOriginAs(hops, table, originAs) : undefined;
  const c = classify(hops, table, opts);
  if (asNote) addNote(c, 'as-lookup-late', asNote);
  if (!answered) addNote(c, 'target-silent');
  return c;
}

/**
 * One verdict from several flows: the line most flows took (the first flow's on a tie). When flows
 * disagree, the verdict says so, names every line seen, and its confidence drops: the route is split.
 */
export function combineFlows(perFlow: Classification[]): { main: Classification; flows: FlowVerdict[] } {
  const flows = perFlow.map((c, flow) => ({
    flow,
    verdict: c.verdict,
    confidence: c.confidence,
    segments: c.segments,
  }));
  const tally = new Map<string, number>();
  for (const f of flows) tally.set(f.verdict, (tally.get(f.verdict) ?? 0) + 1);
  const [first] = perFlow;
  if (!first) throw new Error('combineFlows needs at least one flow');
  let main = first;
  for (const c of perFlow) if ((tally.get(c.verdict) ?? 0) > (tally.get(main.verdict) ?? 0)) main = c;
  if (tally.size > 1) {
    main = { ...main, notes: [...main.notes], noteCodes: [...main.noteCodes] };
    const seen = [...tally.entries()].map(([verdict, n]) => `${verdict} (${n} of ${flows.length})`);
    addNote(main, 'flows-differ', { lines: seen.join(', '), flows: flows.length });
    main.confidence = 'low';
  }
  return { main, flows };
}

/** Trace every target at once and classify each path. Never rejects: a failed trace is a row with its error. */
export async function backtrace(targets: BacktraceTarget[], opts: BacktraceOptions): Promise<BacktraceResult[]> {
  const { table, originAs, flows = 1, signal, ...traceOptions } = opts;
  const flowProtocol = traceOptions.protocol === 'tcp' ? 'tcp' : 'udp';
  return Promise.all(
    targets.map(async (target): Promise<BacktraceResult> => {
      try {
        const traces =
          flows > 1
            ? Array.from(
                { length: flows },
                (_, flow) => new Trace(target.address, { ...traceOptions, protocol: flowProtocol, flow }),
              )
            : [new Trace(target.address, traceOptions)];
        for (const t of traces) void t.start();
        const stop = (): void => {
          for (const t of traces) t.stop();
        };
        // An abort before this point fires no event: stop at once.
        if (signal?.aborted) stop();
        signal?.addEventListener('abort', stop, { once: true });
        let reports: TraceReport[];
        try {
          reports = await Promise.all(traces.map((t) => t.done));
        } finally {
          signal?.removeEventListener('abort', stop);
        }
        // The targets are Chinese carriers' addresses: the path runs towards China, whatever answered.
        const verdicts = await Promise.all(
          reports.map((r) => classifyTrace(r, table, originAs, { direction: 'towards-china' })),
        );
        const { main: c, flows: perFlow } = combineFlows(verdicts);
        // The report shown is that of a flow that took the line of the verdict.
        const report =
          reports[
            Math.max(
              0,
              verdicts.findIndex((v) => v.verdict === c.verdict),
            )
          ];
        if (!report) throw new Error('no trace ran');
        const answered = report.destinationTtl !== null;
        const last = [...report.hops].reverse().find((h) => h.received > 0);
        const dest = answered ? report.hops.find((h) => h.ttl === report.destinationTtl) : last;
        return {
          ...c,
          target,
          destinationAnswered: answered,
          rttMs: dest ? dest.stats.mean : null,
          lossPercent: dest ? dest.lossPercent : null,
          report,
          ...(flows > 1 ? { flows: perFlow } : {}),
        };
      } catch (err) {
        return {
          target,
          verdict: 'inconclusive',
          landing: null,
          segments: [],
          evidence: [],
          confidence: 'low',
          notes: [],
          noteCodes: [],
          destinationAnswered: false,
          rttMs: null,
          lossPercent: null,
          error: errorMessage(err),
        };
      }
    }),
  );
}
