// `npm run bench`: throughput figures for the README (not a test: nothing here
// passes or fails). Probes go to loopback only.
import { execFile, execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Lab, labSkipReason, type Netns } from '../lab/netns.js';
import { runAgent } from '../lab/run-agent.js';
import { loadNamedScenario } from '../lab/sim/scenario.js';
import { Simulator } from '../lab/sim/simulator.js';
import { hasCommand as has } from '../lab/tools.js';
import { ProbeEngine, type ProbeRequest } from '../src/probe/engine.js';
import { ProbeRegistry, type RegisteredProbe } from '../src/probe/registry.js';
import { echoProbe, errqueueMessage, rawEchoReply, rawTimeExceeded } from '../lab/packets.js';
import { lookingGlassBench } from './looking-glass.js';
import { watchBench } from './watch.js';

function row(name: string, value: string): void {
  console.log(`| ${name.padEnd(58)} | ${value.padStart(22)} |`);
}

/** `vpsline --version` and `--help`: how long the CLI takes to start (commands load only when chosen). */
function startupBench(): void {
  const bin = new URL('../bin/vpsline.js', import.meta.url).pathname;
  for (const args of [['--version'], ['mtr', '--help']]) {
    const times: number[] = [];
    for (let i = 0; i < 21; i++) {
      const t0 = performance.now();
      execFileSync(process.execPath, [bin, ...args], { stdio: 'ignore' });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
    row(`vpsline ${args.join(' ')}, wall time (median of 21)`, `${median.toFixed(0)} ms`);
  }
}

/**
 * What the privilege switch costs a command started as root: `mtr -c 1` to loopback with the switch
 * (re-executing as nobody) and with --keep-capabilities (no switch). Loopback only.
 */
function privilegeSwitchBench(): void {
  if (process.getuid?.() !== 0) {
    row('privilege switch (root)', 'skipped: not root');
    return;
  }
  const bin = new URL('../bin/vpsline.js', import.meta.url).pathname;
  const median = (extra: string[], env: NodeJS.ProcessEnv): number => {
    const times: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = performance.now();
      execFileSync(process.execPath, [bin, 'mtr', '-rn', '-c', '1', '127.0.0.1', ...extra], { stdio: 'ignore', env });
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[5] ?? Number.NaN;
  };
  const { VPSLINE_USER: _, ...env } = process.env;
  const switched = median([], env);
  const kept = median(['--keep-capabilities'], env);
  row('vpsline mtr -rn -c 1 127.0.0.1 as root, switching to nobody', `${switched.toFixed(0)} ms`);
  row('  the same with --keep-capabilities (no switch)', `${kept.toFixed(0)} ms`);
}

/** The offline AS index and the carrier table: ready time, added RSS, cost per lookup, package size. */
function asnBench(): void {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', new URL('./asn-child.ts', import.meta.url).pathname],
    { encoding: 'utf8' },
  );
  const r = JSON.parse(out) as Record<string, number>;
  const fmt = (v: number | undefined, digits: number): string => (v ?? Number.NaN).toFixed(digits);
  row(`AS index: ${(r.ranges ?? 0).toLocaleString('en')} ranges ready (import + load)`, `${fmt(r.readyMs, 0)} ms`);
  row('AS index: RSS added once loaded', `${fmt(r.addedMb, 1)} MB`);
  row('AS index: one lookup, IPv4 / IPv6', `${fmt(r.v4Us, 2)} / ${fmt(r.v6Us, 2)} us`);
  row('carrier table (data/carriers.json): ready', `${fmt(r.carriersMs, 0)} ms`);
  const data = new URL('../data/', import.meta.url).pathname;
  const size = (f: string): string => `${(statSync(`${data}${f}`).size / 1e6).toFixed(2)} MB`;
  row(
    'package size: data/asn-index.bin.gz / data/carriers.json',
    `${size('asn-index.bin.gz')} / ${size('carriers.json')}`,
  );
}

