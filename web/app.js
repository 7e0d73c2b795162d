// The looking-glass page. It only talks to the JSON API, and it only ever
// puts text into the page with textContent: hop names come from reverse DNS,
// which anyone who owns an address block can fill with markup.
/* global uPlot */

const TEXT = {
  en: {
    title: 'vpsline looking glass',
    youAre: 'Your address as this server sees it:',
    permalink: 'Permanent link',
    reverseTitle: 'Server → you (where your downloads come from)',
    forwardTitle: 'You → server (run this on your computer)',
    traceButton: 'Trace back to me',
    pasteLabel: 'Paste the output here (mtr, WinMTR, tracert, traceroute, trippy, NextTrace), or choose a file:',
    sendButton: 'Show both directions',
    columns: ['#', 'Host', 'Loss%', 'Snt', 'Last', 'Avg', 'Best', 'Wrst', 'StDev'],
    forwardColumns: ['#', 'Host', 'Carrier'],
    starting: 'Starting…',
    tracing: (n) => `Tracing: ${n} hop(s) so far…`,
    done: (n) => `Done: ${n} hop(s).`,
    failed: (e) => `The trace failed: ${e}`,
    interrupted: 'This trace was interrupted (the server restarted) before it finished.',
    stopped: (n) => `Stopped before the end (the server's time limit or a shutdown): ${n} hop(s) measured.`,
    line: 'Line',
    landing: 'landing',
    confidence: 'confidence',
    levels: { high: 'high', medium: 'medium', low: 'low' },
    sent: (f) => `Read as ${f}.`,
    empty: 'Paste a trace first.',
    tooBig: (size, limit) => `This file is ${kb(size)}; uploads are at most ${kb(limit)}. Choose one trace.`,
    latency: 'Avg (ms)',
    worst: 'Worst (ms)',
    loss: 'Loss %',
    other: '中文',
    commands: { linux: 'Linux', macos: 'macOS (Homebrew mtr)', windows: 'Windows (Command Prompt)' },
  },
  zh: {
    title: 'vpsline 网络观察镜',
    youAre: '服务器看到的你的地址：',
    permalink: '永久链接',
    reverseTitle: '服务器 → 你（回程，你下载时走的路）',
    forwardTitle: '你 → 服务器（去程，在你的电脑上运行）',
    traceButton: '追踪回程到我',
    pasteLabel: '把结果粘贴到这里（mtr、WinMTR、tracert、traceroute、trippy、NextTrace），或选择文件：',
    sendButton: '同时查看去程和回程',
    columns: ['#', '主机', '丢包%', '发送', '最新', '平均', '最好', '最差', '标准差'],
    forwardColumns: ['#', '主机', '运营商'],
    starting: '开始…',
    tracing: (n) => `追踪中：已有 ${n} 跳…`,
    done: (n) => `完成：共 ${n} 跳。`,
    failed: (e) => `追踪失败：${e}`,
    interrupted: '服务器重启，此次追踪未完成。',
    stopped: (n) => `追踪被提前停止（服务器时限或关闭）：已测得 ${n} 跳。`,
    line: '线路',
    landing: '落地',
    confidence: '可信度',
    levels: { high: '高', medium: '中', low: '低' },
    sent: (f) => `识别为 ${f}。`,
    empty: '请先粘贴追踪结果。',
    tooBig: (size, limit) => `该文件大小为 ${kb(size)}；上传最多 ${kb(limit)}。请只选择一份路由追踪。`,
    latency: '平均 (ms)',
    worst: '最差 (ms)',
    loss: '丢包 %',
    other: 'English',
    commands: { linux: 'Linux', macos: 'macOS（Homebrew 安装 mtr）', windows: 'Windows（命令提示符）' },
  },
};

