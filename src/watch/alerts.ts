// Alerts for `vpsline watch`: rules a person can read (destination loss over
// N % for M minutes, latency over the target's baseline, a route or verdict
// change), sent to a webhook. A quiet period makes one bad evening one
// alert: once a rule has fired for a target, it stays silent until the
// condition has been absent for `quietMinutes`; every bad sample in between
// starts that wait again.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Static, type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';
import { errnoCode, VpslineError } from '../errors.js';
import { lineName } from '../route/lines.js';
import { baseline, type EpisodeState } from './episodes.js';
import type { StoredEvent, WatchStore } from './store.js';
import type { Sample } from './types.js';
import { type Delivery, postOnce, WebhookQueue, type WebhookSettings, body } from './webhook.js';
import type { Watcher } from './watcher.js';

const Targets = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 256 });
const common = { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), targets: Type.Optional(Targets) };
const ForMinutes = Type.Optional(Type.Number({ minimum: 0, maximum: 1440 }));
const strict = { additionalProperties: false } as const;

const RULE_SCHEMAS = {
  loss: Type.Object(
    {
      when: Type.Literal('loss'),
      overPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
      forMinutes: ForMinutes,
      ...common,
    },
    strict,
  ),
  latency: Type.Object(
    {
      when: Type.Literal('latency'),
      overBaselinePercent: Type.Number({ exclusiveMinimum: 0, maximum: 10_000 }),
      forMinutes: ForMinutes,
      /** Below this rise in ms nothing is bad, whatever the percentage (a 0.2 ms loopback doubling is noise). */
      minExtraMs: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
      ...common,
    },
    strict,
  ),
  'verdict-change': Type.Object({ when: Type.Literal('verdict-change'), ...common }, strict),
  'route-change': Type.Object({ when: Type.Literal('route-change'), ...common }, strict),
};
type RuleKind = keyof typeof RULE_SCHEMAS;
const KINDS = Object.keys(RULE_SCHEMAS) as RuleKind[];

const SettingsSchema = Type.Object(
  {
    webhook: Type.Object(
      {
        url: Type.String({ minLength: 1, maxLength: 2048 }),
        headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4096 }), { maxProperties: 50 })),
        timeoutSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 60 })),
        retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
      },
      strict,
    ),
    quietMinutes: Type.Optional(Type.Number({ minimum: 0, maximum: 10_080 })),
    sendResolved: Type.Optional(Type.Boolean()),
    rules: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 100 }),
  },
  strict,
);

type RuleDoc = { [K in RuleKind]: Static<(typeof RULE_SCHEMAS)[K]> }[RuleKind];
/** A rule with its defaults filled in and a name (given, or made from the rule). */
export type AlertRule = RuleDoc & { name: string; forMinutes: number };

export interface AlertSettings {
  webhook: WebhookSettings;
  /** Minutes without the condition before a rule may fire again for the same target (default 120). */
  quietMinutes: number;
  /** Also post a "resolved" message when a loss or latency alert's quiet period ends (default false). */
  sendResolved: boolean;
  rules: AlertRule[];
}

export const DEFAULTS = { quietMinutes: 120, forMinutes: 5, timeoutSeconds: 5, retries: 3, minExtraMs: 5 };
const MAX_FILE_BYTES = 1024 * 1024;

function bad(file: string, message: string): never {
  throw new VpslineError('EVPSLINE_BAD_OPTION', `--alerts ${file}: ${message}`, 2);
}

/** TypeBox's first useful complaint as "where what", e.g. "webhook.retries must be <= 10". */
function firstError(schema: TSchema, doc: unknown, at: string): string | null {
  const errors = [...Value.Errors(schema, doc)].filter((e) => e.keyword !== 'boolean');
  const e = errors.find((x) => x.keyword === 'additionalProperties') ?? errors[0];
  if (!e) return null;
  const where =
    at +
    e.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
      .join('');
  const params = e.params as Record<string, unknown>;
  const label = where.replace(/^\./, '') || 'the file';
  if (e.keyword === 'additionalProperties')
    return `${label}: unknown field "${(params.additionalProperties as string[])?.[0]}".`;
  if (e.keyword === 'required') return `${label}: missing ${(params.requiredProperties as string[]).join(', ')}.`;
  return `${label} ${e.message}.`;
}

const ruleName = (r: RuleDoc): string => {
  switch (r.when) {
    case 'loss':
      return `loss over ${r.overPercent} % for ${r.forMinutes ?? DEFAULTS.forMinutes} min`;
    case 'latency':
      return `latency ${r.overBaselinePercent} % over baseline for ${r.forMinutes ?? DEFAULTS.forMinutes} min`;
    default:
      return r.when;
  }
};