function decodeBench(): void {
  const registry = new ProbeRegistry<RegisteredProbe>();
  for (let key = 0; key < 1000; key++)
    registry.add({ identity: { by: 'icmp-seq', dst: '198.18.9.9', seq: key }, socket: 1 });
  const raw = { handle: 1, kind: 'raw' as const, family: 4 as const, icmpId: 0x1111 };
  const udp = { handle: 2, kind: 'udp' as const, family: 6 as const };
  const msgs = [
    rawEchoReply(4, '198.18.9.9', 0x1111, 5),
    rawTimeExceeded(4, '198.18.1.1', echoProbe(4, '198.18.9.9', 0x1111, 7)),
    rawTimeExceeded(4, '198.18.1.1', echoProbe(4, '198.18.9.9', 0x2222, 7)),
  ];
  const v6 = errqueueMessage(6, '2001:2:0:9::9', 33434, '2001:2:0:1::1', Buffer.alloc(36));
  const n = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) registry.match(i % 4 === 3 ? udp : raw, i % 4 === 3 ? v6 : msgs[i % 3]!);
  const s = (performance.now() - t0) / 1000;
  row('decode + match, mixed v4 raw / v6 error queue', `${Math.round(n / s).toLocaleString('en')} msg/s`);
}

async function loopbackBench(protocol: 'icmp' | 'udp', family: 4 | 6, total: number, window: number): Promise<void> {
  const engine = new ProbeEngine();
  let mode: ReturnType<ProbeEngine['prepare']>;
  try {
    mode = engine.prepare(family, protocol);
  } catch (err) {
    row(`loopback ${protocol} IPv${family}`, `skipped: ${(err as Error).message.slice(0, 40)}`);
    return;
  }
  await engine.ready();
  const dst = family === 4 ? '127.0.0.1' : '::1';
  const req: ProbeRequest = { family, protocol: mode.protocol, dst, ttl: 64, timeoutMs: 2000 };
  const rtts: number[] = [];
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let done = 0;
    const next = (): void => {
      if (sent >= total) return;
      sent++;
      engine.send(req, (r) => {
        done++;
        if (r.rttMs !== null) rtts.push(r.rttMs);
        if (done === total) resolve();
        else next();
      });
    };
    for (let i = 0; i < window; i++) next();
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / total;
  rtts.sort((a, b) => a - b);
  row(
    `loopback ${mode.protocol}/${mode.socket} IPv${family}, ${window} in flight`,
    `${Math.round(total / wall).toLocaleString('en')} probes/s`,
  );
  row(`  CPU per probe (send + receive + match)`, `${cpuUs.toFixed(1)} us`);
  row(
    `  RTT median / p99 (kernel stamps)`,
    `${(rtts[rtts.length >> 1]! * 1000).toFixed(0)} / ${(rtts[Math.floor(rtts.length * 0.99)]! * 1000).toFixed(0)} us`,
  );
  row(`  replies`, `${rtts.length} of ${total}`);
  engine.close();
}

const root = new URL('..', import.meta.url).pathname;
const exec = promisify(execFile);

/** Wall time of a command in the namespace. */
async function timed(ns: Netns, cmd: string, args: string[]): Promise<{ seconds: number; stdout: string }> {
  const t0 = performance.now();
  const r = await exec('ip', ['netns', 'exec', ns.name, cmd, ...args], { cwd: root, encoding: 'utf8' });
  return { seconds: (performance.now() - t0) / 1000, stdout: r.stdout };
}

function destinationAvg(report: string): number {
  const rows = report.split('\n').filter((l) => /\|--/.test(l));
  return Number(rows[rows.length - 1]!.trim().split(/\s+/)[5]);
}

