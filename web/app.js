// The looking-glass page. It only talks to the JSON API, and it only ever puts
// text into the page with textContent: hop names come from reverse DNS and
// from uploads, which anyone can fill with markup. Its words come from the
// server's table (/i18n.js); what the server says comes in both languages.
import { drawChart } from '/chart.js';
import { TEXT } from '/i18n.js';
import { copyText, saveSummaryImage } from '/share.js';

const params = new URLSearchParams(location.search);
const wantsZh = params.get('lang') === 'zh' || (!params.get('lang') && navigator.language.startsWith('zh'));
const state = {
  lang: wantsZh ? 'zh' : 'en',
  /** whoami: the visitor, the server's facts, the choices. */
  me: null,
  /** The trace as the API shows it (provenance, result), or null. */
  trace: null,
  /** Hops of the running trace (each progress event replaces them). */
  live: null,
  progress: null,
  /** The upload as the API shows it, or null. */
  report: null,
  source: null,
};

const t = () => TEXT[state.lang];
const $ = (id) => document.getElementById(id);
/** A text from the table with its {figures} filled in. */
function fill(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (_, k) => (values[k] === undefined ? '' : String(values[k])));
}
const kb = (bytes) => (bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`);
const when = (iso) =>
  new Date(iso).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function setStatus(id, text, error = false) {
  $(id).textContent = text ?? '';
  $(id).classList.toggle('error', error);
}

async function api(path, body) {
  const res = await fetch(
    path,
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const data = await res.json().catch(() => ({ error: res.statusText }));
  // A refusal carries its words in both languages (and a stable code for scripts).
  if (!res.ok) {
    const err = new Error(data.message?.[state.lang] || data.error || `HTTP ${res.status}`);
    err.code = data.code;
    throw err;
  }
  return data;
}

// ---------------------------------------------------------------- hop tables

const fixed = (v) => (typeof v === 'number' ? v.toFixed(1) : '');
/** Loss that later hops do not show is a router limiting its ICMP answers, not loss on the path. */
export function carriedLoss(hops) {
  const out = new Map();
  let floor = Infinity;
  for (const h of [...hops].sort((a, b) => b.ttl - a.ttl)) {
    if (typeof h.lossPercent === 'number') floor = Math.min(floor, h.lossPercent);
    out.set(h.ttl, typeof h.lossPercent === 'number' ? Math.min(h.lossPercent, floor) : null);
  }
  return out;
}

function hostCell(hop, pairedWith) {
  const td = el('td', undefined, 'host');
  // The same router seen from the other direction (same address or network): where the paths line up.
  const pair = pairedWith ? el('span', fill(t().pairedWith, { ttl: pairedWith }), 'pair') : null;
  if (hop.masked) {
    td.append(el('span', t().hidden, 'name muted'));
    if (pair) td.append(pair);
    return td;
  }
  const first = hop.name || hop.address || '???';
  td.append(el('span', first, 'name'));
  const second = [];
  if (hop.name && hop.address && hop.name !== hop.address) second.push(hop.address);
  if (hop.asn) second.push(`AS${hop.asn}${hop.asName ? ` ${hop.asName}` : ''}`);
  const line = el('span', second.join(' · '), 'sub');
  if (hop.carrier) line.prepend(el('span', hop.carrier, 'tag'));
  if (second.length || hop.carrier) td.append(line);
  if (pair) td.append(pair);
  return td;
}

/** The hop table for one direction; `wide` columns are hidden on a phone (style.css). */
function drawHops(table, hops, pairs = new Map()) {
  const c = t().columns;
  const head = el('tr');
  for (const [key, wide] of [
    ['ttl'],
    ['host'],
    ['loss'],
    ['sent', true],
    ['last', true],
    ['avg'],
    ['best', true],
    ['worst'],
    ['stdev', true],
  ])
    head.append(el('th', c[key], `${key}${wide ? ' wide' : ''}`));
  table.tHead.replaceChildren(head);
  const carried = carriedLoss(hops);
  table.tBodies[0].replaceChildren(
    ...[...hops]
      .sort((a, b) => a.ttl - b.ttl)
      .map((h) => {
        const tr = el('tr');
        tr.dataset.ttl = String(h.ttl);
        const answered = h.received === undefined ? h.avg !== null && h.avg !== undefined : h.received > 0;
        const loss = el('td', typeof h.lossPercent === 'number' ? `${h.lossPercent.toFixed(1)}` : '', 'loss');
        // Loss that does not carry on to later hops: drawn as what it is.
        if (h.lossPercent > 0 && carried.get(h.ttl) < h.lossPercent) {
          loss.classList.add('limited');
          loss.title = t().chartLimited;
        } else if (h.lossPercent > 0) loss.classList.add('lossy');
        tr.append(
          el('td', `${h.ttl}`, 'ttl'),
          hostCell(h, pairs.get(h.ttl)),
          loss,
          el('td', h.sent ?? '', 'sent wide'),
          el('td', answered ? fixed(h.last) : '', 'last wide'),
          el('td', answered ? fixed(h.avg) : '', 'avg'),
          el('td', answered ? fixed(h.best) : '', 'best wide'),
          el('td', answered ? fixed(h.worst) : '', 'worst'),
          el('td', answered ? fixed(h.stdev) : '', 'stdev wide'),
        );
        return tr;
      }),
  );
}

// ---------------------------------------------------------------- summary

const lineOf = (view) => view?.names?.line?.[state.lang];
const formatName = (id) => t().formats[id] ?? id;

function drawHeadline() {
  const forward = lineOf(state.report);
  const reverse = lineOf(state.trace);
  const key =
    forward && reverse ? 'headlineBoth' : reverse ? 'headlineReverse' : forward ? 'headlineForward' : 'headlineNone';
  $('headline').textContent = fill(t()[key], { forward, reverse });
}

function drawVerdict(box, label, view) {
  const c = view.classification;
  if (!c) return;
  const div = el('div', undefined, 'verdict');
  const head = el('p');
  head.append(el('strong', `${label}: ${lineOf(view)}`));
  if (view.names?.landing)
    head.append(document.createTextNode(` (${fill(t().landing, { landing: view.names.landing[state.lang] })})`));
  div.append(head, el('p', t().confidence[c.confidence] ?? '', 'muted'));
  // Each piece of evidence by its hop's tag, as the hop table shows it.
  const tagAt = (ttl) => view.hops?.find((h) => h.ttl === ttl)?.carrier;
  const evidence = (c.evidence ?? [])
    .slice(0, 6)
    .map((e) => fill(t().hopWord, { ttl: e.ttl, tag: tagAt(e.ttl) ?? (e.asn ? `AS${e.asn}` : '') }));
  if (evidence.length)
    div.append(el('p', fill(t().evidence, { hops: evidence.join(state.lang === 'zh' ? '、' : ', ') }), 'muted'));
  for (const note of view.names?.notes?.[state.lang] ?? []) div.append(el('p', note, 'note'));
  box.append(div);
}

function drawSummary() {
  drawHeadline();
  const verdicts = $('verdicts');
  verdicts.replaceChildren();
  if (state.report) drawVerdict(verdicts, t().forwardShort, state.report);
  if (state.trace?.classification) drawVerdict(verdicts, t().reverseShort, state.trace);
  $('comparison').replaceChildren(
    ...(state.report?.comparison?.notes ?? []).map((n) => el('li', n.text[state.lang], n.code)),
  );
  drawProvenance();
  drawShare();
}

function protocolName(view) {
  const used = view.report?.vpsline?.mode?.protocol ?? view.protocol;
  return t().protocols[used] ?? String(used).toUpperCase();
}

function drawProvenance() {
  const list = $('provenance');
  list.replaceChildren();
  const tr = state.trace;
  if (tr) {
    const running = tr.status === 'running';
    list.append(
      el(
        'li',
        fill(running ? t().measuredRunning : t().measured, {
          protocol: protocolName(tr),
          target: tr.target,
          count: tr.count,
          time: when(tr.createdAt),
        }),
        'measured',
      ),
    );
    if (tr.masked) list.append(el('li', t().maskedNote, 'masked'));
    else if (!tr.yours && state.me && tr.target !== state.me.address)
      list.append(el('li', fill(t().notYou, { target: tr.target, you: state.me.address }), 'not-you'));
  }
  const r = state.report;
  if (r) {
    list.append(el('li', fill(t().uploaded, { format: formatName(r.format), time: when(r.createdAt) }), 'uploaded'));
    if (r.masked && !tr?.masked) list.append(el('li', t().maskedNote, 'masked'));
  }
}

function linkPath() {
  const q = new URLSearchParams();
  if (state.report) q.set('report', state.report.id);
  else if (state.trace) q.set('trace', state.trace.id);
  if (state.lang === 'zh') q.set('lang', 'zh');
  return `/?${q}`;
}

function drawShare() {
  const shown = !!(state.trace || state.report);
  $('share').hidden = !shown;
  if (!shown) return;
  const owned = state.trace?.yours || state.report?.yours;
  const masked = state.trace?.masked || state.report?.masked;
  $('mask-box').hidden = !owned || masked;
  $('mask-warning').textContent = fill(t().maskWarning, { address: state.me?.address ?? '' });
  const path = linkPath();
  history.replaceState(null, '', path);
  $('permalink').href = path;
  $('permalink').textContent = location.href;
}

// ---------------------------------------------------------------- server → you

function reverseHops() {
  return state.live ?? state.trace?.hops ?? [];
}

function drawReverse() {
  const hops = reverseHops();
  drawHops($('reverse-hops'), hops);
  $('chart-box').hidden = !hops.length;
  drawChart($('chart'), $('chart-legend'), hops, carriedLoss(hops), t());
  const findings = (state.lang === 'zh' ? state.trace?.analysisZh : state.trace?.report?.vpsline?.analysis) ?? [];
  $('findings-title').hidden = !findings.length;
  $('findings').replaceChildren(...findings.map((f) => el('li', f.message, f.severity)));
}

function drawTraceStatus() {
  const tr = state.trace;
  const p = state.progress;
  const bar = $('reverse-progress');
  bar.hidden = !(tr?.status === 'running' && p);
  if (tr?.status === 'running' && p) {
    bar.max = p.rounds;
    bar.value = p.round;
    return setStatus('reverse-status', fill(t().progress, { round: p.round, rounds: p.rounds, hops: p.hops.length }));
  }
  if (!tr) return;
  const hops = (tr.hops ?? []).length;
  if (tr.status === 'done') setStatus('reverse-status', fill(t().done, { hops, rounds: tr.count }));
  else if (tr.status === 'interrupted' && tr.hops?.length) setStatus('reverse-status', fill(t().stopped, { hops }));
  else if (tr.status === 'interrupted') setStatus('reverse-status', t().interrupted, true);
  else if (tr.status === 'failed')
    setStatus('reverse-status', fill(t().failed, { error: tr.error ?? tr.status }), true);
}

function follow(id) {
  state.source?.close();
  const source = new EventSource(`/api/v1/traces/${encodeURIComponent(id)}/events`);
  state.source = source;
  source.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    state.progress = p;
    state.live = p.hops;
    drawReverse();
    drawTraceStatus();
  });
  source.addEventListener('end', (e) => {
    source.close();
    const end = JSON.parse(e.data);
    $('trace').disabled = false;
    state.live = null;
    state.progress = null;
    state.trace = end.result ?? { ...state.trace, status: end.status, error: end.error };
    drawAll();
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) $('trace').disabled = false;
  };
}

async function startTrace(event) {
  event.preventDefault();
  $('trace').disabled = true;
  setStatus('reverse-status', t().starting);
  try {
    const count = Number($('count').value);
    const r = await api('/api/v1/traces', {
      protocol: $('protocol').value,
      ...(Number.isInteger(count) && count > 0 ? { count } : {}),
    });
    // A new trace is a new page: the old upload belonged to the old trace.
    state.report = null;
    state.live = [];
    state.trace = await api(`/api/v1/traces/${r.id}`);
    drawAll();
    follow(r.id);
  } catch (err) {
    $('trace').disabled = false;
    setStatus('reverse-status', err.message, true);
  }
}

// ---------------------------------------------------------------- you → server

function drawForward() {
  const r = state.report;
  const pairs = new Map((r?.comparison?.pairs ?? []).map((p) => [p.forwardTtl, p.reverseTtl]));
  drawHops($('forward-hops'), r?.hops ?? [], pairs);
  if (r) setStatus('forward-status', fill(t().readAs, { format: formatName(r.format) }));
}

async function upload(event) {
  event.preventDefault();
  const text = $('forward-text').value;
  if (!text.trim()) return setStatus('forward-status', t().empty, true);
  $('send').disabled = true;
  try {
    // An upload goes with the trace only when that trace went back to this visitor.
    const mine = state.trace?.yours ? { traceId: state.trace.id } : {};
    state.report = await api('/api/v1/reports', { text, ...mine });
    if (!mine.traceId) state.trace = null;
    drawAll();
  } catch (err) {
    setStatus('forward-status', err.message, true);
  } finally {
    $('send').disabled = false;
  }
}

function drawCommands() {
  // --public-host, or the host the browser asked for (through the proxy): never a private address.
  const host = state.me?.server || location.hostname;
  const c = t().commands;
  const rows = [
    [c.linux, `mtr -rwbz -c 100 ${host} > mtr.txt`],
    [c.macos, `sudo mtr -rwbz -c 100 ${host} > mtr.txt`],
    [c.windows, `tracert -d ${host} > tracert.txt`],
  ];
  $('commands').replaceChildren(
    ...rows.flatMap(([os, cmd]) => {
      const dd = el('dd');
      dd.append(el('code', cmd));
      return [el('dt', os), dd];
    }),
  );
}

// ---------------------------------------------------------------- the three networks

let routesTimer;
async function pollRoutes() {
  clearTimeout(routesTimer);
  try {
    const res = await fetch('/api/v1/return-routes');
    const data = await res.json();
    if (!res.ok) return setStatus('routes-status', data.message?.[state.lang] ?? data.error, true);
    state.routes = data;
    drawRoutes();
    if (data.status === 'running')
      routesTimer = setTimeout(pollRoutes, 1000 * Number(res.headers.get('retry-after') || 3));
  } catch (err) {
    setStatus('routes-status', err.message, true);
  }
}

function drawRoutes() {
  const r = state.routes;
  if (!r) return;
  const c = t().routesColumns;
  const head = el('tr');
  for (const k of ['carrier', 'city', 'line', 'rtt', 'loss']) head.append(el('th', c[k], k));
  $('routes-table').tHead.replaceChildren(head);
  $('routes-table').tBodies[0].replaceChildren(
    ...(r.rows ?? []).map((row) => {
      const tr = el('tr');
      const line = el('td', row.names?.line?.[state.lang] ?? '', 'line');
      tr.append(
        el('td', row.carrierName?.[state.lang] ?? row.name, 'carrier'),
        el('td', row.city ?? row.name, 'city'),
        line,
        el('td', fixed(row.rttMs), 'rtt'),
        el('td', typeof row.lossPercent === 'number' ? row.lossPercent.toFixed(1) : '', 'loss'),
      );
      return tr;
    }),
  );
  if (r.status === 'running') setStatus('routes-status', t().routesRunning);
  else if (r.error) setStatus('routes-status', fill(t().routesFailed, { error: r.error }), true);
  else if (r.measuredAt)
    setStatus(
      'routes-status',
      fill(t().routesMeasured, {
        time: when(new Date(r.measuredAt).toISOString()),
        protocol: (r.protocol?.used ?? []).map((p) => p.toUpperCase()).join(', ') || r.protocol?.requested,
      }),
    );
}

// ---------------------------------------------------------------- the page

function drawChoices() {
  const me = state.me;
  const select = $('protocol');
  const chosen = select.value || 'auto';
  select.replaceChildren(
    ...(me?.choices?.protocols ?? ['auto']).map((p) => {
      const o = el('option', t().protocols[p] ?? p);
      o.value = p;
      o.selected = p === chosen;
      return o;
    }),
  );
  if (me) {
    $('count').max = String(me.choices.maxCount);
    if (!$('count').value) $('count').value = String(me.choices.defaultCount);
    $('visitor').textContent = fill(t().youAre, { address: me.address });
    // The other family: a name of this server that has only that family's address (the operator's).
    const other = me.family === 4 ? me.site.hosts.v6 : me.site.hosts.v4;
    $('other-family').replaceChildren();
    if (other) {
      const a = el('a', fill(t().otherFamily, { family: me.family === 4 ? 6 : 4, host: other }));
      a.href = `${location.protocol}//${other}${location.port ? `:${location.port}` : ''}/`;
      $('other-family').append(a);
    }
  }
}

