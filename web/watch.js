// The line watch's pictures (/watch): per target a smoke graph over a time
// range (median coloured by loss, the 10-90 and 25-75 percentile bands, event
// markers), the line over time, an hour-of-day heatmap in a chosen time zone,
// and a sample's hops when the chart is tapped. The address bar is the
// permanent link: target, range, time zone and language. Text only ever goes
// into the page with textContent.
/* global uPlot */
import { TEXT } from '/i18n.js';

const DAY = 86_400_000;
const params = new URLSearchParams(location.search);
const wantsZh = params.get('lang') === 'zh' || (!params.get('lang') && navigator.language.startsWith('zh'));
const parseTime = (v) => {
  if (!v) return null;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(t) ? t : null;
};
const state = {
  lang: wantsZh ? 'zh' : 'en',
  targets: null,
  target: params.get('target'),
  from: parseTime(params.get('from')),
  to: parseTime(params.get('to')),
  tz: params.get('tz') || 'Asia/Shanghai',
  metric: params.get('metric') === 'median' ? 'median' : 'loss',
  series: null,
  events: null,
  profile: null,
  drill: null,
  lines: {},
};

const t = () => TEXT[state.lang];
const w = () => t().watch;
const $ = (id) => document.getElementById(id);
const fill = (template, values = {}) =>
  template.replace(/\{(\w+)\}/g, (_, k) => (values[k] === undefined ? '' : String(values[k])));
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}
const lineName = (v) => state.lines[v]?.[state.lang] ?? v ?? '';
const when = (ms) =>
  new Date(ms).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: state.tz,
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
const pct = (v) => (typeof v === 'number' ? (v * 100).toFixed(1) : '-');
const ms = (v) => (typeof v === 'number' ? v.toFixed(1) : '-');

async function api(path) {
  const res = await fetch(path);
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(data.message?.[state.lang] || data.error || `HTTP ${res.status}`);
  return data;
}
const setStatus = (text, error = false) => {
  $('w-status').textContent = text ?? '';
  $('w-status').classList.toggle('error', error);
};

// ---------------------------------------------------------------- colours

/** Loss classes: 0 none, 1 under 5 %, 2 from 5 %, 3 from 20 % (the legend says so). */
export const lossLevel = (loss) =>
  loss === null || loss === undefined ? -1 : loss >= 0.2 ? 3 : loss >= 0.05 ? 2 : loss > 0 ? 1 : 0;
const LOSS_COLOURS = ['#2f9e44', '#e6b800', '#f08c00', '#d9302c'];
const LINE_COLOURS = {
  'cn2-gia': '#5f3dc4',
  'cn2-gt': '#1971c2',
  'chinanet-163': '#868e96',
  ctgnet: '#0c8599',
  'cu-9929': '#2b8a3e',
  'cu-10099': '#5c940d',
  'cu-4837': '#a61e4d',
  cmin2: '#e64980',
  cmi: '#c2255c',
  cmnet: '#d6336c',
  other: '#495057',
  inconclusive: '#ced4da',
};
const lineColour = (v) => LINE_COLOURS[v] ?? '#adb5bd';

// ---------------------------------------------------------------- the smoke graph

let chart = null;
let resize = null;

/** Points for uPlot: seconds, with a null point wherever the samples pause (a gap stays a gap). */
function chartData(s) {
  const xs = [];
  const cols = [[], [], [], [], [], []];
  const index = [];
  const cols6 = ['p10', 'p25', 'p50', 'p75', 'p90'];
  for (let i = 0; i < s.t.length; i++) {
    if (i > 0 && s.t[i] - s.t[i - 1] > 2 * s.stepMs) {
      xs.push((s.t[i - 1] + s.stepMs) / 1000);
      for (const c of cols) c.push(null);
      index.push(-1);
    }
    xs.push(s.t[i] / 1000);
    cols6.forEach((k, j) => {
      cols[j].push(s[k][i]);
    });
    cols[5].push(s.loss[i]);
    index.push(i);
  }
  return { data: [xs, ...cols.slice(0, 5)], loss: cols[5], index };
}

