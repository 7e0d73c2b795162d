// mtr's -a (source address) and -I (interface) on real routers: the first
// router counts, by source address, what reaches it (iptables' raw table sees
// every packet before routing), so the test knows which address the probes
// really left from and whether they left at all.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { buildRouterChain, type RouterChain } from '../../lab/routers.js';

const skip =
  labSkipReason() ??
  (spawnSync('iptables', ['--version']).status === 0
    ? undefined
    : 'iptables is not installed (apt-get install iptables)');
const BIN = `${projectRoot}/bin/vpsline.js`;
// The client's link has two addresses of each family; the kernel picks one as the default source.
const ADDRESSES = { 4: ['198.18.1.1', '198.18.1.9'], 6: ['2001:2:0:1::1', '2001:2:0:1::9'] } as const;
const SECOND4 = ADDRESSES[4][1];
const SECOND6 = ADDRESSES[6][1];

describe('mtr -a and -I on real routers', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  before(() => {
    chain = buildRouterChain(lab, 2);
    chain.client.ip('addr', 'add', `${SECOND4}/24`, 'dev', 'vla0');
    chain.client.ip('-6', 'addr', 'add', `${SECOND6}/64`, 'dev', 'vla0', 'nodad');
    // Count, on the first router, every packet from each of the client's addresses.
    for (const a of ADDRESSES[4]) chain.routers[0]!.exec('iptables', ['-t', 'raw', '-A', 'PREROUTING', '-s', a]);
    for (const a of ADDRESSES[6]) chain.routers[0]!.exec('ip6tables', ['-t', 'raw', '-A', 'PREROUTING', '-s', a]);
  });
  after(() => lab.close());

  /** Packets the first router has seen from `address`. */
  const seen = (address: string): number => {
    const v6 = address.includes(':');
    const out = chain.routers[0]!.exec(v6 ? 'ip6tables' : 'iptables', ['-t', 'raw', '-L', 'PREROUTING', '-vnx']);
    const row = out.split('\n').find((l) => l.split(/\s+/).includes(address));
    return Number(row?.trim().split(/\s+/)[0] ?? Number.NaN);
  };
  /** The client address the kernel does not choose by default for `target`. */
  const notDefault = (family: 4 | 6, target: string): string => {
    const route = chain.client.ip(...(family === 6 ? ['-6'] : []), 'route', 'get', target);
    const src = /\bsrc (\S+)/.exec(route)?.[1];
    const other = ADDRESSES[family].find((a) => a !== src);
    assert.ok(src && other, route);
    return other;
  };

  const mtr = (args: string[]) => {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', chain.client.name, process.execPath, BIN, 'mtr', '-rn', '-c', '3', '-i', '0.1', ...args],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const hops = r.stdout.split('\n').filter((l) => /\|--/.test(l));
    return { status: r.status, stderr: r.stderr, hops, answered: hops.filter((l) => !/\?\?\?/.test(l)).length };
  };

  for (const [family, extra] of [
    [4, []],
    [4, ['-u']],
    [4, ['-T', '-P', '9']],
    [4, ['--flows', '2']],
    [6, []],
  ] as const) {
    test(`-a: IPv${family} ${extra.join(' ') || 'ICMP'} probes leave from the chosen address, replies return`, () => {
      const target = family === 4 ? chain.server4 : chain.server6;
      const chosen = notDefault(family, target);
      const before = seen(chosen);
      const plain = mtr([...extra, target]);
      assert.equal(plain.status, 0, plain.stderr);
      assert.equal(seen(chosen), before, `without -a nothing leaves from ${chosen}`);
      const r = mtr(['-a', chosen, ...extra, target]);
      assert.equal(r.status, 0, r.stderr);
      // Three hops answer (in each flow's report with --flows).
      const reports = extra[0] === '--flows' ? 2 : 1;
      assert.equal(r.answered, 3 * reports, r.hops.join('\n'));
      // Three rounds of three hops per report, all from the chosen address.
      assert.ok(seen(chosen) - before >= 9 * reports, `${seen(chosen) - before} packets from ${chosen}`);
    });
  }

  test('-I: the right interface works; loopback sends nothing out; a missing one is one line', () => {
    const before = seen(SECOND4);
    const out = mtr(['-I', 'vla0', '-a', SECOND4, chain.server4]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.answered, 3);
    assert.ok(seen(SECOND4) > before);
    const after = seen(SECOND4);
    const lo = mtr(['-I', 'lo', '-a', SECOND4, chain.server4]);
    assert.equal(lo.answered, 0, lo.hops.join('\n'));
    assert.equal(seen(SECOND4), after, 'nothing reached the router through lo');
    const missing = mtr(['-I', 'vl-nosuch0', chain.server4]);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr.trim(), 'vpsline: -I vl-nosuch0: there is no such interface (ENODEV).');
  });

  test('-a refusals: not this machine, the other family, not an address', () => {
    const other = mtr(['-a', '198.18.77.1', chain.server4]);
    assert.equal(other.status, 1);
    assert.equal(other.stderr.trim(), 'vpsline: -a 198.18.77.1: it is not an address of this machine (EADDRNOTAVAIL).');
    const family = mtr(['-a', SECOND6, chain.server4]);
    assert.equal(family.status, 2);
    assert.match(family.stderr, /is an IPv6 address, but the target is IPv4/);
    const junk = mtr(['-a', 'nonsense', chain.server4]);
    assert.equal(junk.status, 2);
    assert.match(junk.stderr, /give an IPv4 or IPv6 address of this machine/);
  });
});
