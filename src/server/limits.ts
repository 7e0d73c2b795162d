// Bounds for everything a visitor can make the server do: requests per
// window, things running at once (globally, per client, per target). All
// in memory, all bounded: a flood of distinct keys evicts the oldest ones.
export interface Limits {
  /** Traces running at once, in total / per client (/32 or /64) / per target address. */
  maxConcurrent: number;
  maxPerClient: number;
  maxPerTarget: number;
  /** New traces per client per hour, and per target per hour. */
  tracesPerClientPerHour: number;
  tracesPerTargetPerHour: number;
  /** The same budgets for a whole IPv6 /48 (one site's many /64s). */
  tracesPerNetworkPerHour: number;
  uploadsPerNetworkPerHour: number;
  /** Uploads per client per hour. */
  uploadsPerClientPerHour: number;
  /** Probes per hop a visitor may ask for. */
  maxCount: number;
  defaultCount: number;
  /** Seconds between rounds (not the visitor's choice). */
  interval: number;
  /** A trace is stopped after this many seconds, whatever happens. */
  maxDurationS: number;
  /** Live viewers (SSE streams) in total and per client. */
  maxStreams: number;
  maxStreamsPerClient: number;
  /** Request bodies, in bytes. */
  bodyLimit: number;
  uploadLimit: number;
  /** Traces, uploads and audit entries older than this many days are deleted. */
  keepDays: number;
  /** The database's data is kept under this many MB, oldest rows going first (checked every minute). */
  maxDbMb: number;
  /** Uploads are read by this many worker threads, each parse within a deadline and a heap limit. */
  parseWorkers: number;
  parseDeadlineMs: number;
  parseMemoryMb: number;
  /** Uploads waiting for a parse worker beyond this are refused (503). */
  parseQueue: number;
  /** A request's headers, and the whole request, must arrive within these (slow senders are cut off). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Open connections from one address (a proxy in --trust-proxy is not counted). */
  maxConnectionsPerClient: number;
  /** Requests per client (/32 or /64) and minute, whatever they ask (@fastify/rate-limit). */
  requestsPerClientPerMinute: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxConcurrent: 8,
  maxPerClient: 2,
  maxPerTarget: 2,
  tracesPerClientPerHour: 30,
  tracesPerTargetPerHour: 60,
  tracesPerNetworkPerHour: 120,
  uploadsPerNetworkPerHour: 120,
  uploadsPerClientPerHour: 30,
  maxCount: 100,
  defaultCount: 10,
  interval: 1,
  maxDurationS: 180,
  maxStreams: 1000,
  maxStreamsPerClient: 20,
  bodyLimit: 4 * 1024,
  uploadLimit: 256 * 1024,
  keepDays: 365,
  maxDbMb: 512,
  parseWorkers: 2,
  parseDeadlineMs: 2000,
  parseMemoryMb: 64,
  parseQueue: 32,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  maxConnectionsPerClient: 64,
  requestsPerClientPerMinute: 600,
};

const MAX_KEYS = 100_000;

/** Sliding-window counter: at most `limit` takes per key per `windowMs`. */
export class RateWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Takes one; returns 0 when allowed, else seconds until one frees up. */
  take(key: string, now = Date.now()): number {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length >= this.limit) {
      this.hits.set(key, list);
      // A slot frees up when the oldest take leaves the window; with no take
      // in the window (a limit of 0) none ever does: wait a whole window.
      const oldest = list[0];
      const freeAt = oldest === undefined ? now + this.windowMs : oldest + this.windowMs;
      return Math.max(1, Math.ceil((freeAt - now) / 1000));
    }
    list.push(now);
    this.hits.delete(key); // re-insert: Map order = least recently used first
    this.hits.set(key, list);
    if (this.hits.size > MAX_KEYS) {
      const lru = this.hits.keys().next();
      if (!lru.done) this.hits.delete(lru.value);
    }
    return 0;
  }
}

/** Things in progress per key, with a total cap. */
export class Concurrency {
  private readonly counts = new Map<string, number>();
  total = 0;

  constructor(
    private readonly perKey: number,
    private readonly overall = Infinity,
  ) {}

  /** Why it cannot start ('total' or 'key'), or undefined after taking a slot. */
  acquire(key: string): 'total' | 'key' | undefined {
    if (this.total >= this.overall) return 'total';
    const n = this.counts.get(key) ?? 0;
    if (n >= this.perKey) return 'key';
    this.counts.set(key, n + 1);
    this.total++;
    return undefined;
  }

  release(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
    this.total = Math.max(0, this.total - 1);
  }

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
