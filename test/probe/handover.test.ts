// The handover across execve and the reading of /proc status text: pure
// parts of the privilege boundary (test/lab/privileges.test.ts runs it whole).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeHandover, encodeHandover, parseThreadStatus, threadIsPrivileged } from '../../src/probe/handover.js';

describe('handover', () => {
  test('round trip', () => {
    const h = {
      sockets: [
        { name: '4/raw', fd: 21 },
        { name: '6/udp-flow2', fd: 30 },
      ],
      failed: [{ index: 1, code: 'EVPSLINE_SOCKET', message: 'IPv6 is not available' }],
      listenFd: 22,
    };
    assert.deepEqual(decodeHandover(encodeHandover(h)), h);
  });

  test('refuses what is not a handover, saying why', () => {
    for (const [text, why] of [
      ['', /not JSON/],
      ['[]', /sockets or failed missing/],
      ['{"sockets":[{"name":"4/raw","fd":1}],"failed":[]}', /without name or fd/], // stdout is no socket of ours
      ['{"sockets":[{"name":"4/raw","fd":3.5}],"failed":[]}', /without name or fd/],
      ['{"sockets":[],"failed":[{"index":0}]}', /without index, code or message/],
      ['{"sockets":[],"failed":[],"listenFd":-1}', /listenFd/],
    ] as const)
      assert.throws(() => decodeHandover(text), why, text);
  });
});

describe('thread status', () => {
  test("this test's own thread, read from the kernel", () => {
    const t = parseThreadStatus(readFileSync('/proc/self/status', 'utf8'));
    assert.equal(t.uids.length, 4);
    assert.equal(t.uids[0], process.getuid?.());
    // Root has its capabilities; anyone else has none unless given them.
    assert.equal(t.caps.CapEff !== 0n, process.getuid?.() === 0);
  });

  const status = (over: Record<string, string>): string =>
    Object.entries({
      Uid: '65534\t65534\t65534\t65534',
      CapInh: '0000000000000000',
      CapPrm: '0000000000000000',
      CapEff: '0000000000000000',
      CapBnd: '0000000000000000',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
      ...over,
    })
      .map(([k, v]) => `${k}:\t${v}`)
      .join('\n');

  test('privileged: any capability held, or new privileges still possible', () => {
    assert.equal(threadIsPrivileged(parseThreadStatus(status({}))), false);
    // The bounding set alone is a limit, not a privilege (a non-root process cannot clear it).
    assert.equal(threadIsPrivileged(parseThreadStatus(status({ CapBnd: '000001ffffffffff' }))), false);
    for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb'])
      assert.equal(threadIsPrivileged(parseThreadStatus(status({ [k]: '0000000000002000' }))), true, k);
    assert.equal(threadIsPrivileged(parseThreadStatus(status({ NoNewPrivs: '0' }))), true);
  });

  test('a status text without the fields is an error, not "unprivileged"', () => {
    assert.throws(() => parseThreadStatus('Name:\tnode\n'), /no Uid line/);
  });
});
