// Origin AS numbers for hops the carrier table does not name: from a local
// file, or from Team Cymru-style DNS answered by the lab DNS server on
// loopback (nothing leaves the machine).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AsnLookup, cymruName } from '../../src/lookup/asn.js';
import { AsnDatabase } from '../../src/lookup/asn-file.js';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { classify, type ClassifyHop } from '../../src/route/classify.js';
import { noteText } from '../../src/route/notes.js';
import { addOriginAs } from '../../src/route/origin-as.js';
import { answer, questionName, type DnsConfig } from '../../lab/dns-server.js';
import { scratchDir } from '../support/scratch.js';

const table = CarrierTable.load();

/**
 * A foreign path, two hops that only an AS names (documentation space standing in for CUG, AS10099:
 * the table has no prefix for it), then 4837 by prefix.
 */
function path(): ClassifyHop[] {
  return [
    { ttl: 1, address: '10.0.0.1' },
    { ttl: 2, address: '203.0.113.9' },
    { ttl: 3, address: '198.51.100.65' },
    { ttl: 4, address: '198.51.100.130' },
    { ttl: 5, address: '219.158.3.9' },
    { ttl: 6, address: '219.158.98.6' },
  ];
}

describe('AS database file', () => {
  test('ip2asn TSV ranges, AS 0 skipped, IPv6, mapped addresses', () => {
    const db = AsnDatabase.parse(
      [
        '43.252.86.0\t43.252.86.255\t10099\tHK\tCUG-BACKBONE China Unicom Global',
        '43.252.87.0\t43.252.87.255\t0\tNone\tNot routed',
        '2001:2::\t2001:2::ffff\t64500\tZZ\tLab',
      ].join('\n'),
    );
    assert.equal(db.size, 2);
    assert.equal(db.lookup('43.252.86.65'), 10099);
    assert.equal(db.lookup('::ffff:43.252.86.65'), 10099);
    assert.equal(db.lookup('43.252.87.1'), null, 'not routed');
    assert.equal(db.lookup('43.252.85.255'), null);
    assert.equal(db.lookup('2001:2::42'), 64500);
    assert.equal(db.lookup('2001:2::1:0'), null);
    assert.equal(db.lookup('nonsense'), null);
  });

  test('nested prefixes: the narrowest holding the address wins, the wider one still answers around it', () => {
    const db = AsnDatabase.parse(
      ['10.0.0.0/8 AS64501', '10.1.0.0/16 64502', '10.1.2.0/24 64503', '10.9.0.0/16 64504', '# comment', ''].join('\n'),
    );
    assert.equal(db.lookup('10.1.2.3'), 64503);
    assert.equal(db.lookup('10.1.3.3'), 64502);
    assert.equal(db.lookup('10.2.0.1'), 64501);
    assert.equal(db.lookup('10.200.0.1'), 64501, 'after a nested /16 ends, the /8 still holds');
    assert.equal(db.lookup('11.0.0.1'), null);
  });

  test('a bad line is named with its number', () => {
    assert.throws(() => AsnDatabase.parse('10.0.0.0/8 64501\n10.0.0.0/33 1\n', 'my.db'), /my\.db line 2 is not/);
    assert.throws(() => AsnDatabase.parse('10.0.0.9 10.0.0.1 64501\n'), /line 1/);
    assert.throws(() => AsnDatabase.parse('10.0.0.0/8 ASX\n'), /line 1/);
  });

  test('every public hop gets its AS from a file, and the classifier names AS10099 by it', async () => {
    const db = AsnDatabase.parse('198.51.100.0/24 10099\n219.158.0.0/16 64999\n10.0.0.0/8 64998\n');
    const hops = path();
    const note = await addOriginAs(hops, table, { kind: 'file', database: db });
    assert.equal(note, undefined);
    assert.deepEqual(
      hops.map((h) => h.asn ?? null),
      [null, null, 10099, 10099, 64999, 64999],
      'private hops are not looked up; a prefix of the table still wins over the AS',
    );
    const c = classify(hops, table);
    assert.equal(c.verdict, 'cu-4837');
    assert.deepEqual(
      c.evidence.filter((e) => e.by === 'asn').map((e) => [e.ttl, e.carrier]),
      [
        [3, 'cu-10099'],
        [4, 'cu-10099'],
      ],
    );
    assert.ok(c.noteCodes.some((n) => n.code === 'via-cug'));
    // Without the lookup the CUG hops are unknown, and nothing says the path came in through CUG.
    assert.ok(!classify(path(), table).noteCodes.some((n) => n.code === 'via-cug'));
  });

  test("ip-location-db's CSV (the shipped index's source format) reads the same", () => {
    const db = AsnDatabase.parse('198.51.100.0,198.51.100.255,10099,"China Unicom (Hong Kong), Ltd"\n');
    assert.equal(db.lookup('198.51.100.7'), 10099);
  });
});

