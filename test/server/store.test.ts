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
