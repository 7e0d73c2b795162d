// The live view: a full-screen table like mtr's default display, drawn with
// plain ANSI sequences on the alternate screen. Keys: p pause, r reset,
// d display mode (statistics, jitter, latency strip chart), n names, q quit.
// The terminal is restored on quit, Ctrl-C, SIGTERM/SIGHUP and process exit.
import { constants, hostname } from 'node:os';
import type { HopSnapshot } from '../trace/hop.js';
import type { Trace } from '../trace/trace.js';
import { asLabel, fieldsFor, hostLabel, printfValue, type NameOptions } from './fields.js';

export type DisplayMode = 'stats' | 'jitter' | 'chart';
/** The `d` key cycles statistics, jitter, chart. */
const NEXT_MODE: Record<DisplayMode, DisplayMode> = { stats: 'jitter', jitter: 'chart', chart: 'stats' };
const MODE_FIELDS: Record<Exclude<DisplayMode, 'chart'>, string> = { stats: 'LS NABWV', jitter: 'LS NJMXI' };
/** RTT samples kept per hop for the strip chart. */
const CHART_SAMPLES = 400;
const SPARKS = '▁▂▃▄▅▆▇█';

export interface ScreenState extends NameOptions {
  title: string;
  source: string;
  target: string;
  address: string;
  hops: HopSnapshot[];
  /** Newest last; null = lost. */
  samples: Map<number, (number | null)[]>;
  mode: DisplayMode;
  paused: boolean;
  now: Date;
  columns: number;
  rows: number;
}

function fit(s: string, width: number): string {
  return s.length > width ? s.slice(0, Math.max(0, width)) : s.padEnd(width);
}

/** One character per sample, scaled between the hop's lowest and highest visible RTT. */
export function sparkline(samples: (number | null)[]): string {
  const times = samples.filter((x): x is number => x !== null);
  const lo = Math.min(...times);
  const hi = Math.max(...times);
  return samples
    .map((x) => {
      if (x === null) return '?';
      if (hi - lo < 1e-9) return SPARKS[0];
      return SPARKS[Math.min(SPARKS.length - 1, Math.floor(((x - lo) / (hi - lo)) * SPARKS.length))];
    })
    .join('');
}

/** The screen as lines, exactly `rows` of them, none wider than `columns`. */
export function renderScreen(s: ScreenState): string[] {
  // Laid out at least 20 wide (narrower is unreadable anyway), then cut to the terminal.
  const w = Math.max(20, s.columns);
  const lines: string[] = [];
  const title = s.title;
  lines.push(' '.repeat(Math.max(0, Math.floor((w - title.length) / 2))) + title);
  const time = s.now.toISOString().replace(/\.\d+Z$/, 'Z');
  const route = `${s.source} -> ${s.target}${s.target !== s.address ? ` (${s.address})` : ''}`;
  lines.push(`${fit(route, Math.max(0, w - time.length - 1))} ${time}`);
  const keys = 'Keys: p pause  r reset  d display mode  n names  q quit';
  lines.push(s.paused ? `${keys}   [paused]` : keys);
  lines.push('');
  // -z: the AS column in front of the host, as mtr's curses view shows it.
  const asPart = (address: string | null): string => (s.asOf ? asLabel(address, s).padEnd(9) : '');
  const rowLabel = (h: HopSnapshot): string =>
    `${String(h.ttl).padStart(3)}. ${asPart(h.address)}${hostLabel(h.address, s)}`;
  if (s.mode === 'chart') {
    const nameWidth = Math.min(40, Math.max(12, ...s.hops.map((h) => rowLabel(h).length)));
    const chartWidth = Math.max(1, w - nameWidth - 1);
    lines.push(
      fit(' Host', nameWidth) +
        ' ' +
        `Latency, newest right (${SPARKS[0]} lowest .. ${SPARKS[SPARKS.length - 1]} highest of the hop, ? lost)`.slice(
          0,
          chartWidth,
        ),
    );
    for (const h of s.hops) {
      const samples = (s.samples.get(h.ttl) ?? []).slice(-chartWidth);
      lines.push(`${fit(rowLabel(h), nameWidth)} ${sparkline(samples)}`);
    }
  } else {
    const fields = fieldsFor(MODE_FIELDS[s.mode]);
    const statsWidth = fields.reduce((a, f) => a + f.width, 0);
    const nameWidth = Math.max(10, w - statsWidth);
    const cell = (f: (typeof fields)[number], text: string): string =>
      text.length > f.width && f.kind === 'percent' ? text.slice(0, f.width) : text.padStart(f.width);
    lines.push(fit(' Host', nameWidth) + fields.map((f) => cell(f, f.header)).join(''));
    for (const h of s.hops) {
      lines.push(fit(rowLabel(h), nameWidth) + fields.map((f) => cell(f, printfValue(f, h))).join(''));
      for (const r of h.responders)
        if (r.address !== h.address) lines.push(fit(`     ${asPart(r.address)}${hostLabel(r.address, s)}`, w));
    }
  }
  const cut = Math.max(1, s.columns);
  // Once every shown hop has had a probe settled, say so if the destination has not answered.
  const settled = s.hops.length > 0 && s.hops.every((h) => h.received + h.lost > 0);
  const answered = s.hops.some((h) => h.address === s.address || h.responders.some((r) => r.address === s.address));
  if (settled && !answered) {
    const last = s.hops.filter((h) => h.received > 0).at(-1);
    const where = last ? `; the last hop that answered is ${last.ttl}` : '; no hop has answered';
    lines.push('', `The destination ${s.address} has not answered${where}.`);
  }
  const out = lines.slice(0, s.rows).map((l) => (l.length > cut ? l.slice(0, cut) : l));
  while (out.length < s.rows) out.push('');
  return out;
}

