// Runs inside a lab namespace (optionally as an unprivileged user): traces a
// target with the library and prints one JSON line with everything seen.
// Usage: node --import tsx lab/agent.ts '<AgentJob JSON>'
import { performance } from 'node:perf_hooks';
import { ProbeEngine } from '../src/probe/engine.js';
import { Trace, type TraceOptions } from '../src/trace/trace.js';
import type { AgentJob, AgentProbe, AgentResult } from './agent-types.js';

async function run(job: AgentJob): Promise<AgentResult> {
  const engine = new ProbeEngine();
  const options: TraceOptions = { ...job.trace, engine };
  const probes: AgentProbe[] = [];
  let busy: NodeJS.Timeout | undefined;
  if (job.busy) {
    const { busyMs, periodMs } = job.busy;
    // Keep the event loop busy: `busyMs` of synchronous work every `periodMs`.
    busy = setInterval(() => {
      const end = performance.now() + busyMs;
      while (performance.now() < end);
    }, periodMs);
  }
  const elu = performance.eventLoopUtilization();
  const t = new Trace(job.target, options);
  t.on('probe', (e) => {
    const p: AgentProbe = {
      ttl: e.ttl,
      round: e.round,
      status: e.result.status,
      rttMs: e.result.rttMs,
      key: e.result.key,
    };
    if (e.result.kernelSendTime) p.kernelSendTime = true;
    if (e.result.reply) {
      p.from = e.result.reply.from;
      p.kind = e.result.reply.kind;
      p.kernelTime = e.result.reply.kernelTime;
      if (e.result.reply.mpls) p.mpls = e.result.reply.mpls;
    }
    probes.push(p);
  });
  await t.start();
  const report = await t.done;
  if (busy) clearInterval(busy);
  const loopUtilization = performance.eventLoopUtilization(elu).utilization;
  const result: AgentResult = {
    report: JSON.parse(JSON.stringify(report)),
    counters: { ...engine.counters },
    probes,
    loopUtilization,
  };
  engine.close();
  return result;
}

const job = JSON.parse(process.argv[2] ?? '{}') as AgentJob;
run(job).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0)),
  (err: Error & { code?: string }) => {
    process.stdout.write(`${JSON.stringify({ error: { code: err.code ?? 'EUNKNOWN', message: err.message } })}\n`, () =>
      process.exit(3),
    );
  },
);
