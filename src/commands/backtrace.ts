// `vpsline backtrace` as a library function: open what each family needs,
// drop privileges, trace every target at once and print the table or JSON.
import { VpslineError } from '../errors.js';
import type { Language } from '../i18n.js';
import { CarrierTable } from '../lookup/carriers.js';
import { addressFamily, type Family } from '../packet/address.js';
import { defaultEngine, openThenDropPrivileges } from '../probe/process-engine.js';
import { backtrace, loadTargets } from '../route/backtrace.js';
import type { OriginAsSource } from '../route/origin-as.js';
import { renderBacktraceTable } from '../route/render.js';
import type { CommandIO } from './io.js';

export interface BacktraceRun {
  /** Your own target list instead of the built-in one. */
  targets?: string;
  carriers?: string;
  originAs?: OriginAsSource;
  family?: Family;
  protocol: 'auto' | 'udp' | 'tcp';
  port?: number;
  /** Constant-flow traces per target (UDP or TCP); 1: one trace with the chosen protocol. */
  flows: number;
  cycles: number;
  interval: number;
  maxTtl: number;
  json: boolean;
  lang: Language;
  keepCapabilities: boolean;
  /** Who to carry on as when started as root (--user; default nobody). */
  user?: string;
  /** Files read after giving up root that the run does not name (the CLI's --asn-db, read by originAs). */
  alsoReads?: string[];
}

export async function runBacktrace(run: BacktraceRun, io: CommandIO): Promise<void> {
  const table = CarrierTable.load(run.carriers);
  const listed = loadTargets(run.targets).map((t) => ({ target: t, family: addressFamily(t.address) }));
  const wanted = listed.filter((t) => t.family !== null && (!run.family || t.family === run.family));
  if (!wanted.length)
    throw new VpslineError('EVPSLINE_BAD_OPTION', `no ${run.family ? `IPv${run.family} ` : ''}targets in the list.`, 2);
  const engine = defaultEngine();
  // A family that cannot be opened is not fatal: its rows carry the error.
  const families = new Set(wanted.flatMap((t) => (t.family ? [t.family] : [])));
  // Several flows are UDP (Paris traceroute) unless TCP was asked for.
  const protocol = run.flows > 1 && run.protocol !== 'tcp' ? 'udp' : run.protocol;
  await openThenDropPrivileges(engine, {
    needs: [...families].map((family) => ({ family, protocol, ...(run.flows > 1 ? { flows: run.flows } : {}) })),
    optional: true,
    keepCapabilities: run.keepCapabilities,
    ...(run.user ? { user: run.user } : {}),
    reads: [run.targets, run.carriers, ...(run.alsoReads ?? [])].filter((f): f is string => !!f),
    notice: (line) => io.stderr.write(`${line}\n`),
  });
  const results = await backtrace(
    wanted.map((t) => t.target),
    {
      engine,
      table,
      ...(run.originAs ? { originAs: run.originAs } : {}),
      protocol,
      flows: run.flows,
      cycles: run.cycles,
      interval: run.interval,
      maxTtl: run.maxTtl,
      ...(run.port !== undefined ? { port: run.port } : {}),
    },
  );
  if (!run.json) {
    io.stdout.write(`${renderBacktraceTable(results, run.lang)}\n`);
    return;
  }
  const rows = results.map(({ report, ...r }) => ({
    ...r,
    ...(report
      ? {
          hops: report.hops.map((h) => ({
            ttl: h.ttl,
            address: h.address,
            lossPercent: h.lossPercent,
            avg: h.stats.mean,
          })),
        }
      : {}),
  }));
  io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
}
