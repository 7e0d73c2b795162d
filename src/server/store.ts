// The looking glass's memory: finished traces, uploaded forward traces and the
// audit log, in one SQLite file (WAL). Every write is a committed transaction,
// so a kill -9 loses at most the trace that was still running, and that one is
// marked "interrupted" at the next start.
import Database from 'better-sqlite3';
import { VpslineError } from '../errors.js';

export type TraceStatus = 'running' | 'done' | 'failed' | 'interrupted';

export interface TraceRow {
  id: string;
  createdAt: number;
  client: string;
  targetInput: string;
  target: string;
  protocol: string;
  count: number;
  status: TraceStatus;
  /** The finished report (mtr JSON + verdict), as JSON text. */
  result: string | null;
  error: string | null;
  finishedAt: number | null;
  /** The visitor chose to hide their address and home hops from anyone who opens the link (0 or 1). */
  masked: number;
}

/** What a trace row holds when it starts. */
export type NewTrace = Pick<
  TraceRow,
  'id' | 'createdAt' | 'client' | 'targetInput' | 'target' | 'protocol' | 'count' | 'status'
>;

/** What finishing a trace writes. */
type Finish = Pick<TraceRow, 'id' | 'status' | 'result' | 'error'> & { finishedAt: number };

export interface ReportRow {
  id: string;
  createdAt: number;
  client: string;
  traceId: string | null;
  format: string;
  /** What the visitor uploaded, as they gave it. */
  body: string;
  /** Hops and classification, as JSON text. */
  result: string;
  /** As TraceRow.masked. */
  masked: number;
}

export interface AuditEntry {
  at: number;
  client: string;
  action: string;
  target?: string | null;
  resolved?: string | null;
  decision: string;
  detail?: string | null;
  /** How many requests this row stands for (refusals are counted per client per minute). */
  count?: number;
}