const params = new URLSearchParams(location.search);
let lang = params.get('lang') === 'zh' || (!params.get('lang') && navigator.language.startsWith('zh')) ? 'zh' : 'en';
const t = () => TEXT[lang];
const $ = (id) => document.getElementById(id);
const kb = (bytes) => (bytes >= 1024 * 1024 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`);
const state = {
  traceId: params.get('trace'),
  reportId: params.get('report'),
  hops: new Map(),
  result: null,
  report: null,
  server: '',
  chart: null,
  /** Bytes an upload may have (the server says in whoami; 256 KB by default). */
  uploadLimit: 256 * 1024,
};

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function setStatus(id, text, error = false) {
  $(id).textContent = text;
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
  if (!res.ok) throw new Error(data.message?.[lang] || data.error || `HTTP ${res.status}`);
  return data;
}

function header(table, columns) {
  const row = el('tr');
  for (const c of columns) row.append(el('th', c));
  table.tHead.replaceChildren(row);
}

const fmt = (v) => (typeof v === 'number' ? v.toFixed(1) : '');

function hostCell(hop) {
  const td = el('td');
  const label = hop.address
    ? hop.name && hop.name !== hop.address
      ? `${hop.name} (${hop.address})`
      : hop.address
    : '???';
  td.append(el('span', label, 'host'));
  if (hop.carrier) td.append(el('span', hop.carrier, 'tag'));
  return td;
}

function drawReverse() {
  const hops = [...state.hops.values()].sort((a, b) => a.ttl - b.ttl);
  header($('reverse-hops'), t().columns);
  const body = $('reverse-hops').tBodies[0];
  body.replaceChildren(
    ...hops.map((h) => {
      const tr = el('tr');
      tr.dataset.ttl = String(h.ttl);
      tr.append(el('td', `${h.ttl}.`), hostCell(h));
      const loss = el('td');
      const bar = el('span', undefined, 'loss');
      bar.style.width = `${Math.round(h.lossPercent / 2)}px`;
      loss.append(bar, document.createTextNode(`${h.lossPercent.toFixed(1)}%`));
      tr.append(
        loss,
        el('td', h.sent),
        el('td', h.received ? fmt(h.last) : ''),
        el('td', h.received ? fmt(h.avg) : ''),
        el('td', h.received ? fmt(h.best) : ''),
        el('td', h.received ? fmt(h.worst) : ''),
        el('td', h.received ? fmt(h.stdev) : ''),
      );
      return tr;
    }),
  );
  drawChart(hops);
}

function drawChart(hops) {
  if (typeof uPlot === 'undefined' || !hops.length) return;
  const data = [
    hops.map((h) => h.ttl),
    hops.map((h) => (h.received ? h.avg : null)),
    hops.map((h) => (h.received ? h.worst : null)),
    hops.map((h) => h.lossPercent),
  ];
  if (state.chart) {
    state.chart.setData(data);
    return;
  }
  const width = Math.max(320, $('chart').clientWidth || 480);
  state.chart = new uPlot(
    {
      width,
      height: 220,
      scales: { x: { time: false }, loss: { range: [0, 100] } },
      // Hops are whole numbers: no ticks between them.
      axes: [
        {
          label: '#',
          incrs: [1, 2, 5, 10],
          values: (_u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : '')),
        },
        { label: 'ms' },
        { side: 1, scale: 'loss', label: '%', grid: { show: false } },
      ],
      series: [
        { label: '#' },
        { label: t().latency, stroke: '#2d5bd7', width: 2, points: { show: true } },
        { label: t().worst, stroke: '#9aa7c7', width: 1, dash: [4, 4] },
        {
          label: t().loss,
          scale: 'loss',
          stroke: '#d93025',
          fill: 'rgba(217,48,37,0.25)',
          paths: uPlot.paths.bars({ size: [0.5, 40] }),
          points: { show: false },
        },
      ],
    },
    data,
    $('chart'),
  );
}

function drawVerdict(id, classification, names) {
  const box = $(id);
  box.replaceChildren();
  if (!classification) return;
  box.append(
    document.createTextNode(`${t().line}: ${names ? names.line[lang] : ''} `),
    el('span', classification.verdict, 'tag'),
  );
  if (classification.landing)
    box.append(
      document.createTextNode(` ${t().landing}: ${names?.landing ? names.landing[lang] : ''} `),
      el('span', classification.landing, 'tag'),
    );
  box.append(
    document.createTextNode(
      ` (${t().confidence}: ${t().levels[classification.confidence] ?? classification.confidence})`,
    ),
  );
  for (const note of (names ? names.notes[lang] : classification.notes) || []) box.append(el('div', note, 'note'));
}

function drawFindings(result) {
  const list = $('findings');
  list.replaceChildren();
  const findings = (lang === 'zh' ? result?.analysisZh : result?.report?.vpsline?.analysis) ?? [];
  for (const f of findings) list.append(el('li', f.message, f.severity));
}

function showResult(result) {
  state.result = result;
  if (Array.isArray(result.hops)) for (const h of result.hops) state.hops.set(h.ttl, h);
  drawReverse();
  drawVerdict('reverse-verdict', result.classification, result.names);
  drawFindings(result);
}

function follow(id) {
  const source = new EventSource(`/api/v1/traces/${id}/events`);
  source.addEventListener('hop', (e) => {
    const hop = JSON.parse(e.data);
    state.hops.set(hop.ttl, hop);
    drawReverse();
    setStatus('reverse-status', t().tracing(state.hops.size));
  });
  source.addEventListener('end', (e) => {
    source.close();
    const end = JSON.parse(e.data);
    $('trace').disabled = false;
    // A trace stopped early still shows what it measured.
    if (end.status === 'done' || (end.status === 'interrupted' && end.result)) {
      showResult(end.result);
      const n = state.hops.size;
      setStatus('reverse-status', end.status === 'done' ? t().done(n) : t().stopped(n));
    } else
      setStatus(
        'reverse-status',
        end.status === 'interrupted' ? t().interrupted : t().failed(end.error || end.status),
        true,
      );
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) $('trace').disabled = false;
  };
}

async function startTrace() {
  $('trace').disabled = true;
  state.hops.clear();
  state.result = null;
  drawReverse();
  setStatus('reverse-status', t().starting);
  try {
    const r = await api('/api/v1/traces', {});
    state.traceId = r.id;
    updateLink();
    follow(r.id);
  } catch (err) {
    $('trace').disabled = false;
    setStatus('reverse-status', err.message, true);
  }
}

function drawForward(report) {
  state.report = report;
  header($('forward-hops'), t().forwardColumns);
  $('forward-hops').tBodies[0].replaceChildren(
    ...report.hops.map((h) => {
      const tr = el('tr');
      tr.append(el('td', `${h.ttl}.`), el('td', h.address ?? '???'), el('td', h.carrier ?? ''));
      return tr;
    }),
  );
  drawVerdict('forward-verdict', report.classification, report.names);
  setStatus('forward-status', t().sent(report.format));
}

async function upload(event) {
  event.preventDefault();
  const text = $('forward-text').value;
  if (!text.trim()) return setStatus('forward-status', t().empty, true);
  $('send').disabled = true;
  try {
    const r = await api('/api/v1/reports', state.traceId ? { text, traceId: state.traceId } : { text });
    state.reportId = r.id;
    drawForward(r);
    updateLink();
  } catch (err) {
    setStatus('forward-status', err.message, true);
  } finally {
    $('send').disabled = false;
  }
}

function updateLink() {
  const q = new URLSearchParams();
  if (state.traceId) q.set('trace', state.traceId);
  if (state.reportId) q.set('report', state.reportId);
  if (lang === 'zh') q.set('lang', 'zh');
  const link = $('permalink');
  link.href = `/?${q}`;
  link.hidden = !state.traceId && !state.reportId;
  history.replaceState(null, '', link.href);
}

function drawCommands() {
  const host = state.server || location.hostname;
  const list = $('commands');
  const c = t().commands;
  const rows = [
    [c.linux, `mtr -rwbz -c 100 ${host} > mtr.txt`],
    [c.macos, `sudo mtr -rwbz -c 100 ${host} > mtr.txt`],
    [c.windows, `tracert -d ${host} > tracert.txt`],
  ];
  list.replaceChildren(
    ...rows.flatMap(([os, cmd]) => [
      el('dt', os),
      (() => {
        const dd = el('dd');
        dd.append(el('code', cmd));
        return dd;
      })(),
    ]),
  );
}

function translate() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t()[node.dataset.i18n];
  $('lang').textContent = t().other;
  drawCommands();
  drawReverse();
  if (state.report) drawForward(state.report);
  if (state.result) {
    drawVerdict('reverse-verdict', state.result.classification, state.result.names);
    drawFindings(state.result);
  }
}

async function init() {
  $('lang').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    translate();
    updateLink();
  });
  $('trace').addEventListener('click', startTrace);
  $('upload').addEventListener('submit', upload);
  // A file over the server's limit is refused here, whole: never cut to fit and sent as if complete.
  $('forward-file').addEventListener('change', async () => {
    const file = $('forward-file').files[0];
    if (!file) return;
    if (file.size > state.uploadLimit) {
      $('forward-file').value = '';
      setStatus('forward-status', t().tooBig(file.size, state.uploadLimit), true);
      return;
    }
    $('forward-text').value = await file.text();
    setStatus('forward-status', '');
  });
  translate();
  try {
    const me = await api('/api/v1/whoami');
    $('visitor').textContent = me.address;
    state.server = me.server;
    if (Number.isFinite(me.uploadLimit)) state.uploadLimit = me.uploadLimit;
    drawCommands();
  } catch (err) {
    $('visitor').textContent = err.message;
  }
  if (state.traceId) {
    try {
      const tr = await api(`/api/v1/traces/${encodeURIComponent(state.traceId)}`);
      if (tr.status === 'running') {
        for (const h of tr.hops) state.hops.set(h.ttl, h);
        drawReverse();
        $('trace').disabled = true;
        follow(tr.id);
      } else if (tr.status === 'done' || (tr.status === 'interrupted' && tr.report)) {
        showResult(tr);
        const n = state.hops.size;
        setStatus('reverse-status', tr.status === 'done' ? t().done(n) : t().stopped(n));
      } else
        setStatus(
          'reverse-status',
          tr.status === 'interrupted' ? t().interrupted : t().failed(tr.error || tr.status),
          true,
        );
    } catch (err) {
      setStatus('reverse-status', err.message, true);
    }
  }
  if (state.reportId) {
    try {
      drawForward(await api(`/api/v1/reports/${encodeURIComponent(state.reportId)}`));
    } catch (err) {
      setStatus('forward-status', err.message, true);
    }
  }
  updateLink();
}

init();
