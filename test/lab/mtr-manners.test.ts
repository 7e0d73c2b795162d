// mtr's manners on a simulated path: how many probes reach the destination
// (counted by iptables in the namespace, against real mtr), when a report
// ends, that a resolver that never answers cannot delay the exit, and that
// the live view ends by itself on a silent destination when -c is given.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason, type Netns } from '../../lab/netns.js';
import { parseScenario } from '../../lab/sim/scenario.js';
import { Simulator } from '../../lab/sim/simulator.js';
import { toolSkipReason } from '../../lab/tools.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason() ?? toolSkipReason('mtr', 'mtr-tiny');
/** twenty-ms: four routers, the target at TTL 5, 20 ms away. */
const TARGET = '198.18.200.1';
const DEST_TTL = 5;
const DNS_ADDRESS = '198.18.0.53';

interface Run {
  stdout: string;
  code: number | null;
  /** ms from start to the last byte on stdout, and to the exit. */
  outputMs: number;
  exitMs: number;
}

function runIn(ns: Netns, cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let outputMs = 0;
    let stdout = '';
    const child = spawn('ip', ['netns', 'exec', ns.name, cmd, ...args], { cwd: projectRoot });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      outputMs = performance.now() - t0;
    });
    child.stderr.resume();
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(kill);
      resolve({ stdout, code, outputMs, exitMs: performance.now() - t0 });
    });
  });
}

const vpsline = (ns: Netns, args: string[]): Promise<Run> =>
  runIn(ns, process.execPath, [`${projectRoot}/bin/vpsline.js`, 'mtr', ...args]);

/** Probes to TARGET that leave the namespace, split by whether their TTL reaches the destination. */
class ProbeCounter {
  private readonly chain = `VL${randomBytes(3).toString('hex').toUpperCase()}`;
  constructor(
    private readonly ns: Netns,
    probes: readonly string[],
  ) {
    const ipt = (...a: string[]): string => ns.exec('iptables', ['-w', ...a]);
    ipt('-N', this.chain);
    ipt('-A', 'OUTPUT', '-d', TARGET, ...probes, '-j', this.chain);
    // Rule 1: TTL exactly the destination's; rule 2: beyond it; rule 3: every probe.
    ipt('-A', this.chain, '-m', 'ttl', '--ttl-eq', String(DEST_TTL));
    ipt('-A', this.chain, '-m', 'ttl', '--ttl-gt', String(DEST_TTL));
    ipt('-A', this.chain);
  }

  read(): { atDestination: number; beyond: number; all: number } {
    const out = this.ns.exec('iptables', ['-w', '-L', this.chain, '-n', '-v', '-x', '-Z']);
    const packets = out
      .split('\n')
      .slice(2)
      .filter((l) => l.trim())
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    return { atDestination: packets[0] ?? NaN, beyond: packets[1] ?? NaN, all: packets[2] ?? NaN };
  }
}