/** A settings document (parsed JSON) to settings, every field checked; `file` names it in messages. */
export function parseAlertSettings(doc: unknown, file: string): AlertSettings {
  const top = firstError(SettingsSchema, doc, '');
  if (top) bad(file, top);
  const d = doc as Static<typeof SettingsSchema>;
  let url: URL;
  try {
    url = new URL(d.webhook.url);
  } catch {
    bad(file, `webhook.url "${d.webhook.url}" is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(file, 'webhook.url must be an http or https URL.');
  const headers = d.webhook.headers ?? {};
  for (const [k, v] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(k)) bad(file, `webhook.headers: "${k}" is not a header name.`);
    if (/[\r\n\0]/.test(v)) bad(file, `webhook.headers.${k} must be one line.`);
  }
  const names = new Set<string>();
  const rules = d.rules.map((r, i): AlertRule => {
    const when = (r as { when?: unknown } | null)?.when;
    if (!KINDS.includes(when as RuleKind)) bad(file, `rules[${i}].when must be one of ${KINDS.join(', ')}.`);
    const problem = firstError(RULE_SCHEMAS[when as RuleKind], r, `rules[${i}]`);
    if (problem) bad(file, problem);
    const rule = r as RuleDoc;
    const name = rule.name ?? ruleName(rule);
    if (names.has(name)) bad(file, `two rules are named "${name}": give each its own name.`);
    names.add(name);
    const forMinutes = 'forMinutes' in rule && rule.forMinutes !== undefined ? rule.forMinutes : DEFAULTS.forMinutes;
    return { ...rule, name, forMinutes };
  });
  return {
    webhook: {
      url: url.href,
      headers,
      timeoutSeconds: d.webhook.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
      retries: d.webhook.retries ?? DEFAULTS.retries,
    },
    quietMinutes: d.quietMinutes ?? DEFAULTS.quietMinutes,
    sendResolved: d.sendResolved ?? false,
    rules,
  };
}

export function readAlertSettings(file: string): AlertSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    bad(file, code === 'ENOENT' ? 'no such file.' : `cannot be read (${code ?? (err as Error).message}).`);
  }
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) bad(file, 'larger than 1 MiB; this is not an alert settings file.');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    bad(file, `not JSON (${(err as Error).message}).`);
  }
  return parseAlertSettings(doc, file);
}

/** Rules may only name targets the watch has: a typo would otherwise be an alert that never comes. */
export function checkAlertTargets(settings: AlertSettings, targets: string[], file: string): void {
  for (const r of settings.rules)
    for (const t of r.targets ?? [])
      if (!targets.includes(t))
        bad(
          file,
          `rule "${r.name}" names target "${t}", which this watch does not have (it has: ${targets.join(', ')}).`,
        );
}

/** Post one test alert (no retries): the HTTP status or why none came. */
export async function sendTestAlert(settings: AlertSettings, now = Date.now()): Promise<{ ok: boolean; line: string }> {
  const payload = {
    alert: 'test',
    when: 'test',
    kind: 'test',
    target: null,
    time: new Date(now).toISOString(),
    message: `vpsline on ${hostname()}: a test alert; the webhook works.`,
  };
  const a = await postOnce(settings.webhook, body(payload));
  return {
    ok: a.ok,
    line:
      a.status !== null ? `${settings.webhook.url} answered HTTP ${a.status}` : `${settings.webhook.url}: ${a.error}`,
  };
}

export interface AlertsOptions {
  store: WatchStore;
  /** The time deliveries are recorded at (default Date.now). Rules go by the samples' own times. */
  now?: () => number;
  warn?: (message: string) => void;
  /** First pause between attempts (default 1000 ms; doubles each time, at most 30 s). */
  retryBaseMs?: number;
  /** How long close() waits for deliveries still going (default 10 s). */
  closeTimeoutMs?: number;
  maxQueue?: number;
  /** Told of each alert as it is raised (the watch's metrics count them). */
  onAlert?: (target: string, rule: string) => void;
}

/** A run of bad samples for one rule and target. */
interface Run {
  since: number;
  end: number;
  samples: number;
  sum: number;
  worst: number;
  /** Extra figure of latency runs: the baseline at its start. */
  base: number;
  fired: boolean;
}

/** Since a rule fired for a target: silent until nothing bad was seen for the quiet period. */
interface Incident {
  since: number;
  lastBad: number;
}

interface RuleState {
  run: Run | null;
  incident: Incident | null;
}

const MIN_MS = 60_000;
/** Medians a latency baseline is the median of, as in the watch's own detector. */
const BASELINE_SAMPLES = 1440;

const pct = (v: number): string => `${v.toFixed(1)} %`;
const ms = (v: number): string => `${v.toFixed(1)} ms`;
const minutes = (d: number): string => `${Math.round(d / MIN_MS)} minute${Math.round(d / MIN_MS) === 1 ? '' : 's'}`;
const iso = (t: number): string => new Date(t).toISOString();
const clock = (t: number): string => new Date(t).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');

export class Alerts {
  private readonly queue: WebhookQueue;
  private readonly states = new Map<string, RuleState>();
  private readonly baselines = new Map<string, number[]>();
  private readonly now: () => number;
  private intervalMs = MIN_MS;
  /** Alerts the quiet period held back. */
  suppressed = 0;

  constructor(
    readonly settings: AlertSettings,
    readonly opts: AlertsOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.queue = new WebhookQueue(settings.webhook, {
      store: opts.store,
      now: this.now,
      warn: opts.warn ?? ((m) => process.stderr.write(`vpsline: ${m}\n`)),
      ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
      ...(opts.maxQueue !== undefined ? { maxQueue: opts.maxQueue } : {}),
    });
  }

  /** Deliveries that ended, by outcome. */
  get counts(): WebhookQueue['counts'] {
    return this.queue.counts;
  }

  watch(w: Watcher): void {
    this.intervalMs = w.intervalMs;
    this.resume(w.targets.map((t) => t.name));
    w.on('sample', (s) => this.onSample(s));
    w.on('event', (e, phase) => {
      // A new path has its own normal latency (the watch's detector starts again too).
      if (e.type === 'route-change') this.baselines.set(e.target, []);
      if (phase === 'change') this.onChange(e);
    });
  }

  /** Resolves once every alert so far is delivered or given up. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Wait for deliveries still going, at most `closeTimeoutMs`; what is left is recorded as dropped. */
  close(): Promise<void> {
    return this.queue.close(this.opts.closeTimeoutMs ?? 10_000);
  }

  /** A restarted watch: quiet periods from the alerts already sent, latency baselines from the stored samples. */
  private resume(targets: string[]): void {
    for (const a of this.opts.store.lastAlerts()) {
      const rule = this.settings.rules.findIndex((r) => r.name === a.rule);
      if (rule >= 0 && a.target !== null) this.state(rule, a.target).incident = { since: a.t, lastBad: a.t };
    }
    if (!this.settings.rules.some((r) => r.when === 'latency')) return;
    for (const name of targets) {
      const last = this.opts.store.lastSample(name);
      if (!last) continue;
      const from = last.t - BASELINE_SAMPLES * this.intervalMs;
      const medians = this.opts.store
        .samples(name, from, last.t + 1, BASELINE_SAMPLES)
        .flatMap((s) => (s.rtt ? [s.rtt.p50] : []));
      this.baselines.set(name, medians);
    }
  }

  private state(rule: number, target: string): RuleState {
    const key = `${rule}\u0000${target}`;
    let st = this.states.get(key);
    if (!st) {
      st = { run: null, incident: null };
      this.states.set(key, st);
    }
    return st;
  }

  private applies(r: AlertRule, target: string): boolean {
    return !r.targets || r.targets.includes(target);
  }

  private onSample(s: Sample): void {
    const recent = this.baselines.get(s.target) ?? [];
    const base = baseline({ recent } as EpisodeState);
    this.settings.rules.forEach((r, i) => {
      if (!this.applies(r, s.target)) return;
      if (r.when === 'loss') {
        const bad = s.loss === null ? null : s.loss * 100 >= r.overPercent;
        this.step(r, i, s, bad, s.loss ?? 0, 0);
      } else if (r.when === 'latency') {
        const median = s.rtt?.p50 ?? null;
        const bad =
          median === null || base === null
            ? null
            : median >= base * (1 + r.overBaselinePercent / 100) &&
              median - base >= (r.minExtraMs ?? DEFAULTS.minExtraMs);
        this.step(r, i, s, bad, median ?? 0, base ?? 0);
      }
    });
    // Every median counts, as in the watch's detector: a rise that lasts becomes the new normal.
    if (s.rtt) this.baselines.set(s.target, [...recent, s.rtt.p50].slice(-BASELINE_SAMPLES));
  }

  /** One sample for a loss or latency rule: `bad` null when the sample measured nothing. */
  private step(r: AlertRule, i: number, s: Sample, bad: boolean | null, value: number, base: number): void {
    if (bad === null) return;
    const st = this.state(i, s.target);
    const quietMs = this.settings.quietMinutes * MIN_MS;
    if (st.incident) {
      // A bad sample right after the last one goes on with the incident even with no quiet period.
      const idle = s.t - st.incident.lastBad;
      if (bad ? idle > quietMs : idle >= quietMs) this.resolve(r, st, s);
    }
    if (!bad) {
      st.run = null;
      return;
    }
    const end = s.t + this.intervalMs;
    // More than one missing sample breaks a run: what happened then is not known.
    if (st.run && s.t > st.run.end + this.intervalMs) st.run = null;
    st.run ??= { since: s.t, end, samples: 0, sum: 0, worst: 0, base, fired: false };
    const run = st.run;
    run.end = end;
    run.samples++;
    run.sum += value;
    run.worst = Math.max(run.worst, value);
    if (st.incident) st.incident.lastBad = end;
    if (run.fired || run.end - run.since < r.forMinutes * MIN_MS) return;
    run.fired = true;
    if (st.incident) {
      this.suppressed++;
      return;
    }
    st.incident = { since: run.since, lastBad: end };
    const mean = run.sum / run.samples;
    const message =
      r.when === 'loss'
        ? `${s.target}: destination loss ${pct(mean * 100)} for ${minutes(run.end - run.since)}` +
          `${run.worst > mean ? ` (worst ${pct(run.worst * 100)})` : ''} (rule: ${r.name})`
        : `${s.target}: median RTT ${ms(mean)} for ${minutes(run.end - run.since)}, ` +
          `${Math.round((mean / run.base - 1) * 100)} % over its baseline of ${ms(run.base)} (rule: ${r.name})`;
    const figures =
      r.when === 'loss'
        ? { meanLoss: mean, worstLoss: run.worst, samples: run.samples }
        : {
            meanMs: mean,
            worstMs: run.worst,
            baselineMs: run.base,
            samples: run.samples,
          };
    this.send('alert', r, s.target, end, message, {
      sample: { ...figures, from: iso(run.since), to: iso(run.end), last: sampleFigures(s) },
    });
  }

  private resolve(r: AlertRule, st: RuleState, s: Sample): void {
    const incident = st.incident as Incident;
    st.incident = null;
    if (!this.settings.sendResolved) return;
    const what = r.when === 'loss' ? `destination loss under ${r.overPercent} %` : 'latency back near its baseline';
    const about = `rule: ${r.name}, alert of ${clock(incident.since)}`;
    const message = `${s.target}: ${what} since ${clock(incident.lastBad)} (${about})`;
    this.send('resolved', r, s.target, s.t, message, { since: new Date(incident.lastBad).toISOString() });
  }

  private onChange(e: StoredEvent): void {
    this.settings.rules.forEach((r, i) => {
      if (r.when !== e.type || !this.applies(r, e.target)) return;
      const st = this.state(i, e.target);
      const quietMs = this.settings.quietMinutes * MIN_MS;
      if (st.incident && e.start - st.incident.lastBad < quietMs) {
        // A line flapping back and forth all evening: one alert; the quiet period runs from the last change.
        st.incident.lastBad = Math.max(st.incident.lastBad, e.start);
        this.suppressed++;
        return;
      }
      st.incident = { since: e.start, lastBad: e.start };
      this.send('alert', r, e.target, e.start, changeMessage(e, r.name), { event: e });
    });
  }

  private send(
    kind: Delivery['kind'],
    r: AlertRule,
    target: string,
    t: number,
    message: string,
    extra: Record<string, unknown>,
  ): void {
    const payload = { alert: r.name, when: r.when, kind, target, time: new Date(t).toISOString(), message, ...extra };
    this.queue.push({ t, rule: r.name, target, kind, payload, message });
    if (kind === 'alert') this.opts.onAlert?.(target, r.name);
  }
}

function sampleFigures(s: Sample): Record<string, unknown> {
  return {
    t: new Date(s.t).toISOString(),
    sent: s.sent,
    received: s.received,
    loss: s.loss,
    rttMs: s.rtt ? { p10: s.rtt.p10, p50: s.rtt.p50, p90: s.rtt.p90 } : null,
    verdict: s.verdict,
    carriers: s.carriers,
  };
}

function changeMessage(e: StoredEvent, rule: string): string {
  const o = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const carriers = (v: unknown): string =>
    ((o(v).carriers as string[] | undefined) ?? []).join(' > ') || 'no carrier named';
  if (e.type === 'verdict-change')
    return (
      `${e.target}: line changed from ${lineName(String(e.before))} ` +
      `to ${lineName(String(e.after))} (rule: ${rule})`
    );
  const ttls = (o(e.evidence).changedTtls as number[] | undefined)?.join(', ') ?? '?';
  return `${e.target}: route changed at TTL ${ttls}: ${carriers(e.before)} -> ${carriers(e.after)} (rule: ${rule})`;
}
