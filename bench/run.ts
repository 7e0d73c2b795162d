// `npm run bench`: throughput figures for the README (not a test: nothing here
// passes or fails). Probes go to loopback only.
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ProbeEngine, type ProbeRequest } from '../src/probe/engine.js';
import { ProbeRegistry, type RegisteredProbe } from '../src/probe/registry.js';
import { echoProbe, errqueueMessage, rawEchoReply, rawTimeExceeded } from '../test/probe/fixtures.js';

function row(name: string, value: string): void {
  console.log(`| ${name.padEnd(52)} | ${value.padStart(22)} |`);
}

function decodeBench(): void {
  const registry = new ProbeRegistry<RegisteredProbe>();
  for (let key = 0; key < 1000; key++) registry.add({ protocol: 'icmp', dst: '198.18.9.9', key, socket: 1 });
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
  let mode;
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
  row(`loopback ${mode.protocol}/${mode.socket} IPv${family}, ${window} in flight`, `${Math.round(total / wall).toLocaleString('en')} probes/s`);
  row(`  CPU per probe (send + receive + match)`, `${cpuUs.toFixed(1)} us`);
  row(`  RTT median / p99 (kernel stamps)`, `${(rtts[rtts.length >> 1]! * 1000).toFixed(0)} / ${(rtts[Math.floor(rtts.length * 0.99)]! * 1000).toFixed(0)} us`);
  row(`  replies`, `${rtts.length} of ${total}`);
  engine.close();
}

console.log(`vpsline bench, ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.version}, uid ${process.getuid?.()}`);
console.log(`| ${'what'.padEnd(52)} | ${'figure'.padStart(22)} |`);
console.log(`|${'-'.repeat(54)}|${'-'.repeat(24)}|`);
decodeBench();
for (const family of [4, 6] as const) {
  await loopbackBench('icmp', family, 50_000, 100);
  await loopbackBench('udp', family, 50_000, 100);
}
console.log(`| ${'peak RSS'.padEnd(52)} | ${`${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`.padStart(22)} |`);