export class Store {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(readonly file: string) {
    this.db = openDatabase(file);
    // NORMAL with WAL: a committed transaction survives a process crash (not necessarily a power cut).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS traces (
        id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, client TEXT NOT NULL, target_input TEXT NOT NULL,
        target TEXT NOT NULL, protocol TEXT NOT NULL, count INTEGER NOT NULL, status TEXT NOT NULL,
        result TEXT, error TEXT, finished_at INTEGER);
      CREATE TABLE IF NOT EXISTS reports (
        id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, client TEXT NOT NULL, trace_id TEXT,
        format TEXT NOT NULL, body TEXT NOT NULL, result TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, client TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT, resolved TEXT, decision TEXT NOT NULL, detail TEXT);
    `);
    // Databases made before refusals were counted per row get the column.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(audit)').all();
    if (!columns.some((c) => c.name === 'count'))
      this.db.exec('ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1');
    // And those made before links could be masked, the flag.
    for (const table of ['traces', 'reports']) {
      const have = this.db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
      if (!have.some((c) => c.name === 'masked'))
        this.db.exec(`ALTER TABLE ${table} ADD COLUMN masked INTEGER NOT NULL DEFAULT 0`);
    }
    this.stmts = {
      insertTrace: this.db.prepare<NewTrace>(
        'INSERT INTO traces (id, created_at, client, target_input, target, protocol, count, status) ' +
          'VALUES (@id, @createdAt, @client, @targetInput, @target, @protocol, @count, @status)',
      ),
      finishTrace: this.db.prepare<Finish>(
        'UPDATE traces SET status = @status, result = @result, error = @error, finished_at = @finishedAt ' +
          'WHERE id = @id',
      ),
      getTrace: this.db.prepare<[string], TraceRow>(
        'SELECT id, created_at AS createdAt, client, target_input AS targetInput, target, protocol, count, status, ' +
          'result, error, finished_at AS finishedAt, masked FROM traces WHERE id = ?',
      ),
      insertReport: this.db.prepare<Omit<ReportRow, 'masked'>>(
        'INSERT INTO reports (id, created_at, client, trace_id, format, body, result) ' +
          'VALUES (@id, @createdAt, @client, @traceId, @format, @body, @result)',
      ),
      getReport: this.db.prepare<[string], ReportRow>(
        'SELECT id, created_at AS createdAt, client, trace_id AS traceId, format, body, result, masked ' +
          'FROM reports WHERE id = ?',
      ),
      maskTrace: this.db.prepare<[string]>('UPDATE traces SET masked = 1 WHERE id = ?'),
      maskReports: this.db.prepare<[string, string]>('UPDATE reports SET masked = 1 WHERE trace_id = ? OR id = ?'),
      audit: this.db.prepare<Required<AuditEntry>>(
        'INSERT INTO audit (at, client, action, target, resolved, decision, detail, count) ' +
          'VALUES (@at, @client, @action, @target, @resolved, @decision, @detail, @count)',
      ),
      auditCount: this.db.prepare<[number, number]>('UPDATE audit SET count = count + ? WHERE id = ?'),
      interrupt: this.db.prepare<[number]>(
        "UPDATE traces SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
      ),
    };
  }

  /** Traces that were running when the last process died cannot finish now. */
  markInterrupted(now = Date.now()): number {
    return this.stmts.interrupt.run(now).changes;
  }

  insertTrace(row: NewTrace): void {
    this.stmts.insertTrace.run(row);
  }

  finishTrace(
    id: string,
    status: TraceStatus,
    result: string | null,
    error: string | null,
    finishedAt = Date.now(),
  ): void {
    this.stmts.finishTrace.run({ id, status, result, error, finishedAt });
  }

  getTrace(id: string): TraceRow | undefined {
    return this.stmts.getTrace.get(id);
  }

  insertReport(row: Omit<ReportRow, 'masked'>): void {
    this.stmts.insertReport.run(row);
  }

  /** Hide the visitor's address and home hops on a trace's links and its uploads' (for good). */
  maskTrace(id: string): void {
    this.db.transaction(() => {
      this.stmts.maskTrace.run(id);
      this.stmts.maskReports.run(id, id);
    })();
  }

  /** The same for one upload without a trace. */
  maskReport(id: string): void {
    this.stmts.maskReports.run('', id);
  }

  getReport(id: string): ReportRow | undefined {
    return this.stmts.getReport.get(id);
  }

  /** Write an audit row; returns its id (for addToAudit). */
  audit(e: AuditEntry): number {
    return Number(this.stmts.audit.run({ target: null, resolved: null, detail: null, count: 1, ...e }).lastInsertRowid);
  }

  /** Count `n` more requests on an audit row. */
  addToAudit(id: number, n: number): void {
    this.stmts.auditCount.run(n, id);
  }

  auditLog(limit = 100): AuditEntry[] {
    return this.db
      .prepare<[number], AuditEntry>(
        'SELECT at, client, action, target, resolved, decision, detail, count FROM audit ORDER BY id DESC LIMIT ?',
      )
      .all(limit);
  }

  /** Delete what is older than `before` (ms since the epoch); returns the rows removed. */
  prune(before: number): number {
    const run = this.db.transaction(() => {
      let n = this.db.prepare("DELETE FROM traces WHERE created_at < ? AND status != 'running'").run(before).changes;
      n += this.db.prepare('DELETE FROM reports WHERE created_at < ?').run(before).changes;
      n += this.db.prepare('DELETE FROM audit WHERE at < ?').run(before).changes;
      return n;
    });
    return run();
  }

  /** Bytes the data takes in the file (pages in use; freed pages are reused, not counted). */
  usedBytes(): number {
    const pages = Number(this.db.pragma('page_count', { simple: true }));
    const free = Number(this.db.pragma('freelist_count', { simple: true }));
    const size = Number(this.db.pragma('page_size', { simple: true }));
    return (pages - free) * size;
  }

  /**
   * Delete the oldest rows, audit entries first, then uploads, then finished traces, until the data
   * takes at most `maxBytes`. Returns the rows removed.
   */
  pruneToSize(maxBytes: number): number {
    let removed = 0;
    const tables = [
      'DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT 500)',
      'DELETE FROM reports WHERE rowid IN (SELECT rowid FROM reports ORDER BY created_at LIMIT 100)',
      "DELETE FROM traces WHERE rowid IN (SELECT rowid FROM traces WHERE status != 'running' " +
        'ORDER BY created_at LIMIT 100)',
    ];
    for (const sql of tables) {
      const del = this.db.prepare(sql);
      while (this.usedBytes() > maxBytes) {
        const n = del.run().changes;
        if (!n) break;
        removed += n;
      }
    }
    return removed;
  }

  ping(): boolean {
    return this.db.prepare<[], { ok: number }>('SELECT 1 AS ok').get()?.ok === 1;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Open (or create) the store and switch it to write-ahead logging: the two
 * steps that need the file and its folder writable. Refused, they are one
 * line that names the file and the process's user, not an internal error.
 */
function openDatabase(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    return db;
  } catch (err) {
    db?.close();
    const uid = process.getuid?.();
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `Cannot open the store ${file} as uid ${uid}: ${(err as Error).message}. ` +
        'Its folder must be writable by the user vpsline runs as (see --user).',
      1,
      { cause: err },
    );
  }
}
