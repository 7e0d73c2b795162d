// The watch's history in SQLite (WAL): samples at full detail for
// `detailDays`, hour rollups for `hourlyDays`, events, and each target's
// detector state, all written in one transaction per sample, so a killed
// watch loses at most the interval it was measuring.
//
// Size: a sample row is about 100 bytes plus ~45 per hop (docs/watch.md has
// the measured figures); an hour row about 300 bytes.
import Database from 'better-sqlite3';
import { VpslineError } from '../errors.js';
import type { Verdict } from '../route/classify.js';
import { type Histogram, histogramCount, histogramQuantile, mergeInto } from './histogram.js';
import type { PathHops } from './path-tracker.js';
import type { EventType, HopSample, Sample, WatchEvent, WatchTarget } from './types.js';

export interface Retention {
  /** Days every sample is kept (default 7). */
  detailDays: number;
  /** Days hour rollups and events are kept (default 400). */
  hourlyDays: number;
}

export const DEFAULT_RETENTION: Retention = { detailDays: 7, hourlyDays: 400 };
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** An hour's rollup of one target's samples. */
export interface HourRow {
  target: string;
  t: number;
  samples: number;
  sent: number;
  received: number;
  /** Mean of the samples' loss shares, and the worst one. */
  loss: number | null;
  lossMax: number | null;
  p10: number | null;
  p50: number | null;
  p90: number | null;
  hist: Histogram;
  /** Samples per verdict. */
  verdicts: Record<string, number>;
}

export interface StoredEvent extends WatchEvent {
  id: number;
}

export interface EventQuery {
  target?: string;
  type?: EventType;
  from?: number;
  to?: number;
  limit?: number;
}

/** pending: queued or being tried; dropped: the queue was full or the watch stopped first. */
export type AlertStatus = 'pending' | 'delivered' | 'failed' | 'dropped';

export interface AlertRow {
  id: number;
  /** When the condition was met (ms). */
  t: number;
  rule: string;
  target: string | null;
  /** alert, resolved or test. */
  kind: string;
  payload: unknown;
  status: AlertStatus;
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  /** When the row last changed (ms). */
  updated: number;
}

type Row = Record<string, unknown>;
const json = (v: unknown): string => JSON.stringify(v ?? null);

/** Compact hop rows: [ttl, address, other addresses, sent, lost, p50, p90]. */
type HopRow = [number, string | null, string[], number, number, number | null, number | null];
const packHops = (hops: HopSample[]): HopRow[] =>
  hops.map((h) => [h.ttl, h.address, h.addresses.filter((a) => a !== h.address), h.sent, h.lost, h.p50, h.p90]);
const unpackHops = (rows: HopRow[]): HopSample[] =>
  rows.map(([ttl, address, others, sent, lost, p50, p90]) => ({
    ttl,
    address,
    addresses: address ? [address, ...others] : others,
    sent,
    lost,
    p50,
    p90,
  }));

export class WatchStore {
  private readonly db: Database.Database;
  private readonly ids = new Map<string, number>();
  private readonly st;

