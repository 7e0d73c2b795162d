// Alert delivery: a JSON POST to the operator's webhook, with a timeout per
// attempt and a few retries spaced 1 s, 2 s, 4 s ... apart. Deliveries run
// one at a time behind a bounded queue, so a receiver that is down never
// holds up the watch and never makes its memory grow; every alert and its
// outcome is a row of watch_alerts.
import type { AlertStatus, WatchStore } from './store.js';

export interface WebhookSettings {
  url: string;
  headers: Record<string, string>;
  /** Seconds one attempt may take, answer included. */
  timeoutSeconds: number;
  /** Attempts after the first one fails. */
  retries: number;
}

/** What is sent: `payload` as the JSON body; the rest names the row in watch_alerts. */
export interface Delivery {
  t: number;
  rule: string;
  target: string | null;
  kind: 'alert' | 'resolved' | 'test';
  payload: Record<string, unknown>;
  /** The payload's one line, for warnings. */
  message: string;
}

export interface Attempt {
  ok: boolean;
  /** The HTTP status; null when no answer came (refused, timed out, aborted). */
  status: number | null;
  error: string | null;
  /** Worth trying again: no answer, 5xx, 408 or 429. Other answers will not change. */
  retry: boolean;
}

/** A body larger than this drops the event and sample details (a route's hops are the only large part). */
export const MAX_BODY_BYTES = 64 * 1024;

export function body(payload: Record<string, unknown>): string {
  const full = JSON.stringify(payload);
  if (Buffer.byteLength(full) <= MAX_BODY_BYTES) return full;
  const { event: _e, sample: _s, ...rest } = payload;
  return JSON.stringify({ ...rest, truncated: true });
}

/** One POST. Redirects are not followed: a webhook that moved is a setting to fix, not to guess. */
export async function postOnce(hook: WebhookSettings, json: string, stop?: AbortSignal): Promise<Attempt> {
  const timeout = AbortSignal.timeout(hook.timeoutSeconds * 1000);
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'vpsline-watch', ...hook.headers },
      body: json,
      redirect: 'manual',
      signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
    });
    // The answer's body is not read: dropping it frees the connection.
    await res.body?.cancel().catch(() => {});
    const ok = res.status >= 200 && res.status < 300;
    return {
      ok,
      status: res.status,
      error: ok ? null : `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
      retry: res.status >= 500 || res.status === 408 || res.status === 429,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = timeout.aborted
      ? `no answer within ${hook.timeoutSeconds} s`
      : stop?.aborted
        ? 'the watch stopped'
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, status: null, error: why, retry: !stop?.aborted };
  }
}

export interface QueueOptions {
  store?: WatchStore;
  warn: (message: string) => void;
  now: () => number;
  /** The first pause between attempts; each next one doubles, up to `retryCapMs` (default 1 s and 30 s). */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** Alerts waiting at most; a full queue drops its oldest (default 100). */
  maxQueue?: number;
}

interface Queued extends Delivery {
  id: number | null;
  json: string;
}

export class WebhookQueue {
  private readonly queue: Queued[] = [];
  private readonly stopper = new AbortController();
  private worker: Promise<void> | null = null;
  /** Deliveries that ended, by outcome. */
  readonly counts: Record<AlertStatus, number> = { pending: 0, delivered: 0, failed: 0, dropped: 0 };

  constructor(
    readonly hook: WebhookSettings,
    private readonly opts: QueueOptions,
  ) {}

  /** Queue one delivery and return at once; the POST happens in the background. */
  push(d: Delivery): void {
    const json = body(d.payload);
    const id = this.record(() =>
      this.opts.store?.addAlert({
        t: d.t,
        rule: d.rule,
        target: d.target,
        kind: d.kind,
        payload: json,
        now: this.opts.now(),
      }),
    );
    if (this.stopper.signal.aborted) {
      this.finish({ ...d, id: id ?? null, json }, 'dropped', 0, null, 'the watch stopped');
      return;
    }
    if (this.queue.length >= (this.opts.maxQueue ?? 100)) {
      const oldest = this.queue.shift() as Queued;
      this.finish(oldest, 'dropped', 0, null, 'queue full');
      this.opts.warn(`webhook queue full (the receiver is down?): dropped the oldest alert: ${oldest.message}`);
    }
    this.queue.push({ ...d, id: id ?? null, json });
    this.worker ??= this.work().finally(() => {
      this.worker = null;
    });
  }

  /** Resolves once every queued delivery has ended. */
  async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }

  /** Wait up to `boundMs` for the queue to empty, then give up on what is left (recorded as such). */
  async close(boundMs: number): Promise<void> {
    if (this.worker) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, boundMs);
      });
      await Promise.race([this.worker, bound]);
      clearTimeout(timer);
    }
    this.stopper.abort();
    await this.worker;
    for (const q of this.queue.splice(0)) this.finish(q, 'dropped', 0, null, 'the watch stopped');
  }

  private async work(): Promise<void> {
    const stop = this.stopper.signal;
    while (!stop.aborted) {
      const q = this.queue.shift();
      if (!q) break;
      let attempts = 0;
      let last: Attempt = { ok: false, status: null, error: 'not tried', retry: true };
      while (attempts <= this.hook.retries && !stop.aborted) {
        if (attempts > 0) await pause(this.backoff(attempts), stop);
        if (stop.aborted) break;
        attempts++;
        last = await postOnce(this.hook, q.json, stop);
        if (last.ok || !last.retry) break;
      }
      if (last.ok) this.finish(q, 'delivered', attempts, last.status, null);
      else {
        this.finish(q, stop.aborted && last.retry ? 'dropped' : 'failed', attempts, last.status, last.error);
        this.opts.warn(`webhook: alert not delivered after ${attempts} attempt(s) (${last.error}): ${q.message}`);
      }
    }
  }

  private backoff(attempt: number): number {
    return Math.min((this.opts.retryBaseMs ?? 1000) * 2 ** (attempt - 1), this.opts.retryCapMs ?? 30_000);
  }

  private finish(q: Queued, status: AlertStatus, attempts: number, http: number | null, error: string | null): void {
    this.counts[status]++;
    if (q.id === null) return;
    const id = q.id;
    this.record(() =>
      this.opts.store?.updateAlert(id, { status, attempts, httpStatus: http, error, now: this.opts.now() }),
    );
  }

  /** A database error must not stop alerts (nor the watch): it becomes a warning. */
  private record<T>(write: () => T): T | undefined {
    try {
      return write();
    } catch (err) {
      this.opts.warn(`webhook: cannot record the alert in the database: ${(err as Error).message}`);
      return undefined;
    }
  }
}

function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done, { once: true });
  });
}
