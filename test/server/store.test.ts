// The looking glass's SQLite store, on a real file: rows survive reopening,
// running traces become "interrupted" at the next start, old rows are pruned.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/server/store.js';

test('reopen, interrupted traces, pruning by age', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-store-'));
  try {
    const file = join(dir, 'lg.db');
    const day = 86_400_000;
    const now = Date.now();
    let s = new Store(file);
    const trace = (id: string, createdAt: number) =>
      s.insertTrace({
        id,
        createdAt,
        client: '198.18.1.1',
        targetInput: '198.18.1.1',
        target: '198.18.1.1',
        protocol: 'auto',
        count: 10,
        status: 'running',
      });
    trace('old-finished', now - 40 * day);
    s.finishTrace('old-finished', 'done', '{"verdict":"other"}', null);
    trace('new-finished', now - day);
    s.finishTrace('new-finished', 'done', '{"verdict":"cn2-gia"}', null);
    trace('was-running', now);
    s.insertReport({
      id: 'old-report',
      createdAt: now - 40 * day,
      client: 'x',
      traceId: null,
      format: 'traceroute',
      body: 'b',
      result: '{}',
    });
    s.insertReport({
      id: 'new-report',
      createdAt: now,
      client: 'x',
      traceId: 'new-finished',
      format: 'traceroute',
      body: 'b',
      result: '{}',
    });
    s.audit({ at: now - 40 * day, client: 'x', action: 'trace', decision: 'accepted' });
    s.audit({ at: now, client: 'x', action: 'trace', decision: 'accepted' });
    s.close();

    s = new Store(file);
    assert.equal(s.markInterrupted(), 1);
    assert.equal(s.getTrace('was-running')?.status, 'interrupted');
    assert.equal(s.getTrace('new-finished')?.result, '{"verdict":"cn2-gia"}');
    assert.equal(s.prune(now - 30 * day), 3, 'one old trace, one old upload, one old audit entry');
    assert.equal(s.getTrace('old-finished'), undefined);
    assert.equal(s.getReport('old-report'), undefined);
    assert.equal(s.getReport('new-report')?.traceId, 'new-finished');
    assert.equal(s.auditLog().length, 1);
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the data is kept under a size cap, oldest rows first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-store-cap-'));
  try {
    const s = new Store(join(dir, 'lg.db'));
    const body = 'x'.repeat(4000);
    for (let i = 0; i < 400; i++)
      s.insertReport({
        id: `r${String(i).padStart(4, '0')}`,
        createdAt: 1_000_000 + i,
        client: '198.18.1.1',
        traceId: null,
        format: 'mtr-report',
        body,
        result: '{}',
      });
    for (let i = 0; i < 2000; i++)
      s.audit({ at: 1_000_000 + i, client: '198.18.1.1', action: 'trace', decision: 'accepted' });
    const before = s.usedBytes();
    assert.ok(before > 1_500_000, `${before} bytes`);
    const removed = s.pruneToSize(500_000);
    assert.ok(s.usedBytes() <= 500_000, `${s.usedBytes()} bytes after pruning`);
    assert.ok(removed > 0);
    // Audit rows go first, then the oldest uploads; the newest upload stays.
    assert.equal(s.auditLog(10).length, 0);
    assert.ok(s.getReport('r0399'));
    assert.equal(s.getReport('r0000'), undefined);
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refusals are counted per client, reason and minute, not written one by one', async () => {
  const { RefusalAudit } = await import('../../src/server/audit.js');
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-store-audit-'));
  try {
    const s = new Store(join(dir, 'lg.db'));
    const log = new RefusalAudit(s, 60_000);
    const at = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
    for (let i = 0; i < 2500; i++)
      log.refused('198.18.1.1', { at, client: '198.18.1.1', action: 'trace', decision: 'refused: no token' });
    for (let i = 0; i < 10; i++)
      log.refused('198.18.1.2', { at, client: '198.18.1.2', action: 'trace', decision: 'refused: no token' });
    log.refused('198.18.1.1', {
      at: at + 60_000,
      client: '198.18.1.1',
      action: 'trace',
      decision: 'refused: no token',
    });
    log.close();
    const rows = s.auditLog(100);
    assert.equal(rows.length, 3, 'one row per client and minute');
    assert.deepEqual(rows.map((r) => [r.client, r.count]).sort(), [
      ['198.18.1.1', 1],
      ['198.18.1.1', 2500],
      ['198.18.1.2', 10],
    ]);
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