/** The median, segment by segment, in its loss colour; and the event markers as elements over the plot. */
function drawOverlay(u, loss) {
  const { ctx } = u;
  const [xs, , , med] = u.data;
  ctx.save();
  ctx.lineWidth = 2.5 * devicePixelRatio;
  ctx.lineCap = 'round';
  for (let i = 1; i < xs.length; i++) {
    if (med[i] === null || med[i - 1] === null) continue;
    ctx.strokeStyle = LOSS_COLOURS[Math.max(0, lossLevel(loss[i]))];
    ctx.beginPath();
    ctx.moveTo(u.valToPos(xs[i - 1], 'x', true), u.valToPos(med[i - 1], 'y', true));
    ctx.lineTo(u.valToPos(xs[i], 'x', true), u.valToPos(med[i], 'y', true));
    ctx.stroke();
  }
  // A lone point between gaps still shows.
  for (let i = 0; i < xs.length; i++)
    if (med[i] !== null && med[i - 1] == null && med[i + 1] == null) {
      ctx.fillStyle = LOSS_COLOURS[Math.max(0, lossLevel(loss[i]))];
      ctx.beginPath();
      ctx.arc(u.valToPos(xs[i], 'x', true), u.valToPos(med[i], 'y', true), 2.5 * devicePixelRatio, 0, 7);
      ctx.fill();
    }
  ctx.restore();
  placeMarkers(u);
}

/** Events as vertical lines on the time axis, labelled with their kind; an episode begun earlier sits at the left. */
function placeMarkers(u) {
  for (const m of u.over.querySelectorAll('.w-marker')) m.remove();
  const s = state.series;
  // Labels too close to the last one of their kind are left off (the line stays): a phone has little room.
  const lastLabel = {};
  for (const e of state.events?.events ?? []) {
    const at = Math.min(Math.max(e.start, s.from), s.to);
    const left = u.valToPos(at / 1000, 'x');
    const m = el('div', undefined, `w-marker ${e.type}`);
    m.style.left = `${Math.round(left)}px`;
    m.dataset.type = e.type;
    m.dataset.start = String(e.start);
    const label = el('span', w().events[e.type] ?? e.type);
    m.title = `${when(e.start)} ${w().events[e.type] ?? e.type}`;
    m.append(label);
    if (left - (lastLabel[e.type] ?? -1e9) < 56) m.classList.add('bare');
    else lastLabel[e.type] = left;
    u.over.append(m);
  }
}

function drawSmoke() {
  const box = $('w-smoke');
  chart?.destroy();
  chart = null;
  const s = state.series;
  if (!s?.t.length || typeof uPlot === 'undefined') {
    box.replaceChildren(el('p', s ? w().noData : '', 'muted'));
    return;
  }
  box.replaceChildren();
  const { data, loss, index } = chartData(s);
  const width = Math.max(260, box.clientWidth || 320);
  const height = (cw) => Math.round(Math.min(320, Math.max(200, cw * 0.55)));
  const hidden = { stroke: 'transparent', width: 0, points: { show: false } };
  chart = new uPlot(
    {
      width,
      height: height(width),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), state.tz),
      scales: {
        x: { time: true, range: [s.from / 1000, s.to / 1000] },
        y: { range: (_u, _lo, hi) => [0, hi * 1.1 || 1] },
      },
      axes: [{ space: 60 }, { label: 'ms', size: 44 }],
      series: [{}, { ...hidden }, { ...hidden }, { ...hidden }, { ...hidden }, { ...hidden }],
      // The bands: 10th-90th lighter, 25th-75th darker (SmokePing's reading).
      bands: [
        { series: [5, 1], fill: 'rgba(45,91,215,0.16)' },
        { series: [4, 2], fill: 'rgba(45,91,215,0.32)' },
      ],
      hooks: { draw: [(u) => drawOverlay(u, loss)] },
    },
    data,
    box,
  );
  chart.over.dataset.points = String(s.t.length);
  // A tap or a click: the nearest sample's hops.
  chart.over.addEventListener('click', (e) => {
    const rect = chart.over.getBoundingClientRect();
    const i = chart.posToIdx(e.clientX - rect.left);
    let k = index[i] ?? -1;
    if (k < 0) k = index[i - 1] ?? index[i + 1] ?? -1;
    if (k >= 0) void openDrill(s.t[k]);
  });
  resize?.disconnect();
  resize = new ResizeObserver(() => {
    const cw = Math.max(260, box.clientWidth);
    if (chart && Math.abs(chart.width - cw) > 2) {
      chart.setSize({ width: cw, height: height(cw) });
      drawTimeline();
    }
  });
  resize.observe(box);
}