function drawServerFacts() {
  const site = state.me?.site;
  const box = $('server-facts');
  if (!site || !(site.name || site.location || site.description || site.addresses.length)) return;
  box.hidden = false;
  const about = [site.name, site.location ? fill(t().serverAt, { location: site.location }) : null, site.description];
  $('server-about').textContent = about.filter(Boolean).join(' · ');
  $('server-addresses').replaceChildren(
    ...site.addresses.map((a) =>
      el('li', `${a.address}${a.asn ? ` · AS${a.asn}${a.asName ? ` ${a.asName}` : ''}` : ''}`),
    ),
  );
}

function drawAll() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t().title;
  for (const node of document.querySelectorAll('[data-t]')) node.textContent = t()[node.dataset.t];
  $('lang').textContent = t().otherLanguage;
  drawChoices();
  drawServerFacts();
  drawCommands();
  drawSummary();
  drawReverse();
  drawTraceStatus();
  drawForward();
  drawRoutes();
}

async function load() {
  const traceId = params.get('trace');
  const reportId = params.get('report');
  if (reportId) {
    try {
      // A link pairs an upload only with its own trace: the server refuses any other pairing.
      const q = traceId ? `?trace=${encodeURIComponent(traceId)}` : '';
      state.report = await api(`/api/v1/reports/${encodeURIComponent(reportId)}${q}`);
    } catch (err) {
      setStatus('forward-status', err.message, true);
      if (err.code === 'report-other-trace') return;
    }
  }
  const id = state.report?.traceId ?? traceId;
  if (!id) return;
  try {
    state.trace = await api(`/api/v1/traces/${encodeURIComponent(id)}`);
    if (state.trace.status === 'running') {
      state.live = state.trace.hops;
      $('trace').disabled = true;
      follow(id);
    }
  } catch (err) {
    setStatus('reverse-status', err.message, true);
  }
}