describe('Team Cymru DNS (lab server on loopback)', () => {
  let server: Socket;
  let address: string;
  const config: DnsConfig = {
    listen: '127.0.0.1',
    txt: {
      [cymruName('198.51.100.65')]: '10099 | 198.51.100.0/24 | HK | apnic | 2014-01-01',
      [cymruName('198.51.100.130')]: '10099 | 198.51.100.0/24 | HK | apnic | 2014-01-01',
    },
  };
  /** Names the server never answers: the lookup must give up on them. */
  const ignored = new Set([cymruName('203.0.113.9')]);

  before(async () => {
    server = createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      // Stay silent for the "ignored" names so the deadline has something to cut.
      if (ignored.has(questionName(msg) ?? '')) return;
      const reply = answer(config, msg);
      if (reply) server.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${server.address().port}`;
  });
  after(() => server.close());

  test('answers fill in AS numbers; a name that never answers is cut at the deadline and reported', async () => {
    const hops = path();
    const lookup = new AsnLookup({ servers: [address], timeoutMs: 300 });
    const note = await addOriginAs(hops, table, { kind: 'dns', lookup }, { deadlineMs: 1000 });
    assert.deepEqual(
      hops.map((h) => h.asn ?? null),
      [null, null, 10099, 10099, null, null],
    );
    assert.deepEqual(note, { late: 1, asked: 3 });
    assert.equal(
      noteText({ code: 'as-lookup-late', params: note! }),
      'AS lookup: 1 of 3 hop(s) did not answer in time and stay unnamed.',
    );
    assert.ok(classify(hops, table).noteCodes.some((n) => n.code === 'via-cug'));
  });
});

describe('vpsline classify --asn-db', () => {
  test('a NextTrace-less trace (traceroute text) gets AS10099 from the file', async () => {
    const dir = scratchDir('vpsline-asn-');
    const db = join(dir, 'ip2asn.tsv');
    writeFileSync(db, '198.51.100.0\t198.51.100.255\t10099\tHK\tCUG-BACKBONE\n');
    const trace = [
      'traceroute to 198.18.9.9 (198.18.9.9), 30 hops max',
      ' 1  10.0.0.1  0.3 ms',
      ' 2  203.0.113.9  2.0 ms',
      ' 3  198.51.100.65  150.1 ms',
      ' 4  198.51.100.130  151.0 ms',
      ' 5  219.158.3.9  170.2 ms',
      ' 6  219.158.98.6  172.0 ms',
      ' 7  198.18.9.9  175.0 ms',
    ].join('\n');
    const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;
    const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
      new Promise((resolve) => {
        const child = execFile(
          process.execPath,
          [bin, 'classify', ...args, '-'],
          { encoding: 'utf8' },
          (error, out, err) => resolve({ code: error ? (error.code as number) : 0, out, err }),
        );
        child.stdin!.end(trace);
      });
    const withDb = await run(['--json', '--asn-db', db]);
    assert.equal(withDb.code, 0, withDb.err);
    const v = JSON.parse(withDb.out) as { verdict: string; evidence: { by: string; carrier: string }[] };
    assert.equal(v.verdict, 'cu-4837');
    assert.equal(v.evidence.filter((e) => e.by === 'asn' && e.carrier === 'cu-10099').length, 2);
    // The shipped index does not know documentation space: no CUG hop then.
    const without = JSON.parse((await run(['--json'])).out) as { evidence: { carrier: string }[] };
    assert.equal(without.evidence.filter((e) => e.carrier === 'cu-10099').length, 0);
    const bad = await run(['--asn-db', join(dir, 'missing.tsv')]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /Cannot read the AS data/);
    assert.doesNotMatch(bad.err, /\n\s+at /, 'no stack trace');
    assert.equal(readFileSync(db, 'utf8').length > 0, true);
  });
});
