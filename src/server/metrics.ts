// /metrics in Prometheus form: base units (seconds), _total on counters, no
// per-address labels (hop and visitor addresses would explode cardinality).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'vpsline_http_requests_total',
    help: 'HTTP requests answered',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'vpsline_requests_refused_total',
    help: 'Requests refused by a limit or a check',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly tracesStarted = new Counter({
    name: 'vpsline_traces_started_total',
    help: 'Traces started',
    registers: [this.registry],
  });
  readonly tracesFinished = new Counter({
    name: 'vpsline_traces_finished_total',
    help: 'Traces finished',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly traceSeconds = new Histogram({
    name: 'vpsline_trace_duration_seconds',
    help: 'How long traces ran',
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly running: Gauge;
  readonly streams = new Gauge({
    name: 'vpsline_streams_open',
    help: 'Live viewers (server-sent event streams) connected',
    registers: [this.registry],
  });
  readonly reports = new Counter({
    name: 'vpsline_reports_stored_total',
    help: 'Forward traces uploaded and stored',
    registers: [this.registry],
  });

  readonly storeBytes: Gauge;

  constructor(runningNow: () => number, storeBytesNow: () => number) {
    this.storeBytes = new Gauge({
      name: 'vpsline_store_bytes',
      help: 'Bytes the SQLite store holds (pages in use), kept under limits.maxDbMb',
      registers: [this.registry],
      collect() {
        this.set(storeBytesNow());
      },
    });
    this.running = new Gauge({
      name: 'vpsline_traces_running',
      help: 'Traces running now',
      registers: [this.registry],
      collect() {
        this.set(runningNow());
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'vpsline_' });
  }
}
