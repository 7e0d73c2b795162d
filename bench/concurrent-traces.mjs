// Child process of the benchmark: N traces at once in one process, on one
// shared engine, each to its own loopback address (127.0.x.y) inside a lab
// namespace. Prints one JSON line: probes, seconds, CPU, RSS, replies that
// came from another trace's destination (must be 0). Plain JavaScript on the
// built package (dist/), so it measures what a user's program would run.
import { performance } from 'node:perf_hooks';
import { ProbeEngine, Trace } from '../dist/index.js';

const traces = Number(process.argv[2] ?? 1);
const seconds = Number(process.argv[3] ?? 3);
const interval = Number(process.argv[4] ?? 0.02);

const engine = new ProbeEngine();
engine.prepare(4, 'icmp', 'raw');
await engine.ready();
const address = (i) => `127.0.${(i >> 8) + 1}.${i & 255 || 1}`;
let wrong = 0;
let replies = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const running = Array.from({ length: traces }, (_, i) => {
  const dst = address(i);
  const t = new Trace(dst, {
    engine,
    protocol: 'icmp',
    icmpSocket: 'raw',
    interval,
    cycles: Math.round(seconds / interval),
    maxTtl: 4,
    timeout: 1,
  });
  t.on('probe', (e) => {
    if (e.result.reply) {
      replies++;
      if (e.result.reply.from !== dst) wrong++;
    }
  });
  void t.start();
  return t.done;
});
await Promise.all(running);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const c = engine.counters;
process.stdout.write(
  `${JSON.stringify({
    traces,
    sent: c.sent,
    replies,
    wrong,
    matched: c.matched,
    foreign: c.foreign,
    seconds: wall,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
engine.close();
