// The looking glass's config file and listen address: every wrong type is a
// one-line usage error (exit 2), never a TypeError later.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVpslineError } from '../../src/errors.js';
import { normalizeCidrs, parseListen, parseServeConfig } from '../../src/server/config.js';

function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVpslineError(err), String(err));
    assert.equal(err.code, 'EVPSLINE_BAD_OPTION');
    assert.equal(err.exitCode, 2);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

describe('parseServeConfig', () => {
  it('takes every known setting', () => {
    const doc = {
      tokens: ['a'.repeat(16)],
      trustProxy: ['127.0.0.1'],
      allow: ['198.18.0.0/15'],
      publicHost: 'lg.example',
      dns: false,
      limits: { maxConcurrent: 4 },
      returnRoutes: { enabled: false, periodMinutes: 30, targets: '/etc/vpsline/targets.txt' },
    };
    assert.deepEqual(parseServeConfig(doc, 'c.json'), doc);
    assert.deepEqual(parseServeConfig({}, 'c.json'), {});
  });

  it('takes a watch block with defaults, and refuses wrong watch settings in one line', () => {
    const w = (v: unknown): unknown => parseServeConfig({ watch: v }, 'c.json').watch;
    assert.deepEqual(w({ targets: 't.json', alerts: 'a.json' }), {
      intervalSeconds: 60,
      rounds: 10,
      detailDays: 7,
      hourlyDays: 400,
      targets: 't.json',
      alerts: 'a.json',
    });
    assert.deepEqual(w({ targets: [{ name: 'x', address: '198.18.0.1', carrier: 'ct' }], rounds: 5 }), {
      intervalSeconds: 60,
      rounds: 5,
      detailDays: 7,
      hourlyDays: 400,
      targets: [{ name: 'x', address: '198.18.0.1', carrier: 'ct' }],
    });
    usageError(() => w({ rounds: 0 }), /watch\.rounds must be a whole number from 1 to 600/);
    usageError(() => w({ alerts: 3 }), /watch\.alerts must be a file name/);
    usageError(() => w({ alert: 'a.json' }), /unknown setting "alert" \(known: targets, alerts,/);
    usageError(() => w({ intervalSeconds: 1, rounds: 600 }), /at most 100 rounds per second/);
    usageError(() => w({ targets: [{ name: 'x' }] }), /watch\.targets\[0\] must be/);
  });

  it('fills in returnRoutes defaults and takes the period bounds themselves', () => {
    const rr = (v: unknown): unknown => parseServeConfig({ returnRoutes: v }, 'c.json').returnRoutes;
    assert.deepEqual(rr({}), { enabled: true, periodMinutes: 60 });
    assert.deepEqual(rr({ targets: 't.json' }), { enabled: true, periodMinutes: 60, targets: 't.json' });
    assert.deepEqual(rr({ periodMinutes: 10 }), { enabled: true, periodMinutes: 10 });
    assert.deepEqual(rr({ periodMinutes: 10080 }), { enabled: true, periodMinutes: 10080 });
    assert.deepEqual(rr({ enabled: false }), { enabled: false, periodMinutes: 60 });
  });

  it('refuses wrong shapes and types with one line each', () => {
    const cases: [unknown, RegExp][] = [
      [[], /c\.json must be a JSON object/],
      [null, /c\.json must be a JSON object/],
      [{ token: [] }, /unknown setting "token"/],
      [{ trustProxy: 5 }, /trustProxy must be a list of strings/],
      [{ trustProxy: '127.0.0.1' }, /trustProxy must be a list of strings/],
      [{ tokens: [1] }, /tokens must be a list of strings/],
      [{ allow: {} }, /allow must be a list of strings/],
      [{ publicHost: 1 }, /publicHost must be a string/],
      [{ dns: 'no' }, /dns must be true or false/],
      [{ limits: [] }, /limits must be an object/],
      [{ limits: { nope: 1 } }, /unknown limit "nope"/],
      [{ limits: { maxConcurrent: '8' } }, /maxConcurrent must be a positive number/],
      [{ limits: { maxConcurrent: -1 } }, /maxConcurrent must be a positive number/],
      [{ returnRoutes: true }, /returnRoutes must be an object/],
      [{ returnRoutes: [] }, /returnRoutes must be an object/],
      [{ returnRoutes: { period: 60 } }, /returnRoutes: unknown setting "period"/],
      [{ returnRoutes: { enabled: 'yes' } }, /returnRoutes\.enabled must be true or false/],
      [{ returnRoutes: { periodMinutes: '60' } }, /periodMinutes must be a number from 10 to 10080/],
      [{ returnRoutes: { periodMinutes: 9.9 } }, /periodMinutes must be a number from 10 to 10080/],
      [{ returnRoutes: { periodMinutes: 10081 } }, /periodMinutes must be a number from 10 to 10080/],
      [{ returnRoutes: { periodMinutes: null } }, /periodMinutes must be a number from 10 to 10080/],
      [{ returnRoutes: { targets: 5 } }, /returnRoutes\.targets must be a file name/],
      [{ returnRoutes: { targets: '' } }, /returnRoutes\.targets must be a file name/],
    ];
    for (const [doc, message] of cases) usageError(() => parseServeConfig(doc, 'c.json'), message);
  });
});

describe('parseListen and normalizeCidrs', () => {
  it('reads ADDRESS:PORT and [V6]:PORT', () => {
    assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    for (const bad of ['8080', 'localhost:80', '127.0.0.1:70000', '[::1]', ':80'])
      usageError(() => parseListen(bad), /--listen wants ADDRESS:PORT/);
  });

  it('makes single addresses into blocks and refuses the rest', () => {
    assert.deepEqual(normalizeCidrs(['127.0.0.1', '2001:2::/48'], '--allow'), ['127.0.0.1/32', '2001:2::/48']);
    usageError(() => normalizeCidrs(['10.0.0.0/33'], '--allow'), /--allow: 10\.0\.0\.0\/33 is not an address/);
  });
});
