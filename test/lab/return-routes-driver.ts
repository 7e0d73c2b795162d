// Runs inside the lab namespace: ReturnRoutes with the real backtrace and its
// own probe engine, driven by the test over the IPC channel. Its clock can be
// moved forward, so the test need not wait out a period.
// Usage: node --import tsx test/lab/return-routes-driver.ts '<DriverSetup JSON>'
import { CarrierTable } from '../../src/lookup/carriers.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { loadTargets } from '../../src/route/backtrace.js';
import { ReturnRoutes } from '../../src/server/return-routes.js';

export interface DriverSetup {
  targets: string;
  carriers: string;
  periodMs: number;
  cycles: number;
  interval: number;
  maxTtl: number;
}

export type DriverCommand =
  | { id: number; type: 'get' | 'peek' | 'close' | 'state' }
  | { id: number; type: 'advance'; ms: number };

/** Every answer carries the runs started and the probes the engine has sent so far. */
export interface DriverAnswer {
  id: number;
  runs: number;
  sent: number;
  value?: unknown;
  error?: string;
}

const setup = JSON.parse(process.argv[2] ?? '{}') as DriverSetup;
const engine = new ProbeEngine();
let offsetMs = 0;
const routes = new ReturnRoutes({
  engine,
  table: CarrierTable.load(setup.carriers),
  targets: loadTargets(setup.targets),
  periodMs: setup.periodMs,
  cycles: setup.cycles,
  interval: setup.interval,
  maxTtl: setup.maxTtl,
  now: () => Date.now() + offsetMs,
});

async function answer(m: DriverCommand): Promise<unknown> {
  switch (m.type) {
    case 'get':
      return routes.get();
    case 'peek':
      return routes.peek();
    case 'advance':
      offsetMs += m.ms;
      return offsetMs;
    case 'close':
      await routes.close();
      return undefined;
    case 'state':
      return undefined;
  }
}

process.on('message', (m: DriverCommand) => {
  // Commands are answered as they finish, not in order: several get() calls wait at once.
  answer(m).then(
    (value) => process.send?.({ id: m.id, runs: routes.runs, sent: engine.counters.sent, value } as DriverAnswer),
    (err: unknown) =>
      process.send?.({ id: m.id, runs: routes.runs, sent: engine.counters.sent, error: String(err) } as DriverAnswer),
  );
});
process.on('disconnect', () => {
  engine.close();
  process.exit(0);
});
process.send?.({ id: 0, runs: 0, sent: 0, value: 'ready' } as DriverAnswer);
