// The looking glass's settings from the command line and its JSON config
// file, checked field by field: a wrong type is a one-line usage error, never
// a crash later.
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { errnoCode, VpslineError } from '../errors.js';
import type { WatchTarget } from '../watch/types.js';
import type { SiteFacts } from './app.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';

/** Shared with the watch's metrics server (src/listen.ts). */
export { parseListen } from '../listen.js';

export interface ServeConfig {
  tokens?: string[];
  trustProxy?: string[];
  allow?: string[];
  allowSelf?: boolean;
  metricsAllow?: string[];
  publicHost?: string;
  dns?: boolean;
  limits?: Partial<Limits>;
  returnRoutes?: ReturnRoutesConfig;
  site?: SiteFacts;
  watch?: WatchConfig;
}

/** A line watch run by the looking glass (`vpsline serve --watch`), its history shown at /watch. */
export interface WatchConfig {
  /** A target list file (the backtrace format), or the targets themselves. */
  targets?: string | WatchTarget[];
  intervalSeconds: number;
  rounds: number;
  detailDays: number;
  hourlyDays: number;
  /** Alert rules and webhook (a file, `vpsline watch --alerts`'s format). */
  alerts?: string;
}

export const DEFAULT_WATCH: Omit<WatchConfig, 'targets'> = {
  intervalSeconds: 60,
  rounds: 10,
  detailDays: 7,
  hourlyDays: 400,
};

/** The page's three-network return routes (src/server/return-routes.ts). */
export interface ReturnRoutesConfig {
  enabled: boolean;
  /** Shortest time between two runs: every run probes every target, so it is rationed. */
  periodMinutes: number;
  /** Your own target list (loadTargets' formats); none: the built-in list. */
  targets?: string;
}

export const DEFAULT_RETURN_ROUTES: ReturnRoutesConfig = { enabled: true, periodMinutes: 60 };
/** 10 minutes to a week: more often would make the page a way to make this server probe on demand. */
export const RETURN_ROUTES_PERIOD = { min: 10, max: 10_080 };

const KNOWN = [
  'tokens',
  'trustProxy',
  'allow',
  'allowSelf',
  'metricsAllow',
  'limits',
  'publicHost',
  'dns',
  'returnRoutes',
  'site',
  'watch',
];
const SITE_TEXTS = ['name', 'location', 'description'] as const;

/** The operator's words about the server: short texts, addresses that are addresses, host names. */
function parseSite(v: unknown, where: string): SiteFacts {
  if (!isRecord(v)) usage(`${where} must be an object.`);
  const known = [...SITE_TEXTS, 'addresses', 'hosts'];
  for (const k of Object.keys(v))
    if (!known.includes(k)) usage(`${where}: unknown field "${k}" (known: ${known.join(', ')}).`);
  const site: SiteFacts = {};
  for (const k of SITE_TEXTS) {
    const text = v[k];
    if (text === undefined) continue;
    if (typeof text !== 'string' || text.length > 200) usage(`${where}.${k} must be a text of at most 200 characters.`);
    site[k] = text;
  }
  if (v.addresses !== undefined) {
    const list = strings(v.addresses, `${where}.addresses`);
    for (const a of list) if (!ipaddr.isValid(a)) usage(`${where}.addresses: ${a} is not an IP address.`);
    site.addresses = list;
  }
  if (v.hosts !== undefined) {
    const hosts = v.hosts;
    if (!isRecord(hosts)) usage(`${where}.hosts must be an object like {"v4": "lg4.example.com"}.`);
    site.hosts = {};
    for (const [k, name] of Object.entries(hosts)) {
      if ((k !== 'v4' && k !== 'v6') || typeof name !== 'string' || !/^[A-Za-z0-9.-]{1,253}$/.test(name))
        usage(`${where}.hosts: "${k}" must be v4 or v6, with a host name.`);
      site.hosts[k] = name;
    }
  }
  return site;
}

function usage(message: string): never {
  throw new VpslineError('EVPSLINE_BAD_OPTION', message, 2);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string'))
    usage(`${where} must be a list of strings.`);
  return v;
}

function isLimit(key: string): key is keyof Limits {
  return key in DEFAULT_LIMITS;
}

/** A config document (already parsed JSON) to settings; `file` names it in messages. */
export function parseServeConfig(doc: unknown, file: string): ServeConfig {
  if (!isRecord(doc)) usage(`--config ${file} must be a JSON object.`);
  for (const k of Object.keys(doc))
    if (!KNOWN.includes(k)) usage(`--config ${file}: unknown setting "${k}" (known: ${KNOWN.join(', ')}).`);
  const config: ServeConfig = {};
  if (doc.tokens !== undefined) config.tokens = strings(doc.tokens, `--config ${file}: tokens`);
  if (doc.trustProxy !== undefined) config.trustProxy = strings(doc.trustProxy, `--config ${file}: trustProxy`);
  if (doc.allow !== undefined) config.allow = strings(doc.allow, `--config ${file}: allow`);
  if (doc.metricsAllow !== undefined) config.metricsAllow = strings(doc.metricsAllow, `--config ${file}: metricsAllow`);
  if (doc.publicHost !== undefined) {
    if (typeof doc.publicHost !== 'string') usage(`--config ${file}: publicHost must be a string.`);
    config.publicHost = doc.publicHost;
  }
  if (doc.allowSelf !== undefined) {
    if (typeof doc.allowSelf !== 'boolean') usage(`--config ${file}: allowSelf must be true or false.`);
    config.allowSelf = doc.allowSelf;
  }
  if (doc.dns !== undefined) {
    if (typeof doc.dns !== 'boolean') usage(`--config ${file}: dns must be true or false.`);
    config.dns = doc.dns;
  }
  if (doc.site !== undefined) config.site = parseSite(doc.site, `--config ${file}: site`);
  if (doc.limits !== undefined) {
    if (!isRecord(doc.limits)) usage(`--config ${file}: limits must be an object.`);
    const limits: Partial<Limits> = {};
    for (const [k, v] of Object.entries(doc.limits)) {
      if (!isLimit(k)) usage(`--config ${file}: unknown limit "${k}".`);
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
        usage(`--config ${file}: limit ${k} must be a positive number.`);
      limits[k] = v;
    }
    config.limits = limits;
  }
  if (doc.returnRoutes !== undefined) config.returnRoutes = parseReturnRoutes(doc.returnRoutes, file);
  if (doc.watch !== undefined) config.watch = parseWatch(doc.watch, file);
  return config;
}

