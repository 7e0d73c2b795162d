// The audit log without a flood: every accepted request is a row of its own,
// but refusals are counted, one row per client, reason and minute. A client
// refused 2,500 times a second writes one row a minute and one update every
// few seconds, not 2,500 rows.
import type { AuditEntry, Store } from './store.js';

interface Open {
  minute: number;
  id: number;
  /** Refusals counted in memory, not yet added to the row. */
  pending: number;
}

/** Keys kept in memory at most; beyond that the counts are written out and forgotten. */
const MAX_KEYS = 10_000;

export class RefusalAudit {
  private readonly open = new Map<string, Open>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    flushMs = 5000,
  ) {
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  /** A refused request from `clientKey` (a /64 or an IPv4 address): a new row, or one more on this minute's. */
  refused(clientKey: string, entry: AuditEntry): void {
    const minute = Math.floor(entry.at / 60_000);
    const key = `${clientKey}\n${entry.action}\n${entry.decision}`;
    const row = this.open.get(key);
    if (row && row.minute === minute) {
      row.pending++;
      return;
    }
    if (row?.pending) this.store.addToAudit(row.id, row.pending);
    if (this.open.size >= MAX_KEYS) this.flush(true);
    this.open.set(key, { minute, id: this.store.audit(entry), pending: 0 });
  }

  /** Write the counts out; forget minutes that are over (all of them when `all`). */
  flush(all = false): void {
    const now = Math.floor(Date.now() / 60_000);
    for (const [key, row] of this.open) {
      if (row.pending) this.store.addToAudit(row.id, row.pending);
      row.pending = 0;
      if (all || row.minute < now) this.open.delete(key);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush(true);
  }
}
