// Reverse DNS (-b) and AS numbers (-z --aslookup-dns: Team Cymru, as mtr asks) from a DNS server
// inside the lab; and
// a DNS server that never answers, which must not keep a report from coming.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cymruName } from '../../src/lookup/asn.js';
import { projectRoot } from '../../lab/checkout.js';
import type { DnsConfig } from '../../lab/dns-server.js';
import { labSkipReason, type Lab, type Netns } from '../../lab/netns.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();
const DNS_ADDRESS = '198.18.0.53';

async function startDns(lab: Lab, ns: Netns, config: Omit<DnsConfig, 'listen'>): Promise<void> {
  try {
    ns.ip('addr', 'add', `${DNS_ADDRESS}/32`, 'dev', 'lo');
  } catch {} // already there from an earlier test
  const child = lab.spawn(
    ns,
    process.execPath,
    ['--import', 'tsx', `${projectRoot}/lab/dns-server.ts`, JSON.stringify({ ...config, listen: DNS_ADDRESS })],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`dns server exited with ${code}`)));
  });
  ns.useNameserver(DNS_ADDRESS);
}

/** Run a command in the namespace and collect its output. */
async function vpsline(ns: Netns, args: string[]): Promise<string> {
  const r = await promisify(execFile)(
    'ip',
    ['netns', 'exec', ns.name, process.execPath, `${projectRoot}/bin/vpsline.js`, ...args],
    { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 },
  );
  return r.stdout;
}

describe('host names and AS numbers', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');

  test('-b shows names, -z shows AS numbers, in the report and in JSON', async () => {
    await startDns(path.lab, path.sim.ns, {
      ptr: { '1.100.18.198.in-addr.arpa': 'r1.lab.example', '1.200.18.198.in-addr.arpa': 'target.lab.example' },
      txt: {
        [cymruName('198.18.101.1')]: '4809 | 198.18.101.0/24 | CN | apnic | 2000-01-01',
        [cymruName('198.18.200.1')]: '4134 | 198.18.200.0/24 | CN | apnic | 2000-01-01',
      },
    });
    const report = await vpsline(path.sim.ns, [
      'mtr',
      '-rwbz',
      '--aslookup-dns',
      '-c',
      '3',
      '-i',
      '0.1',
      '198.18.200.1',
    ]);
    const rows = report.split('\n').filter((l) => /^ +\d+\. AS/.test(l));
    assert.match(rows[0]!, /^ {2}1\. AS\?\?\? +r1\.lab\.example \(198\.18\.100\.1\) /);
    assert.match(rows[1]!, /^ {2}2\. AS4809 +198\.18\.101\.1 /);
    assert.match(rows[4]!, /^ {2}5\. AS4134 +target\.lab\.example \(198\.18\.200\.1\) /);
    const json = JSON.parse(
      await vpsline(path.sim.ns, ['mtr', '-j', '-z', '--aslookup-dns', '-c', '2', '-i', '0.1', '198.18.200.1']),
    );
    const hubs = json.report.hubs as { host: string; ASN: string }[];
    assert.deepEqual(
      hubs.map((h) => h.ASN),
      ['AS???', 'AS4809', 'AS???', 'AS???', 'AS4134'],
    );
    assert.equal(hubs[0]!.host, 'r1.lab.example');
  });

  test('a DNS server that never answers does not keep the report from coming', async () => {
    const ns = path.lab.namespace('deaf');
    // A namespace whose only way out is to a resolver that swallows queries.
    await startDns(path.lab, ns, { silent: true });
    const report = await vpsline(ns, ['mtr', '-rwbz', '--aslookup-dns', '-c', '2', '-i', '0.1', '127.0.0.1']);
    // /etc/hosts still names 127.0.0.1; the AS lookup gets no answer.
    assert.match(report, /^ {2}1\. AS\?\?\? +(localhost \(127\.0\.0\.1\)|127\.0\.0\.1) +0\.0%/m);
  });
});