  constructor(
    readonly file: string,
    readonly retention: Retention = DEFAULT_RETENTION,
  ) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
    } catch (err) {
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `Cannot open the watch database ${file}: ${(err as Error).message}. Its folder must be writable.`,
        1,
        { cause: err },
      );
    }
    // NORMAL with WAL: a committed sample survives the process being killed.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS watch_targets (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, address TEXT NOT NULL, carrier TEXT, state TEXT);
      CREATE TABLE IF NOT EXISTS watch_paths (
        id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL, key TEXT NOT NULL, hops TEXT NOT NULL,
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, UNIQUE (target_id, key));
      CREATE TABLE IF NOT EXISTS watch_samples (
        target_id INTEGER NOT NULL, t INTEGER NOT NULL, rounds INTEGER NOT NULL, sent INTEGER NOT NULL,
        received INTEGER NOT NULL, loss REAL, rtt TEXT, hist TEXT NOT NULL, dest_ttl INTEGER, verdict TEXT NOT NULL,
        confidence TEXT NOT NULL, carriers TEXT NOT NULL, path_id INTEGER, hops TEXT NOT NULL,
        PRIMARY KEY (target_id, t)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS watch_hours (
        target_id INTEGER NOT NULL, t INTEGER NOT NULL, samples INTEGER NOT NULL, sent INTEGER NOT NULL,
        received INTEGER NOT NULL, loss REAL, loss_max REAL, hist TEXT NOT NULL, verdicts TEXT NOT NULL,
        PRIMARY KEY (target_id, t)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS watch_events (
        id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL, type TEXT NOT NULL, start INTEGER NOT NULL,
        end INTEGER, before TEXT, after TEXT, evidence TEXT);
      CREATE INDEX IF NOT EXISTS watch_events_start ON watch_events (start);
    `);
    const d = this.db;
    this.st = {
      target: d.prepare<[string]>('SELECT id FROM watch_targets WHERE name = ?'),
      addTarget: d.prepare<[string, string, string | null]>(
        'INSERT INTO watch_targets (name, address, carrier) VALUES (?, ?, ?) ' +
          'ON CONFLICT (name) DO UPDATE SET address = excluded.address, carrier = excluded.carrier',
      ),
      targets: d.prepare<[]>('SELECT name, address, carrier FROM watch_targets ORDER BY id'),
      state: d.prepare<[number]>('SELECT state FROM watch_targets WHERE id = ?'),
      setState: d.prepare<[string, number]>('UPDATE watch_targets SET state = ? WHERE id = ?'),
      path: d.prepare<[number, string]>('SELECT id FROM watch_paths WHERE target_id = ? AND key = ?'),
      addPath: d.prepare<[number, string, string, number, number]>(
        'INSERT INTO watch_paths (target_id, key, hops, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)',
      ),
      seenPath: d.prepare<[number, number]>('UPDATE watch_paths SET last_seen = max(last_seen, ?) WHERE id = ?'),
      relabel: d.prepare<[number, number, number]>(
        'UPDATE watch_samples SET path_id = ? WHERE target_id = ? AND t >= ?',
      ),
      addSample: d.prepare(
        'INSERT OR REPLACE INTO watch_samples (target_id, t, rounds, sent, received, loss, rtt, hist, dest_ttl, ' +
          'verdict, confidence, carriers, path_id, hops) VALUES (@targetId, @t, @rounds, @sent, @received, @loss, ' +
          '@rtt, @hist, @destTtl, @verdict, @confidence, @carriers, @pathId, @hops)',
      ),
      samples: d.prepare<[number, number, number, number]>(
        'SELECT * FROM watch_samples WHERE target_id = ? AND t >= ? AND t < ? ORDER BY t LIMIT ?',
      ),
      lastSample: d.prepare<[number]>('SELECT * FROM watch_samples WHERE target_id = ? ORDER BY t DESC LIMIT 1'),
      hours: d.prepare<[number, number, number]>(
        'SELECT * FROM watch_hours WHERE target_id = ? AND t >= ? AND t < ? ORDER BY t',
      ),
      addHour: d.prepare(
        'INSERT OR REPLACE INTO watch_hours (target_id, t, samples, sent, received, loss, loss_max, hist, verdicts) ' +
          'VALUES (@targetId, @t, @samples, @sent, @received, @loss, @lossMax, @hist, @verdicts)',
      ),
      lastHour: d.prepare<[number]>('SELECT max(t) AS t FROM watch_hours WHERE target_id = ?'),
      addEvent: d.prepare(
        'INSERT INTO watch_events (target_id, type, start, end, before, after, evidence) ' +
          'VALUES (@targetId, @type, @start, @end, @before, @after, @evidence)',
      ),
      updateEvent: d.prepare<[number | null, string, string, number]>(
        'UPDATE watch_events SET end = ?, after = ?, evidence = ? WHERE id = ?',
      ),
      pruneSamples: d.prepare<[number]>('DELETE FROM watch_samples WHERE t < ?'),
      pruneHours: d.prepare<[number]>('DELETE FROM watch_hours WHERE t < ?'),
      pruneEvents: d.prepare<[number]>('DELETE FROM watch_events WHERE coalesce(end, start) < ?'),
      prunePaths: d.prepare<[number]>('DELETE FROM watch_paths WHERE last_seen < ?'),
    };
  }

  /** The target's id, made or updated from its settings. */
  addTarget(t: WatchTarget): number {
    this.st.addTarget.run(t.name, t.address, t.carrier ?? null);
    return this.targetId(t.name, true) as number;
  }

  targetId(name: string, required = false): number | undefined {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = (this.st.target.get(name) as { id: number } | undefined)?.id;
      if (id !== undefined) this.ids.set(name, id);
    }
    if (id === undefined && required) throw new Error(`no watch target ${name}`);
    return id;
  }

  targets(): WatchTarget[] {
    return (this.st.targets.all() as { name: string; address: string; carrier: string | null }[]).map((r) => ({
      name: r.name,
      address: r.address,
      ...(r.carrier ? { carrier: r.carrier } : {}),
    }));
  }

  /** The detectors' state saved with the target's last sample (undefined for a new target). */
  loadState<T>(target: string): T | undefined {
    const id = this.targetId(target);
    const row = id === undefined ? undefined : (this.st.state.get(id) as { state: string | null } | undefined);
    return row?.state ? (JSON.parse(row.state) as T) : undefined;
  }

  saveState(target: string, state: unknown): void {
    this.st.setState.run(json(state), this.targetId(target, true) as number);
  }

  /** The path's id, recorded if new. */
  pathId(target: string, key: string, hops: PathHops, t: number): number {
    const tid = this.targetId(target, true) as number;
    const row = this.st.path.get(tid, key) as { id: number } | undefined;
    if (row) {
      this.st.seenPath.run(t, row.id);
      return row.id;
    }
    return Number(this.st.addPath.run(tid, key, json(hops), t, t).lastInsertRowid);
  }

  /**
   * One sample with everything it caused, in one transaction: the sample, the
   * path it belongs to (samples from `relabelFrom` on move to it: a change is
   * known only after it is confirmed), new events, updated ones, and the state.
   */
  record(w: {
    sample: Sample;
    path: { key: string; hops: PathHops; relabelFrom?: number } | null;
    newEvents: WatchEvent[];
    updatedEvents: StoredEvent[];
    state: unknown;
  }): number[] {
    return this.db.transaction(() => {
      const s = w.sample;
      const targetId = this.targetId(s.target, true) as number;
      const pathId = w.path ? this.pathId(s.target, w.path.key, w.path.hops, s.t) : null;
      this.st.addSample.run({
        targetId,
        t: s.t,
        rounds: s.rounds,
        sent: s.sent,
        received: s.received,
        loss: s.loss,
        rtt: s.rtt ? json(s.rtt) : null,
        hist: json(s.hist),
        destTtl: s.destinationTtl,
        verdict: s.verdict,
        confidence: s.confidence,
        carriers: json(s.carriers),
        pathId,
        hops: json(packHops(s.hops)),
      });
      if (pathId !== null && w.path?.relabelFrom !== undefined)
        this.st.relabel.run(pathId, targetId, w.path.relabelFrom);
      const ids = w.newEvents.map((e) => this.insertEvent(e));
      for (const e of w.updatedEvents) this.st.updateEvent.run(e.end, json(e.after), json(e.evidence), e.id);
      this.st.setState.run(json(w.state), targetId);
      return ids;
    })();
  }

  insertEvent(e: WatchEvent): number {
    const targetId = this.targetId(e.target, true) as number;
    return Number(
      this.st.addEvent.run({
        targetId,
        type: e.type,
        start: e.start,
        end: e.end,
        before: json(e.before),
        after: json(e.after),
        evidence: json(e.evidence),
      }).lastInsertRowid,
    );
  }

  samples(
    target: string,
    from = 0,
    to = Number.MAX_SAFE_INTEGER,
    limit = 100_000,
  ): (Sample & { pathId: number | null })[] {
    const id = this.targetId(target);
    if (id === undefined) return [];
    return (this.st.samples.all(id, from, to, limit) as Row[]).map((r) => this.sampleOf(target, r));
  }

  lastSample(target: string): (Sample & { pathId: number | null }) | undefined {
    const id = this.targetId(target);
    const row = id === undefined ? undefined : (this.st.lastSample.get(id) as Row | undefined);
    return row ? this.sampleOf(target, row) : undefined;
  }

  private sampleOf(target: string, r: Row): Sample & { pathId: number | null } {
    return {
      target,
      t: r.t as number,
      rounds: r.rounds as number,
      sent: r.sent as number,
      received: r.received as number,
      loss: r.loss as number | null,
      rtt: r.rtt ? JSON.parse(r.rtt as string) : null,
      hist: JSON.parse(r.hist as string),
      destinationTtl: r.dest_ttl as number | null,
      hops: unpackHops(JSON.parse(r.hops as string)),
      verdict: r.verdict as Verdict,
      confidence: r.confidence as Sample['confidence'],
      carriers: JSON.parse(r.carriers as string),
      pathId: r.path_id as number | null,
    };
  }

  hours(target: string, from = 0, to = Number.MAX_SAFE_INTEGER): HourRow[] {
    const id = this.targetId(target);
    if (id === undefined) return [];
    return (this.st.hours.all(id, from, to) as Row[]).map((r) => {
      const hist = JSON.parse(r.hist as string) as Histogram;
      return {
        target,
        t: r.t as number,
        samples: r.samples as number,
        sent: r.sent as number,
        received: r.received as number,
        loss: r.loss as number | null,
        lossMax: r.loss_max as number | null,
        p10: histogramQuantile(hist, 0.1),
        p50: histogramQuantile(hist, 0.5),
        p90: histogramQuantile(hist, 0.9),
        hist,
        verdicts: JSON.parse(r.verdicts as string),
      };
    });
  }

  events(q: EventQuery = {}): StoredEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.target !== undefined) {
      where.push('e.target_id = ?');
      args.push(this.targetId(q.target) ?? -1);
    }
    if (q.type) {
      where.push('e.type = ?');
      args.push(q.type);
    }
    if (q.from !== undefined) {
      where.push('coalesce(e.end, e.start) >= ?');
      args.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('e.start < ?');
      args.push(q.to);
    }
    const sql =
      'SELECT e.*, t.name AS target FROM watch_events e JOIN watch_targets t ON t.id = e.target_id' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY e.start, e.type = 'verdict-change', e.id LIMIT ${Math.max(1, Math.min(q.limit ?? 10_000, 100_000))}`;
    return (this.db.prepare(sql).all(...args) as Row[]).map((r) => ({
      id: r.id as number,
      target: r.target as string,
      type: r.type as EventType,
      start: r.start as number,
      end: r.end as number | null,
      before: JSON.parse((r.before as string) ?? 'null'),
      after: JSON.parse((r.after as string) ?? 'null'),
      evidence: JSON.parse((r.evidence as string) ?? 'null'),
    }));
  }

  /**
   * Roll finished hours up (every hour before `now`'s that still has samples)
   * and drop what is past its retention. Idempotent; the watch runs it hourly.
   */
  maintain(now: number): { hours: number; samplesDropped: number } {
    return this.db.transaction(() => {
      let hours = 0;
      const thisHour = Math.floor(now / HOUR_MS) * HOUR_MS;
      for (const { name } of this.targets()) {
        const id = this.targetId(name, true) as number;
        const last = (this.st.lastHour.get(id) as { t: number | null }).t;
        const from = last === null ? 0 : last; // the newest rolled hour again: it may have been partial
        const samples = this.samples(name, from, thisHour, Number.MAX_SAFE_INTEGER);
        const byHour = new Map<number, Sample[]>();
        for (const s of samples) {
          const h = Math.floor(s.t / HOUR_MS) * HOUR_MS;
          byHour.set(h, [...(byHour.get(h) ?? []), s]);
        }
        for (const [t, list] of byHour) {
          this.st.addHour.run({ targetId: id, ...rollup(list), t });
          hours++;
        }
      }
      // Whole hours only: the samples kept start where an hour does, and the rollups before them are complete.
      const detailFrom = Math.floor((now - this.retention.detailDays * DAY_MS) / HOUR_MS) * HOUR_MS;
      const samplesDropped = this.st.pruneSamples.run(detailFrom).changes;
      const old = now - this.retention.hourlyDays * DAY_MS;
      this.st.pruneHours.run(old);
      this.st.pruneEvents.run(old);
      this.st.prunePaths.run(old);
      return { hours, samplesDropped };
    })();
  }

  /** Alerts sent to the webhook (src/watch/alerts.ts); the table is made on first use. */
  private alertSt?: {
    add: Database.Statement;
    update: Database.Statement;
    list: Database.Statement;
    last: Database.Statement;
    prune: Database.Statement;
    count: Database.Statement;
  };

  private alertStatements(): NonNullable<WatchStore['alertSt']> {
    if (this.alertSt) return this.alertSt;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS watch_alerts (
        id INTEGER PRIMARY KEY, t INTEGER NOT NULL, rule TEXT NOT NULL, target TEXT, kind TEXT NOT NULL,
        payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, http_status INTEGER, error TEXT,
        updated INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS watch_alerts_t ON watch_alerts (t);
    `);
    const d = this.db;
    this.alertSt = {
      add: d.prepare(
        'INSERT INTO watch_alerts (t, rule, target, kind, payload, status, attempts, updated) ' +
          'VALUES (@t, @rule, @target, @kind, @payload, @status, 0, @updated)',
      ),
      update: d.prepare(
        'UPDATE watch_alerts SET status = @status, attempts = @attempts, http_status = @httpStatus, ' +
          'error = @error, updated = @updated WHERE id = @id',
      ),
      list: d.prepare('SELECT * FROM watch_alerts ORDER BY id LIMIT ?'),
      last: d.prepare("SELECT rule, target, max(t) AS t FROM watch_alerts WHERE kind = 'alert' GROUP BY rule, target"),
      prune: d.prepare('DELETE FROM watch_alerts WHERE t < ?'),
      count: d.prepare("SELECT count(*) AS n FROM watch_alerts WHERE kind = 'alert' AND target = ?"),
    };
    return this.alertSt;
  }

  /** Record an alert about to be sent; its id for updateAlert. Alerts past the hourly retention go. */
  addAlert(a: { t: number; rule: string; target: string | null; kind: string; payload: string; now: number }): number {
    const st = this.alertStatements();
    st.prune.run(a.now - this.retention.hourlyDays * DAY_MS);
    const { now, ...row } = a;
    return Number(st.add.run({ ...row, status: 'pending', updated: now }).lastInsertRowid);
  }

  updateAlert(
    id: number,
    u: { status: AlertStatus; attempts: number; httpStatus: number | null; error: string | null; now: number },
  ): void {
    const { now, ...row } = u;
    this.alertStatements().update.run({ ...row, updated: now, id });
  }

  alerts(limit = 10_000): AlertRow[] {
    return (this.alertStatements().list.all(Math.max(1, Math.min(limit, 100_000))) as Row[]).map((r) => ({
      id: r.id as number,
      t: r.t as number,
      rule: r.rule as string,
      target: r.target as string | null,
      kind: r.kind as string,
      payload: JSON.parse(r.payload as string),
      status: r.status as AlertStatus,
      attempts: r.attempts as number,
      httpStatus: r.http_status as number | null,
      error: r.error as string | null,
      updated: r.updated as number,
    }));
  }

  /** Alerts raised for a target (not resolved or test messages) that are still kept. */
  alertCount(target: string): number {
    const st = this.alertStatements();
    return (st.count.get(target) as { n: number }).n;
  }

  /** The newest alert (not resolved or test message) per rule and target: a restarted watch keeps its quiet. */
  lastAlerts(): { rule: string; target: string | null; t: number }[] {
    return this.alertStatements().last.all() as { rule: string; target: string | null; t: number }[];
  }

  /** Bytes the database holds (pages in use), WAL not counted. */
  bytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** Write the WAL back into the database file (for a size measurement or a backup). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** An hour's samples as one watch_hours row (without target and hour). */
function rollup(list: Sample[]): Row {
  const hist: Histogram = {};
  const verdicts: Record<string, number> = {};
  let sent = 0;
  let received = 0;
  let lossSum = 0;
  let lossN = 0;
  let lossMax: number | null = null;
  for (const s of list) {
    mergeInto(hist, s.hist);
    verdicts[s.verdict] = (verdicts[s.verdict] ?? 0) + 1;
    sent += s.sent;
    received += s.received;
    if (s.loss !== null) {
      lossSum += s.loss;
      lossN++;
      lossMax = Math.max(lossMax ?? 0, s.loss);
    }
  }
  return {
    samples: list.length,
    sent,
    received,
    loss: lossN ? lossSum / lossN : null,
    lossMax,
    hist: json(histogramCount(hist) ? hist : {}),
    verdicts: json(verdicts),
  };
}
