// A real Prometheus (Debian's /usr/bin/prometheus) scrapes a running
// `vpsline watch` every second, both inside a lab namespace whose simulated
// paths jitter and lose probes. Afterwards every value Prometheus stored must
// be the one of the sample the watch had stored at that scrape (its SQLite
// history, read with WatchStore), and every query of the shipped Grafana
// dashboard must run and return series. Lab addresses only.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { parseScenario, scenarioDir } from '../../lab/sim/scenario.js';
import { Simulator } from '../../lab/sim/simulator.js';
import { WatchStore } from '../../src/watch/store.js';
import { scratchDir } from '../support/scratch.js';

const PROMETHEUS = '/usr/bin/prometheus';
const skip =
  labSkipReason() ??
  (existsSync(PROMETHEUS) ? undefined : `needs Debian's prometheus package (${PROMETHEUS}); .ci/run installs it`);
const DASHBOARD = join(projectRoot, 'docs/grafana/vpsline-watch.json');
/** Inside the lab's own namespace: nothing else listens there. */
const PROMETHEUS_AT = '127.0.0.1:9090';
const METRICS_AT = '127.0.0.1:9464';
/** Each of the watch's two runs. */
const RUN_MS = 10_000;
const CARRIERS = join(scenarioDir, 'backtrace-carriers.json');

// Two of backtrace.yaml's paths (the carrier file names their prefixes), with jitter and loss added so that
// samples differ from each other and a value can be traced to its sample.
const SCENARIO = `
name: watch-prometheus
paths:
  - target: { v4: 198.18.231.1 }
    hops:
      - { v4: 198.18.130.1 }
      - { v4: 198.18.131.1, delay: 5ms, jitter: 3ms }
      - { v4: 198.18.132.1 }
      - { v4: 198.18.133.1 }
    destination: { loss: 25% }
  - target: { v4: 198.18.232.1 }
    hops:
      - { v4: 198.18.140.1 }
      - { v4: 198.18.141.1, delay: 8ms, jitter: 4ms, loss: 10% }
      - { v4: 198.18.142.1 }
      - { v4: 198.18.143.1 }
      - { v4: 198.18.144.1 }
`;
const TARGETS = [
  { name: 'Lab GIA', carrier: 'ct', address: '198.18.231.1', lines: ['cn2-gia'] },
  // After the restart its CN2 hops count as 163.
  { name: 'Lab GT', carrier: 'ct', address: '198.18.232.1', lines: ['cn2-gt', 'chinanet-163'] },
];

interface Point {
  t: number;
  v: number;
}
interface ApiData {
  resultType: string;
  result: unknown[];
}
interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