export interface LiveViewOptions extends NameOptions {
  title: string;
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  /** Carrier tags (--carriers). */
  tagOf?: (address: string) => string | undefined;
  /** Names on or off (`n`); the view calls it with the new state. */
  onNamesToggled?: (on: boolean) => void;
}

/** Signals that end the view (Ctrl-C in raw mode is a key, not SIGINT; `kill -INT` is the signal). */
const SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;
const ENTER = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
const LEAVE = '\x1b[?25h\x1b[?1049l';

/** Runs the live view until the trace ends or the user quits. */
export class LiveView {
  private mode: DisplayMode = 'stats';
  private names = true;
  private samples = new Map<number, (number | null)[]>();
  private timer: NodeJS.Timeout | undefined;
  private dirty = true;
  private active = false;
  private resolveQuit!: () => void;
  /** Resolves when the user quits (q, Ctrl-C) or the trace ends. */
  readonly finished: Promise<void>;
  private readonly onKey = (data: Buffer): void => this.key(data.toString('utf8'));
  private readonly onResize = (): void => {
    this.dirty = true;
    this.draw(true);
  };
  private readonly restoreOnExit = (): void => this.restore();
  /** SIGTERM, SIGHUP, SIGINT: give the terminal back, then exit as the signal would (128 + its number). */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.restore();
    process.exit(128 + (constants.signals[signal] ?? 15));
  };

  constructor(
    private readonly trace: Trace,
    private readonly opts: LiveViewOptions,
  ) {
    this.finished = new Promise((resolve) => (this.resolveQuit = resolve));
    trace.on('probe', (e) => {
      let list = this.samples.get(e.ttl);
      if (!list) {
        list = [];
        this.samples.set(e.ttl, list);
      }
      list.push(e.result.status === 'reply' ? e.result.rttMs : null);
      if (list.length > CHART_SAMPLES) list.shift();
      this.dirty = true;
    });
    trace.on('end', () => this.quit());
    trace.on('error', () => this.quit());
  }

  start(): void {
    const { input, output } = this.opts;
    this.active = true;
    output.write(ENTER);
    if (input.isTTY) input.setRawMode(true);
    input.resume();
    input.on('data', this.onKey);
    output.on('resize', this.onResize);
    process.on('exit', this.restoreOnExit);
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
    this.draw(true);
    // Redraw at most ten times a second, and every second for the clock.
    let ticks = 0;
    this.timer = setInterval(() => this.draw(++ticks % 10 === 0), 100);
  }

  private key(k: string): void {
    switch (k) {
      case 'q':
      case 'Q':
      case '\x03': // Ctrl-C arrives as a key in raw mode
        this.trace.stop();
        this.quit();
        return;
      case 'p':
      case ' ':
        if (this.trace.isPaused) this.trace.resume();
        else this.trace.pause();
        break;
      case 'r':
        this.trace.reset();
        this.samples.clear();
        break;
      case 'd':
        this.mode = NEXT_MODE[this.mode];
        break;
      case 'j':
        this.mode = this.mode === 'jitter' ? 'stats' : 'jitter';
        break;
      case 'n':
        this.names = !this.names;
        this.opts.onNamesToggled?.(this.names);
        break;
      default:
        return;
    }
    this.dirty = true;
    this.draw(true);
  }

  private draw(force = false): void {
    if (!this.active || (!this.dirty && !force)) return;
    this.dirty = false;
    const { output } = this.opts;
    const lines = renderScreen({
      title: this.opts.title,
      source: hostname(),
      target: this.trace.target,
      address: this.trace.resolvedAddress,
      hops: this.trace.snapshot(),
      samples: this.samples,
      mode: this.mode,
      paused: this.trace.isPaused,
      now: new Date(),
      // A terminal that reports no size (0x0: a pty nobody sized) gets curses' default.
      columns: output.columns || 80,
      rows: output.rows || 24,
      ...(this.names && this.opts.nameOf ? { nameOf: this.opts.nameOf } : {}),
      ...(this.opts.showBoth ? { showBoth: true } : {}),
      ...(this.opts.tagOf ? { tagOf: this.opts.tagOf } : {}),
      ...(this.opts.asOf ? { asOf: this.opts.asOf } : {}),
    });
    output.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
  }

  private quit(): void {
    this.restore();
    this.resolveQuit();
  }

  /** Leave the alternate screen, show the cursor, give the terminal back. Safe to call twice. */
  restore(): void {
    if (!this.active) return;
    this.active = false;
    if (this.timer) clearInterval(this.timer);
    const { input, output } = this.opts;
    input.off('data', this.onKey);
    output.off('resize', this.onResize);
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
    if (input.isTTY) input.setRawMode(false);
    input.pause();
    output.write(LEAVE);
  }
}