/** The watch block: each figure within the bounds `vpsline watch` takes; targets a file or a list. */
function parseWatch(v: unknown, file: string): WatchConfig {
  const where = `--config ${file}: watch`;
  if (!isRecord(v)) usage(`${where} must be an object.`);
  const bounds: Record<Exclude<keyof WatchConfig, 'targets' | 'alerts'>, [number, number]> = {
    intervalSeconds: [1, 86_400],
    rounds: [1, 600],
    detailDays: [1, 366],
    hourlyDays: [1, 3660],
  };
  for (const k of Object.keys(v))
    if (k !== 'targets' && k !== 'alerts' && !(k in bounds))
      usage(`${where}: unknown setting "${k}" (known: targets, alerts, ${Object.keys(bounds).join(', ')}).`);
  const out: WatchConfig = { ...DEFAULT_WATCH };
  for (const [k, [lo, hi]] of Object.entries(bounds) as [keyof typeof bounds, [number, number]][]) {
    const n = v[k];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi)
      usage(`${where}.${k} must be a whole number from ${lo} to ${hi}.`);
    out[k] = n;
  }
  if (out.intervalSeconds / out.rounds < 0.01) usage(`${where}: at most 100 rounds per second of intervalSeconds.`);
  if (typeof v.targets === 'string' && v.targets) out.targets = v.targets;
  else if (Array.isArray(v.targets)) {
    out.targets = v.targets.map((t, i) => {
      if (!isRecord(t) || typeof t.name !== 'string' || !t.name || typeof t.address !== 'string' || !t.address)
        usage(`${where}.targets[${i}] must be {"name": "...", "address": "..."} (carrier optional).`);
      if (t.carrier !== undefined && typeof t.carrier !== 'string') usage(`${where}.targets[${i}].carrier is a text.`);
      return { name: t.name, address: t.address, ...(typeof t.carrier === 'string' ? { carrier: t.carrier } : {}) };
    });
  } else if (v.targets !== undefined) usage(`${where}.targets must be a file name or a list of targets.`);
  if (v.alerts !== undefined) {
    if (typeof v.alerts !== 'string' || !v.alerts) usage(`${where}.alerts must be a file name.`);
    out.alerts = v.alerts;
  }
  return out;
}

/** The returnRoutes object, each field checked; a missing field takes its default. */
function parseReturnRoutes(v: unknown, file: string): ReturnRoutesConfig {
  const where = `--config ${file}: returnRoutes`;
  if (!isRecord(v)) usage(`${where} must be an object.`);
  for (const k of Object.keys(v))
    if (!['enabled', 'periodMinutes', 'targets'].includes(k)) usage(`${where}: unknown setting "${k}".`);
  const out: ReturnRoutesConfig = { ...DEFAULT_RETURN_ROUTES };
  if (v.enabled !== undefined) {
    if (typeof v.enabled !== 'boolean') usage(`${where}.enabled must be true or false.`);
    out.enabled = v.enabled;
  }
  if (v.periodMinutes !== undefined) {
    const { min, max } = RETURN_ROUTES_PERIOD;
    const p = v.periodMinutes;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < min || p > max)
      usage(`${where}.periodMinutes must be a number from ${min} to ${max}.`);
    out.periodMinutes = p;
  }
  if (v.targets !== undefined) {
    if (typeof v.targets !== 'string' || !v.targets) usage(`${where}.targets must be a file name.`);
    out.targets = v.targets;
  }
  return out;
}

/** Read and check a config file. */
export function readServeConfig(file: string): ServeConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    usage(`Cannot read --config ${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}.`);
  }
  return parseServeConfig(doc, file);
}

/** Tokens from a file, one per line (# comments and blank lines skipped). */
export function readTokenFile(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch (err) {
    usage(`Cannot read --token-file ${file} (${errnoCode(err) ?? 'error'}).`);
  }
}

/** `ADDRESS:PORT` or `[V6]:PORT`. */
/** Addresses or CIDR blocks, each as a CIDR block. */
export function normalizeCidrs(list: string[], what: string): string[] {
  return list.map((c) => {
    const cidr = c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`;
    try {
      ipaddr.parseCIDR(cidr);
    } catch {
      usage(`${what}: ${c} is not an address or CIDR block.`);
    }
    return cidr;
  });
}