describe('a real Prometheus scrapes vpsline watch', { skip }, () => {
  const lab = new Lab();
  const dir = scratchDir('vpsline-watch-prometheus-');
  const db = join(dir, 'watch.db');
  let sim: Simulator;
  let prometheus: ChildProcess;
  let store: WatchStore;
  let firstScrape = 0;
  let lastScrape = 0;

  /** GET a URL inside the lab namespace (Prometheus listens there): status and body. */
  const fetchInLab = async (url: string): Promise<{ status: number; body: string }> => {
    const script =
      'fetch(process.argv[1]).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, ' +
      'body: await r.text() })), (e) => { console.error(String(e)); process.exit(1); })';
    const { stdout } = await promisify(execFile)(
      'ip',
      ['netns', 'exec', sim.ns.name, process.execPath, '-e', script, url],
      { encoding: 'utf8', timeout: 20_000, maxBuffer: 64 << 20 },
    );
    return JSON.parse(stdout) as { status: number; body: string };
  };
  /** Prometheus' HTTP API (`query` at `time`, or `query_range`); the result, or the error Prometheus gave. */
  const api = async (path: string, params: Record<string, string | number>): Promise<ApiData> => {
    const search = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const { status, body } = await fetchInLab(`http://${PROMETHEUS_AT}/api/v1/${path}?${search}`);
    const answer = JSON.parse(body) as { status: string; error?: string; data: ApiData };
    assert.equal(answer.status, 'success', `${params.query}: HTTP ${status} ${answer.error ?? ''}`);
    return answer.data;
  };
  const query = (expr: string, time: number): Promise<ApiData> => api('query', { query: expr, time });
  /** Every raw value Prometheus stored for the series `selector` picks (one list per series). */
  const stored = async (selector: string): Promise<{ metric: Record<string, string>; points: Point[] }[]> => {
    const data = await query(`${selector}[10m]`, lastScrape + 0.001);
    assert.equal(data.resultType, 'matrix');
    return (data.result as MatrixSeries[]).map((s) => ({
      metric: s.metric,
      points: s.values.map(([t, v]) => ({ t, v: Number(v) })),
    }));
  };

  /** Start the watch with this carrier file; resolves once it serves /metrics. */
  const startWatch = async (carriers: string): Promise<ChildProcess> => {
    const child = lab.spawn(
      sim.ns,
      process.execPath,
      [
        `${projectRoot}/bin/vpsline.js`,
        'watch',
        '--targets',
        join(dir, 'targets.json'),
        '--carriers',
        carriers,
        '--interval',
        '1',
        '--rounds',
        '4',
        '--max-ttl',
        '8',
        '--db',
        db,
        '--metrics-listen',
        METRICS_AT,
      ],
      { cwd: projectRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr?.on('data', (c) => {
        err += c;
        if (err.includes(`metrics on http://${METRICS_AT}/metrics`)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`vpsline watch exited (${code}): ${err}`)));
    });
    return child;
  };
  /** SIGTERM: the watch stores the samples it is measuring and exits 0. */
  const stopWatch = async (child: ChildProcess): Promise<void> => {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    assert.equal(child.exitCode, 0, 'the watch ended cleanly');
  };

  before(async () => {
    sim = await Simulator.start(lab, parseScenario(SCENARIO, 'watch-prometheus'));
    writeFileSync(join(dir, 'targets.json'), JSON.stringify(TARGETS.map(({ lines: _, ...t }) => t)));
    // The second run's carrier file calls the GT path's CN2 hops 163: its line changes while it runs.
    const carriers = JSON.parse(readFileSync(CARRIERS, 'utf8')) as { carriers: { id: string; prefixes: string[] }[] };
    const moved = ['198.18.141.0/24', '198.18.142.0/24'];
    for (const c of carriers.carriers)
      c.prefixes = c.id === 'chinanet-163' ? [...c.prefixes, ...moved] : c.prefixes.filter((p) => !moved.includes(p));
    const relabelled = join(dir, 'carriers-163.json');
    writeFileSync(relabelled, JSON.stringify(carriers));

    let watch = await startWatch(CARRIERS);
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: vpsline-watch',
        '    static_configs:',
        `      - targets: ['${METRICS_AT}']`,
        '',
      ].join('\n'),
    );
    prometheus = lab.spawn(
      sim.ns,
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=${PROMETHEUS_AT}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prometheus.stderr?.on('data', (c) => {
      promLog += c;
    });
    await new Promise((r) => setTimeout(r, RUN_MS));
    // A restart on the same database, under the other carrier file.
    await stopWatch(watch);
    watch = await startWatch(relabelled);
    await new Promise((r) => setTimeout(r, RUN_MS));
    assert.equal(prometheus.exitCode, null, `prometheus is running: ${promLog}`);
    await stopWatch(watch);
    const up = await query('up{job="vpsline-watch"}[10m]', Date.now() / 1000);
    const ups = (up.result as MatrixSeries[])[0]?.values ?? [];
    const scraped = ups.filter(([, v]) => v === '1');
    assert.ok(scraped.length >= 10, `Prometheus scraped the watch (${scraped.length} good scrapes): ${promLog}`);
    firstScrape = (scraped[0] as [number, string])[0];
    lastScrape = (scraped.at(-1) as [number, string])[0];
    store = new WatchStore(db);
  });

  after(async () => {
    store?.close();
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each stored value is the one of the sample the watch had taken at that scrape', async (t) => {
    for (const target of TARGETS) {
      const samples = store.samples(target.name);
      assert.ok(samples.length >= 10, `${target.name}: ${samples.length} samples stored`);
      const sel = `{job="vpsline-watch", target="${target.name}"`;
      const one = async (selector: string): Promise<Point[]> => {
        const series = await stored(selector);
        assert.equal(series.length, 1, `one series for ${selector}`);
        return series[0]?.points ?? [];
      };
      const count = await one(`vpsline_watch_samples_total${sel}}`);
      const loss = new Map((await one(`vpsline_watch_loss_ratio${sel}}`)).map((p) => [p.t, p.v]));
      const p50 = new Map((await one(`vpsline_watch_rtt_seconds${sel}, quantile="0.5"}`)).map((p) => [p.t, p.v]));
      const p90 = new Map((await one(`vpsline_watch_rtt_seconds${sel}, quantile="0.9"}`)).map((p) => [p.t, p.v]));
      const seen = { loss: new Set<number>(), rtt: 0 };
      // At each scrape, the counter says how many samples the watch had stored: the gauges are the last of them.
      for (const { t: at, v: n } of count) {
        if (n === 0) continue;
        const s = samples[n - 1];
        assert.ok(s, `${target.name}: sample ${n} of ${samples.length} at ${at}`);
        assert.equal(loss.get(at), s.loss ?? undefined, `${target.name} loss at ${at} (sample ${n})`);
        assert.equal(p50.get(at), s.rtt ? s.rtt.p50 / 1000 : undefined, `${target.name} p50 s at ${at} (sample ${n})`);
        assert.equal(p90.get(at), s.rtt ? s.rtt.p90 / 1000 : undefined, `${target.name} p90 s at ${at} (sample ${n})`);
        if (s.loss !== null) seen.loss.add(s.loss);
        if (s.rtt) seen.rtt++;
      }
      // Every value Prometheus holds is some stored sample's (also any scrape the pairing above skipped).
      for (const v of loss.values())
        assert.ok(
          samples.some((s) => s.loss === v),
          `${target.name}: loss ${v} is a stored sample's`,
        );
      for (const v of p50.values())
        assert.ok(
          samples.some((s) => s.rtt && s.rtt.p50 / 1000 === v),
          `${target.name}: p50 ${v} s is a stored sample's`,
        );
      t.diagnostic(
        `${target.name}: ${count.length} scrapes, ${samples.length} samples, ${seen.rtt} RTTs compared, ` +
          `losses seen ${[...seen.loss].sort().join(' ')}`,
      );
      assert.ok(seen.rtt >= 5, `${target.name}: RTTs compared (${seen.rtt})`);
      assert.ok(seen.loss.size >= 2, `${target.name}: the loss varied (${[...seen.loss].join(', ')})`);
      // The last scrape counted every sample but the ones still being measured or stored after it: those
      // began at most three intervals (the one being stored, two in flight) before it.
      const last = count.at(-1) as Point;
      assert.equal(last.t, lastScrape);
      assert.ok(last.v <= samples.length, `${target.name}: ${last.v} counted, ${samples.length} stored`);
      const late = samples.slice(last.v).filter((s) => s.t < lastScrape * 1000 - 3000);
      assert.deepEqual(
        late.map((s) => new Date(s.t).toISOString()),
        [],
        `${target.name}: ${last.v} samples counted at the last scrape (${new Date(lastScrape * 1000).toISOString()})`,
      );
      // The line: one series at the last scrape, naming the line the watch confirmed and stored.
      const lines = (await query(`vpsline_watch_line_info${sel}}`, lastScrape)).result as {
        metric: Record<string, string>;
      }[];
      const state = store.loadState<{ verdict: { verdict: string } }>(target.name);
      assert.deepEqual(
        lines.map((l) => l.metric.line),
        [state?.verdict.verdict],
      );
      assert.equal(state?.verdict.verdict, target.lines.at(-1), `${target.name}: the scenario's line`);
      // The newest conclusive sample names it too (the last one may be cut short by the stop, or lossy enough
      // to name no line: the path has 10 % loss on a hop and 25 % at the destination).
      assert.equal(samples.filter((s) => s.verdict !== 'inconclusive').at(-1)?.verdict, target.lines.at(-1));
    }
  });

  test('across the restart and a line change: no counter reset, one line_info series per scrape', async () => {
    for (const target of TARGETS) {
      const sel = `{job="vpsline-watch", target="${target.name}"}`;
      // The restarted watch counts on from its database: Prometheus sees no reset.
      for (const counter of ['samples_total', 'probes_sent_total', 'events_total', 'verdict_changes_total']) {
        const resets = (await query(`max(resets(vpsline_watch_${counter}${sel}[10m]))`, lastScrape)).result as {
          value: [number, string];
        }[];
        assert.equal(resets[0]?.value[1], '0', `${target.name}: ${counter} never went back`);
      }
      const last = async (name: string): Promise<number> =>
        Number(((await query(`${name}${sel}`, lastScrape)).result as { value: [number, string] }[])[0]?.value[1]);
      const changes = store.events({ target: target.name, type: 'verdict-change' });
      assert.equal(changes.length, target.lines.length - 1, `${target.name}: line changes stored`);
      assert.equal(await last('vpsline_watch_verdict_changes_total'), changes.length);
      // line_info: at every scrape one series for the target, the lines in the order they came.
      const series = await stored(`vpsline_watch_line_info${sel}`);
      const perScrape = new Map<number, string[]>();
      for (const s of series)
        for (const p of s.points) perScrape.set(p.t, [...(perScrape.get(p.t) ?? []), s.metric.line as string]);
      const crowded = [...perScrape].filter(([, lines]) => lines.length !== 1);
      assert.deepEqual(crowded, [], `${target.name}: scrapes with other than one line_info series`);
      const order = [...perScrape].sort((a, b) => a[0] - b[0]).map(([, [line]]) => line);
      assert.deepEqual(
        order.filter((l, i) => l !== order[i - 1]),
        target.lines,
        `${target.name}: the lines, in order`,
      );
    }
  });

  test('every query of the Grafana dashboard runs against this Prometheus and returns series', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: { title: string; panels?: unknown[]; targets?: { expr: string; instant?: boolean }[] }[];
      templating: { list: { name: string; query: { query: string } }[] };
    };
    // The variables' own queries: label_values() is Grafana's; the series behind it must exist.
    for (const v of dashboard.templating.list) {
      const m = /^label_values\((.*), (\w+)\)$/.exec(v.query.query);
      assert.ok(m, `${v.name}: a label_values() query`);
      const selector = (m[1] as string).replace('$instance', METRICS_AT);
      const found = (await query(selector, lastScrape)).result as { metric: Record<string, string> }[];
      assert.ok(
        found.some((s) => s.metric[m[2] as string]),
        `${v.name}: ${selector} has the label ${m[2]}`,
      );
    }
    const panels = dashboard.panels.flatMap((p) => [p, ...((p.panels ?? []) as typeof dashboard.panels)]);
    let checked = 0;
    for (const panel of panels) {
      for (const t of panel.targets ?? []) {
        // What Grafana puts in: one server and one target picked, a minute of range.
        const expr = t.expr
          .replaceAll('$instance', METRICS_AT.replaceAll('.', '\\\\.'))
          .replaceAll('$target', TARGETS[0]?.name as string)
          .replaceAll('$__rate_interval', '10s')
          .replaceAll('$__range', '1m');
        assert.doesNotMatch(expr, /\$/, `${panel.title}: every variable substituted`);
        // As Grafana runs it: over the time range (a graph), or at its end (a table, a bar).
        const data = t.instant
          ? await query(expr, lastScrape)
          : await api('query_range', { query: expr, start: firstScrape, end: lastScrape, step: 1 });
        assert.ok(data.result.length >= 1, `${panel.title}: ${expr} returns series`);
        checked++;
      }
    }
    assert.ok(checked >= 10, `${checked} panel queries checked`);
  });
});