async function labBench(): Promise<void> {
  const skip = labSkipReason();
  if (skip) {
    row('lab figures', `skipped: ${skip.slice(0, 30)}`);
    return;
  }
  const lab = new Lab();
  try {
    const sim = await Simulator.start(lab, loadNamedScenario('twenty-ms'));
    const args = ['-rn', '-c', '10', '-i', '0.2', '198.18.200.1'];
    const ours = await timed(sim.ns, process.execPath, [`${root}bin/vpsline.js`, 'mtr', ...args]);
    row('vpsline mtr -r -c 10 -i 0.2 (c x i = 2.0 s), wall time', `${ours.seconds.toFixed(2)} s`);
    if (has('mtr')) {
      const theirs = await timed(sim.ns, 'mtr', args);
      row('mtr 0.95 -r -c 10 -i 0.2, same path, wall time', `${theirs.seconds.toFixed(2)} s`);
      row(
        '  Avg at the destination (20 ms path): vpsline / mtr',
        `${destinationAvg(ours.stdout)} / ${destinationAvg(theirs.stdout)} ms`,
      );
    } else row('mtr 0.95 side by side', 'skipped: mtr not installed');
    if (has('ping')) {
      const ping = await timed(sim.ns, 'ping', ['-n', '-q', '-c', '50', '-i', '0.05', '198.18.200.1']);
      const pingAvg = Number(/= [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1]);
      const r = await runAgent(lab, sim.ns, {
        target: '198.18.200.1',
        trace: { protocol: 'icmp', icmpSocket: 'raw', cycles: 50, interval: 0.05 },
      });
      const dest = r.report.hops[r.report.hops.length - 1]!;
      row(
        'RTT bias against ping (50 probes, 20 ms path)',
        `${((dest.stats.mean - pingAvg) * 1000).toFixed(0)} us ` +
          `(${dest.stats.mean.toFixed(3)} vs ${pingAvg.toFixed(3)} ms)`,
      );
    } else row('RTT bias against ping', 'skipped: ping not installed');
    const trace = { protocol: 'icmp' as const, icmpSocket: 'raw' as const, cycles: 40, interval: 0.05 };
    const idle = await runAgent(lab, sim.ns, { target: '198.18.200.1', trace });
    const busy = await runAgent(lab, sim.ns, { target: '198.18.200.1', trace, busy: { busyMs: 5, periodMs: 6 } });
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const rtts = (r: typeof idle): number[] =>
      r.probes.filter((p) => p.ttl >= 2 && p.ttl <= 5 && p.rttMs !== null).map((p) => p.rttMs!);
    row(
      `RTT shift with the event loop ${(busy.loopUtilization * 100).toFixed(0)} % busy (median)`,
      `${((median(rtts(busy)) - median(rtts(idle))) * 1000).toFixed(1)} us`,
    );

    const ns = lab.namespace('bench');
    const taskset = has('taskset') ? ['taskset', '-c', '0'] : [];
    for (const [n, interval] of [
      [1, 0.02],
      [10, 0.02],
      [100, 0.02],
      [500, 0.02],
      [500, 0.01],
    ] as const) {
      const [cmd, ...pre] = taskset.length ? taskset : [process.execPath];
      const args = [
        ...pre,
        ...(taskset.length ? [process.execPath] : []),
        `${root}bench/concurrent-traces.mjs`,
        String(n),
        '3',
        String(interval),
      ];
      const out = JSON.parse(execFileSync('ip', ['netns', 'exec', ns.name, cmd!, ...args], { encoding: 'utf8' }));
      row(
        `${n} concurrent traces, -i ${interval}, one core: probes/s`,
        `${Math.round(out.sent / out.seconds).toLocaleString('en')}`,
      );
      row(
        `  CPU per probe / peak RSS / replies from the wrong trace`,
        `${((out.cpuSeconds / out.sent) * 1e6).toFixed(1)} us / ${out.rssMB.toFixed(0)} MB / ${out.wrong}`,
      );
    }
  } finally {
    await lab.close();
  }
}

console.log(
  `vpsline bench, ${new Date().toISOString().slice(0, 10)}, ` +
    `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.version}, uid ${process.getuid?.()}`,
);
console.log(`| ${'what'.padEnd(58)} | ${'figure'.padStart(22)} |`);
console.log(`|${'-'.repeat(60)}|${'-'.repeat(24)}|`);
startupBench();
privilegeSwitchBench();
asnBench();
decodeBench();
for (const family of [4, 6] as const) {
  await loopbackBench('icmp', family, 50_000, 100);
  await loopbackBench('udp', family, 50_000, 100);
}
await labBench();
await lookingGlassBench(row);
await watchBench(row);