function drawLegend() {
  const L = w().legend;
  const items = [
    ['outer', L.outer],
    ['inner', L.inner],
    ['median', L.median],
    ['loss0', L.loss0],
    ['loss1', L.loss1],
    ['loss5', L.loss5],
    ['loss20', L.loss20],
    ['event', L.event],
  ];
  $('w-legend').replaceChildren(
    ...items.map(([k, label]) => {
      const li = el('li');
      li.append(el('span', undefined, `swatch w-${k}`), document.createTextNode(label));
      return li;
    }),
  );
}

// ---------------------------------------------------------------- the line over time

/** Runs of the same line as coloured segments, under the chart's plot area and on its time scale. */
function drawTimeline() {
  const box = $('w-timeline');
  const s = state.series;
  box.replaceChildren();
  if (!s?.t.length) {
    $('w-lines').replaceChildren();
    return;
  }
  if (chart) {
    box.style.marginLeft = `${Math.round(chart.bbox.left / devicePixelRatio)}px`;
    box.style.width = `${Math.round(chart.bbox.width / devicePixelRatio)}px`;
  }
  const span = s.to - s.from;
  const seen = [];
  let i = 0;
  while (i < s.t.length) {
    let j = i;
    while (j + 1 < s.t.length && s.verdict[j + 1] === s.verdict[i] && s.t[j + 1] - s.t[j] <= 2 * s.stepMs) j++;
    const v = s.verdict[i];
    const start = Math.max(s.t[i], s.from);
    const end = Math.min(s.t[j] + s.stepMs, s.to);
    const seg = el('div', undefined, 'w-seg');
    seg.style.left = `${((start - s.from) / span) * 100}%`;
    seg.style.width = `${Math.max(0.2, ((end - start) / span) * 100)}%`;
    seg.style.background = lineColour(v);
    seg.dataset.verdict = v ?? '';
    seg.title = `${when(start)} – ${when(end)}: ${lineName(v)}`;
    box.append(seg);
    if (v && !seen.includes(v)) seen.push(v);
    i = j + 1;
  }
  $('w-lines').replaceChildren(
    ...seen.map((v) => {
      const li = el('li', undefined, 'w-line-name');
      const sw = el('span', undefined, 'swatch');
      sw.style.background = lineColour(v);
      li.append(sw, document.createTextNode(lineName(v)));
      return li;
    }),
  );
}

// ---------------------------------------------------------------- the hour-of-day heatmap

function drawHeat() {
  const box = $('w-heat');
  const p = state.profile;
  if (!p) return box.replaceChildren();
  const medians = p.hours.map((h) => h.p50).filter((v) => typeof v === 'number');
  const lo = Math.min(...medians);
  const hi = Math.max(...medians);
  box.replaceChildren(
    ...p.hours.map((h) => {
      const cell = el('button', undefined, 'w-cell');
      cell.type = 'button';
      cell.dataset.hour = String(h.hour);
      cell.dataset.loss = h.loss === null ? '' : String(h.loss);
      cell.dataset.level = String(lossLevel(h.loss));
      if (!h.samples) cell.classList.add('empty');
      else if (state.metric === 'loss') cell.style.background = LOSS_COLOURS[Math.max(0, lossLevel(h.loss))];
      else {
        // Median: light for the day's fastest hour, dark for its slowest.
        const share = hi > lo && typeof h.p50 === 'number' ? (h.p50 - lo) / (hi - lo) : 0;
        cell.style.background = `rgba(45,91,215,${(0.12 + 0.78 * share).toFixed(2)})`;
      }
      cell.append(el('span', String(h.hour), 'w-hour'));
      // The verdict mix of this hour: a stacked bar under the figure.
      const total = Object.values(h.verdicts).reduce((a, b) => a + b, 0);
      const mix = el('span', undefined, 'w-mix');
      for (const [v, n] of Object.entries(h.verdicts).sort((a, b) => b[1] - a[1])) {
        const part = el('span');
        part.style.width = `${(100 * n) / total}%`;
        part.style.background = lineColour(v);
        mix.append(part);
      }
      cell.append(mix);
      const words = cellWords(h);
      cell.title = words;
      cell.setAttribute('aria-label', words);
      cell.addEventListener('click', () => {
        for (const c of box.querySelectorAll('.w-cell.chosen')) c.classList.remove('chosen');
        cell.classList.add('chosen');
        $('w-cell').textContent = words;
      });
      return cell;
    }),
  );
}