async function init() {
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    drawAll();
  });
  $('trace-form').addEventListener('submit', startTrace);
  $('upload').addEventListener('submit', upload);
  $('forward-file').addEventListener('change', async () => {
    const file = $('forward-file').files[0];
    if (!file) return;
    // A file over the server's limit is refused here, whole: never cut to fit and sent as if complete.
    const limit = state.me?.uploadLimit ?? 256 * 1024;
    if (file.size > limit) {
      $('forward-file').value = '';
      return setStatus('forward-status', fill(t().tooBig, { size: kb(file.size), limit: kb(limit) }), true);
    }
    $('forward-text').value = await file.text();
    setStatus('forward-status', '');
  });
  $('copy-link').addEventListener('click', async () => {
    const ok = await copyText(location.href);
    setStatus('share-status', ok ? t().copied : t().copyFailed, !ok);
  });
  $('save-image').addEventListener('click', () => saveSummaryImage(state, t(), fill));
  $('mask').addEventListener('click', async () => {
    try {
      const which = state.trace?.yours ? `traces/${state.trace.id}` : `reports/${state.report.id}`;
      await api(`/api/v1/${which}/mask`, {});
      await reload();
      setStatus('share-status', t().maskDone);
    } catch (err) {
      setStatus('share-status', err.message, true);
    }
  });
  $('routes-show').addEventListener('click', () => {
    $('routes-show').hidden = true;
    pollRoutes();
  });
  drawAll();
  try {
    state.me = await api('/api/v1/whoami');
    $('routes').hidden = !state.me.returnRoutes;
    // The line watch's pictures are a page of their own (/watch): its script loads only there.
    $('watch-link-box').hidden = !state.me.watch;
  } catch (err) {
    setStatus('reverse-status', err.message, true);
  }
  await load();
  drawAll();
  document.body.dataset.ready = '1';
}

/** Read the trace and upload again (after masking: the server now sends them masked). */
async function reload() {
  if (state.trace) state.trace = await api(`/api/v1/traces/${encodeURIComponent(state.trace.id)}`);
  if (state.report) state.report = await api(`/api/v1/reports/${encodeURIComponent(state.report.id)}`);
  drawAll();
}

init();
