// Target resolution: literals are taken as they are (canonical text), IPv4
// hidden in an IPv4-mapped IPv6 literal is traced as IPv4 like mtr does, and a
// literal of the other family than -4/-6 asks for is a usage error. Only
// literals and /etc/hosts names: nothing here asks a DNS server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVpslineError } from '../../src/errors.js';
import { resolveTarget } from '../../src/lookup/resolve.js';

describe('resolveTarget', () => {
  it('keeps literals, in canonical form', async () => {
    assert.deepEqual(await resolveTarget('198.18.0.1'), { address: '198.18.0.1', family: 4 });
    assert.deepEqual(await resolveTarget('2001:0002:0:0::0001'), { address: '2001:2::1', family: 6 });
  });

  it('traces IPv4-mapped IPv6 literals as IPv4, in both spellings', async () => {
    assert.deepEqual(await resolveTarget('::ffff:127.0.0.1'), { address: '127.0.0.1', family: 4 });
    assert.deepEqual(await resolveTarget('::ffff:7f00:1'), { address: '127.0.0.1', family: 4 });
    assert.deepEqual(await resolveTarget('::ffff:127.0.0.1', 4), { address: '127.0.0.1', family: 4 });
  });

  it('refuses a literal of the other family with a usage error', async () => {
    for (const [target, family] of [
      ['198.18.0.1', 6],
      ['::ffff:127.0.0.1', 6],
      ['::1', 4],
    ] as const) {
      await assert.rejects(resolveTarget(target, family), (err: unknown) => {
        assert.ok(isVpslineError(err));
        assert.equal(err.code, 'EVPSLINE_BAD_OPTION');
        assert.equal(err.exitCode, 2);
        return true;
      });
    }
  });

  it('resolves names from the hosts file', async () => {
    const r = await resolveTarget('localhost', 4);
    assert.deepEqual(r, { address: '127.0.0.1', family: 4 });
  });
});
