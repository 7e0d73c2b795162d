// `--json`: mtr's JSON (same keys, types and meanings, so its consumers keep
// working) plus a versioned `vpsline` object in the report and in each hub
// with what mtr leaves out: every responder, MPLS labels, timestamps, the
// probe mode, and why the run ended. Schema: schema/mtr-report.schema.json.
import type { HopSnapshot } from '../trace/hop.js';
import type { Language } from '../i18n.js';
import { analyzeReport } from '../trace/analysis.js';
import type { TraceReport } from '../trace/trace.js';
import { asLabel, fieldsFor, hostLabel, mtrValue, type NameOptions } from './fields.js';

export const JSON_EXTENSION_VERSION = 1;

export interface JsonOptions extends NameOptions {
  fields?: string;
  /** Language of the analysis messages. */
  lang?: Language;
}

/** mtr prints reals with JSON_REAL_PRECISION(5): five significant digits. */
function real(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(5));
}

/**
 * A real as jansson writes it with JSON_REAL_PRECISION(5): C's `%.5g`, then
 * `.0` when that looks like an integer (`0.0`, `100.0`, `13.729`, `1.05`).
 */
/** `s` without the trailing run of `ch` (a loop: /0+$/ backtracks quadratically on long runs). */
function trimEnd(s: string, ch: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ch) end--;
  return s.slice(0, end);
}

export function janssonReal(v: number): string {
  if (!Number.isFinite(v)) return 'null';
  let s = v.toPrecision(5);
  const exp = /e([+-])(\d+)$/.exec(s);
  let mantissa = exp ? s.slice(0, exp.index) : s;
  if (mantissa.includes('.')) mantissa = trimEnd(mantissa, '0').replace(/\.$/, '');
  // jansson drops the exponent's + and leading zeros (1e+05 -> 1e5).
  s = exp ? `${mantissa}e${exp[1] === '-' ? '-' : ''}${Number(exp[2])}` : mantissa;
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function hub(h: HopSnapshot, opts: JsonOptions): Record<string, unknown> {
  // mtr's own "host" stays as mtr prints it; the carrier tag goes into the extension.
  const { tagOf: _tag, ...untagged } = opts;
  const out: Record<string, unknown> = { count: h.ttl, host: hostLabel(h.address, untagged) };
  if (opts.asOf) out.ASN = asLabel(h.address, opts);
  for (const f of fieldsFor(opts.fields)) {
    if (f.kind === 'spacer') continue;
    out[f.header] = f.kind === 'count' ? f.value(h) : real(mtrValue(f, h));
  }
  const ext: Record<string, unknown> = {
    ttl: h.ttl,
    address: h.address,
    sent: h.sent,
    received: h.received,
    lost: h.lost,
    untimed: h.untimed,
    responders: h.responders.map((r) => ({
      address: r.address,
      ...(opts.nameOf?.(r.address) ? { name: opts.nameOf(r.address) } : {}),
      received: r.received,
      avg: round3(r.stats.mean),
      best: round3(r.stats.best),
      worst: round3(r.stats.worst),
      ...(r.mpls ? { mpls: r.mpls } : {}),
    })),
  };
  if (h.mpls) ext.mpls = h.mpls;
  const tag = h.address ? opts.tagOf?.(h.address) : undefined;
  if (tag) ext.carrier = tag;
  if (h.unreachable) ext.unreachable = h.unreachable;
  out.vpsline = ext;
  return out;
}

/** The report as mtr's JSON document, with vpsline's extensions. */
export function jsonReport(report: TraceReport, opts: JsonOptions = {}): Record<string, unknown> {
  const s = report.settings;
  return {
    report: {
      mtr: {
        src: report.source,
        dst: report.target,
        tos: s.tos,
        tests: Number.isFinite(s.cycles) ? s.cycles : report.rounds,
        psize: String(s.packetSize),
        bitpattern: '0x00',
      },
      hubs: report.hops.map((h) => hub(h, opts)),
      vpsline: {
        version: JSON_EXTENSION_VERSION,
        target: report.target,
        address: report.address,
        family: report.family,
        protocol: report.mode.protocol,
        socket: report.mode.socket,
        fallbacks: report.mode.fallbacks,
        settings: { ...s, cycles: Number.isFinite(s.cycles) ? s.cycles : null },
        startedAt: report.startedAt.toISOString(),
        endedAt: report.endedAt.toISOString(),
        endReason: report.endReason,
        rounds: report.rounds,
        destinationTtl: report.destinationTtl,
        ...(report.flow ? { flow: report.flow } : {}),
        analysis: analyzeReport(report, opts.lang ?? 'en'),
      },
    },
  };
}

/**
 * mtr's JSON text: four-space indents like jansson's JSON_INDENT(4), and the
 * statistics of each hub written as jansson writes reals (`0.0`, not `0`),
 * so the text, not only the values, is mtr's. The extension is plain JSON.
 */
export function renderJson(report: TraceReport, opts: JsonOptions = {}): string {
  const doc = jsonReport(report, opts);
  const reals = new Set(
    fieldsFor(opts.fields)
      .filter((f) => f.kind === 'percent' || f.kind === 'ms')
      .map((f) => f.header),
  );
  // Reals are carried through JSON.stringify as marked strings, then unquoted.
  const mark = '\u0001real:';
  const isHub = (o: unknown): boolean => typeof o === 'object' && o !== null && 'count' in o && 'host' in o;
  const text = JSON.stringify(
    doc,
    function (this: unknown, key: string, value: unknown) {
      return typeof value === 'number' && reals.has(key) && isHub(this) ? `${mark}${janssonReal(value)}` : value;
    },
    4,
  );
  return text.replace(/"\\u0001real:([^"]*)"/g, '$1');
}