describe('vpsline mtr manners', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');

  for (const [what, probes, flags] of [
    ['echo request', ['-p', 'icmp', '--icmp-type', 'echo-request'], []],
    ['UDP probe', ['-p', 'udp'], ['-u']],
  ] as const) {
    test(`one ${what} per round reaches the destination, none past it after round 1 (mtr: 11 in 10)`, async (t) => {
      const counter = new ProbeCounter(path.sim.ns, probes);
      const args = ['-rn', ...flags, '-c', '10', '-i', '0.5', TARGET];
      const ours = await vpsline(path.sim.ns, args);
      assert.equal(ours.code, 0);
      const o = counter.read();
      const theirs = await runIn(path.sim.ns, 'mtr', args);
      assert.equal(theirs.code, 0);
      const m = counter.read();
      t.diagnostic(`vpsline: ${JSON.stringify(o)}  mtr: ${JSON.stringify(m)}`);
      // Both found the path: five hops, the destination last.
      for (const r of [ours.stdout, theirs.stdout]) assert.match(r, new RegExp(` ${DEST_TTL}\\.\\|-- ${TARGET} `));
      // Every round sends the destination's TTL once. The round-1 pace (interval/10 = 50 ms)
      // is longer than the path's 20 ms, so TTL 6 goes out only if that answer is late
      // (a loaded machine): at most once, in round 1; later rounds stop at the destination.
      assert.equal(o.atDestination, 10);
      assert.ok(o.beyond <= 1, `${o.beyond} probes beyond the destination`);
      assert.equal(o.all, 10 * DEST_TTL + o.beyond);
      assert.ok(o.atDestination + o.beyond <= m.atDestination + m.beyond, 'no more than mtr sends');
    });
  }

  test('a report ends when its last probe is settled, not an interval later', async (t) => {
    const r = await vpsline(path.sim.ns, ['-rn', '-c', '1', '-i', '10', TARGET]);
    t.diagnostic(`-c 1 -i 10: ${r.exitMs.toFixed(0)} ms`);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(` ${DEST_TTL}\\.\\|-- ${TARGET} +0\\.0%`));
    // One round: five TTLs, each sent when the one before is answered (~20 ms), plus
    // Node's start-up; nowhere near the 10 s interval (later rounds spread over it, as mtr's do).
    assert.ok(r.exitMs < 5000, `-c 1 -i 10 took ${r.exitMs} ms`);
  });

  test('a resolver that never answers delays neither the report nor the exit', async (t) => {
    const ns = path.sim.ns;
    try {
      ns.ip('addr', 'add', `${DNS_ADDRESS}/32`, 'dev', 'lo');
    } catch {} // already there
    const dns = path.lab.spawn(
      ns,
      process.execPath,
      ['--import', 'tsx', `${projectRoot}/lab/dns-server.ts`, JSON.stringify({ silent: true, listen: DNS_ADDRESS })],
      { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      dns.stdout?.once('data', () => resolve());
      dns.once('exit', (code) => reject(new Error(`dns server exited with ${code}`)));
    });
    // The resolver's defaults (5 s, 2 attempts): a blocking lookup would take 10 s.
    mkdirSync(`/etc/netns/${ns.name}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns.name}/resolv.conf`, `nameserver ${DNS_ADDRESS}\n`);
    const r = await vpsline(ns, ['-rb', '-c', '1', '-i', '0.2', TARGET]);
    t.diagnostic(`report after ${r.outputMs.toFixed(0)} ms, exit after ${r.exitMs.toFixed(0)} ms`);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(` ${DEST_TTL}\\.\\|-- ${TARGET} +0\\.0%`));
    assert.ok(r.outputMs < 5000, `report after ${r.outputMs} ms`);
    assert.ok(r.exitMs - r.outputMs < 1000, `exit ${r.exitMs - r.outputMs} ms after the report`);
  });
});

describe('a silent destination behind a lossy hop', { skip }, () => {
  const socket = `vl${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const scenario = parseScenario(
    [
      'name: silent-destination',
      'paths:',
      '  - target: { v4: 198.18.205.1 }',
      '    hops:',
      '      - { v4: 198.18.196.1 }',
      '      - { v4: 198.18.197.1, loss: 30% }',
      '    destination: { icmp: silent, udp: silent, tcp: silent }',
    ].join('\n'),
  );
  const lab = new Lab();
  let sim: Simulator | undefined;
  before(async () => {
    sim = await Simulator.start(lab, scenario);
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {}
    await lab.close();
  });
  const ns = (): Netns => {
    assert.ok(sim, 'the simulator is running');
    return sim.ns;
  };

  test('the live view with -c finishes by itself with exit 0', { skip: toolSkipReason('tmux', 'tmux') }, async () => {
    const cmd =
      `ip netns exec ${ns().name} ${process.execPath} ${projectRoot}/bin/vpsline.js mtr -n -c 3 -i 0.1 -Z 0.5 ` +
      '198.18.205.1; echo EXIT=$?; sleep 60';
    tmux('new-session', '-d', '-s', 'silent', '-x', '100', '-y', '30', cmd);
    let lines: string[] = [];
    for (let i = 0; i < 150 && !lines.some((l) => l.startsWith('EXIT=')); i++) {
      await sleep(100);
      lines = tmux('capture-pane', '-p', '-t', 'silent').split('\n');
    }
    assert.ok(lines.includes('EXIT=0'), `the live view did not end with exit 0:\n${lines.join('\n')}`);
  });

  test("-G caps the wait for the last round's answers (-Z stays 2 s)", async (t) => {
    const args = ['-rn', '-c', '1', '-i', '0.1', '198.18.205.1'];
    const plain = await vpsline(ns(), args);
    const grace = await vpsline(ns(), ['-G', '0.3', ...args]);
    t.diagnostic(`without -G: ${plain.exitMs.toFixed(0)} ms; -G 0.3: ${grace.exitMs.toFixed(0)} ms`);
    for (const r of [plain, grace]) {
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^ {2}1\.\|-- 198\.18\.196\.1 /m);
    }
    // The silent TTLs are given up after 2 s without -G, after 0.3 s with it.
    assert.ok(plain.exitMs >= 2000, `without -G: ${plain.exitMs} ms`);
    assert.ok(grace.exitMs < plain.exitMs - 1000, `-G 0.3: ${grace.exitMs} ms`);
  });
});
