// The looking glass's in-memory bounds: hourly budgets and things at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Concurrency, RateWindow } from '../../src/server/limits.js';

test('a rate window allows `limit` takes per window, then says how long to wait', () => {
  const w = new RateWindow(2, 60_000);
  assert.equal(w.take('k', 0), 0);
  assert.equal(w.take('k', 10_000), 0);
  assert.equal(w.take('k', 20_000), 40); // the take at 0 frees up at 60 s
  assert.equal(w.take('other', 20_000), 0);
  assert.equal(w.take('k', 59_999), 1);
  assert.equal(w.take('k', 60_000), 0);
});

test('a rate window with a limit of 0 refuses every take', () => {
  // Nothing in the window can free a slot; this used to answer NaN, which
  // callers read as "allowed".
  const w = new RateWindow(0, 60_000);
  assert.equal(w.take('k', 0), 60);
  assert.equal(w.take('k', 1_000), 60);
});

test('a rate window forgets the least recently used key past 100 000 keys', () => {
  const w = new RateWindow(1, 60_000);
  assert.equal(w.take('first', 0), 0);
  for (let i = 0; i < 100_000; i++) w.take(`k${i}`, 0);
  assert.equal(w.take('first', 1), 0);
  assert.equal(w.take('k99999', 1), 60);
});

test('concurrency: per key and in total', () => {
  const c = new Concurrency(1, 2);
  assert.equal(c.acquire('a'), undefined);
  assert.equal(c.acquire('a'), 'key');
  assert.equal(c.acquire('b'), undefined);
  assert.equal(c.acquire('c'), 'total');
  c.release('a');
  assert.equal(c.of('a'), 0);
  assert.equal(c.acquire('c'), undefined);
  assert.equal(c.total, 2);
});