function cellWords(h) {
  const hour = String(h.hour).padStart(2, '0');
  if (!h.samples) return fill(w().cellEmpty, { hour });
  const total = Object.values(h.verdicts).reduce((a, b) => a + b, 0);
  const mix = Object.entries(h.verdicts)
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${lineName(v)} ${Math.round((100 * n) / total)} %`)
    .join(state.lang === 'zh' ? '，' : ', ');
  return fill(w().cell, { hour, loss: pct(h.loss), median: ms(h.p50), samples: h.samples, mix });
}

// ---------------------------------------------------------------- events and the drill-down

function drawEvents() {
  const list = $('w-events');
  const events = state.events?.events ?? [];
  if (!events.length) return list.replaceChildren(el('li', w().noEvents, 'muted'));
  list.replaceChildren(
    ...events.map((e) => {
      const li = el('li', undefined, `w-event ${e.type}`);
      li.append(el('strong', `${when(e.start)} ${w().events[e.type] ?? e.type}`));
      let detail = '';
      if (e.type === 'verdict-change')
        detail = fill(w().lineChange, { before: lineName(e.before), after: lineName(e.after) });
      else if (e.type === 'loss' && typeof e.after?.loss === 'number') detail = `${pct(e.after.loss)} %`;
      else if (e.type === 'latency' && typeof e.after?.worstMs === 'number') detail = `${ms(e.after.worstMs)} ms`;
      else if (e.type === 'route-change' && Array.isArray(e.evidence?.changedTtls))
        detail = `TTL ${e.evidence.changedTtls.join(', ')}`;
      if (detail) li.append(document.createTextNode(` · ${detail}`));
      return li;
    }),
  );
}

async function openDrill(at) {
  try {
    const target = encodeURIComponent(state.target);
    state.drill = await api(`/api/v1/watch/sample?target=${target}&t=${at}`);
    Object.assign(state.lines, state.drill.lines);
    drawDrill();
    $('w-drill').scrollIntoView({ block: 'nearest' });
  } catch (err) {
    setStatus(err.message, true);
  }
}

function drawDrill() {
  const d = state.drill;
  $('w-drill').hidden = !d;
  if (!d) return;
  $('w-drill').dataset.t = String(d.t);
  $('w-drill-title').textContent = fill(w().drillTitle, { time: when(d.t), line: lineName(d.verdict) });
  const c = w().drillColumns;
  const head = el('tr');
  for (const k of ['ttl', 'address', 'loss', 'p50', 'p90']) head.append(el('th', c[k], k === 'address' ? 'host' : k));
  $('w-hops').tHead.replaceChildren(head);
  $('w-hops').tBodies[0].replaceChildren(
    ...d.hops.map((h) => {
      const tr = el('tr');
      tr.dataset.ttl = String(h.ttl);
      const loss = el('td', pct(h.loss), 'loss');
      if (h.loss > 0) loss.classList.add('lossy');
      const host = el('td', undefined, 'host');
      host.append(el('span', h.address ?? '???', 'name'));
      const others = h.addresses.filter((a) => a !== h.address);
      if (others.length) host.append(el('span', others.join(' · '), 'sub'));
      tr.append(el('td', h.ttl, 'ttl'), host, loss, el('td', ms(h.p50), 'avg'), el('td', ms(h.p90), 'worst'));
      return tr;
    }),
  );
}

// ---------------------------------------------------------------- the page

function linkPath() {
  const q = new URLSearchParams();
  if (state.target) q.set('target', state.target);
  q.set('from', new Date(state.from).toISOString());
  q.set('to', new Date(state.to).toISOString());
  if (state.tz !== 'Asia/Shanghai') q.set('tz', state.tz);
  if (state.metric !== 'loss') q.set('metric', state.metric);
  if (state.lang === 'zh') q.set('lang', 'zh');
  return `/watch?${q}`;
}

function drawWords() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = w().title;
  for (const node of document.querySelectorAll('[data-w]')) node.textContent = w()[node.dataset.w];
  $('lang').textContent = t().otherLanguage;
  const names = { 1: w().ranges.day, 7: w().ranges.week, 30: w().ranges.month };
  for (const b of document.querySelectorAll('.ranges button')) {
    b.textContent = names[b.dataset.days];
    const days = Number(b.dataset.days);
    b.classList.toggle('chosen', Math.abs(state.to - state.from - days * DAY) < 60_000);
  }
  const zones = [...new Set(['Asia/Shanghai', 'UTC', Intl.DateTimeFormat().resolvedOptions().timeZone, state.tz])];
  $('w-tz').replaceChildren(
    ...zones.map((z) => {
      const o = el('option', z);
      o.value = z;
      o.selected = z === state.tz;
      return o;
    }),
  );
  $('w-metric').replaceChildren(
    ...['loss', 'median'].map((m) => {
      const o = el('option', w().metrics[m]);
      o.value = m;
      o.selected = m === state.metric;
      return o;
    }),
  );
  $('w-target').replaceChildren(
    ...(state.targets?.targets ?? []).map((x) => {
      const o = el('option', `${x.name} (${x.address})`);
      o.value = x.name;
      o.selected = x.name === state.target;
      return o;
    }),
  );
  const path = linkPath();
  history.replaceState(null, '', path);
  $('w-permalink').href = path;
  $('w-permalink').textContent = location.href;
  const last = state.targets?.targets.find((x) => x.name === state.target);
  $('w-last').textContent =
    last?.lastSample != null ? fill(w().lastSample, { time: when(last.lastSample), line: lineName(last.verdict) }) : '';
  const s = state.series;
  if (s)
    setStatus(
      fill(w().shown, { from: when(s.from), to: when(s.to), resolution: w().resolution[s.resolution] }) +
        (s.t.length ? '' : ` ${w().noData}`),
    );
}

function drawAll() {
  drawWords();
  drawLegend();
  drawSmoke();
  drawTimeline();
  drawHeat();
  drawEvents();
  drawDrill();
}

async function loadRange() {
  document.body.dataset.ready = '0';
  setStatus(w().loading);
  const q = `target=${encodeURIComponent(state.target)}&from=${state.from}&to=${state.to}`;
  const days = Math.max(1, Math.ceil((state.to - state.from) / DAY));
  try {
    const [series, events, profile] = await Promise.all([
      api(`/api/v1/watch/series?${q}`),
      api(`/api/v1/watch/events?${q}`),
      api(
        `/api/v1/watch/profile?target=${encodeURIComponent(state.target)}&days=${days}&to=${state.to}` +
          `&tz=${encodeURIComponent(state.tz)}`,
      ),
    ]);
    state.series = series;
    state.events = events;
    state.profile = profile;
    Object.assign(state.lines, series.lines, events.lines, profile.lines);
    drawAll();
  } catch (err) {
    drawWords();
    setStatus(err.message, true);
  }
  document.body.dataset.ready = '1';
}

async function loadProfile() {
  const days = Math.max(1, Math.ceil((state.to - state.from) / DAY));
  try {
    state.profile = await api(
      `/api/v1/watch/profile?target=${encodeURIComponent(state.target)}&days=${days}&to=${state.to}` +
        `&tz=${encodeURIComponent(state.tz)}`,
    );
    Object.assign(state.lines, state.profile.lines);
    drawAll();
  } catch (err) {
    setStatus(err.message, true);
  }
}

function chooseDays(days) {
  state.to = Date.now();
  state.from = state.to - days * DAY;
  state.drill = null;
  void loadRange();
}

async function init() {
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    drawAll();
  });
  for (const b of document.querySelectorAll('.ranges button'))
    b.addEventListener('click', () => chooseDays(Number(b.dataset.days)));
  $('w-target').addEventListener('change', () => {
    state.target = $('w-target').value;
    state.drill = null;
    void loadRange();
  });
  $('w-tz').addEventListener('change', () => {
    state.tz = $('w-tz').value;
    void loadProfile();
  });
  $('w-metric').addEventListener('change', () => {
    state.metric = $('w-metric').value;
    drawWords();
    drawHeat();
  });
  if (state.to === null) state.to = Date.now();
  if (state.from === null || state.from >= state.to) state.from = state.to - DAY;
  try {
    state.targets = await api('/api/v1/watch/targets');
  } catch (err) {
    drawWords();
    setStatus(err.message, true);
    document.body.dataset.ready = '1';
    return;
  }
  Object.assign(state.lines, state.targets.lines);
  const names = state.targets.targets.map((x) => x.name);
  if (!names.includes(state.target)) state.target = names[0] ?? null;
  if (!state.target) {
    drawWords();
    setStatus(w().noData);
    document.body.dataset.ready = '1';
    return;
  }
  await loadRange();
}

init();
