// The latency and loss chart (uPlot). Loss is drawn the way it should be read:
// red for loss that carries on to later hops (the path loses packets there),
// grey for loss a hop shows alone (the router limits its ICMP answers; the
// findings say so too), nothing for no loss. The legend is a plain list, not
// uPlot's hover legend (there is no hover on a phone), and the chart follows
// its box's width.
/* global uPlot */

let chart = null;
let observer = null;
let lastKey = '';

const COLORS = { avg: '#2d5bd7', worst: '#9aa7c7', loss: '#d93025', limited: '#b8bec9' };

function legend(list, t) {
  const items = [
    ['avg', t.chartLatency],
    ['worst', t.chartWorst],
    ['loss', t.chartLoss],
    ['limited', t.chartLimited],
  ];
  list.replaceChildren(
    ...items.map(([key, label]) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = `swatch ${key}`;
      li.append(swatch, document.createTextNode(label));
      return li;
    }),
  );
}

export function drawChart(box, list, hops, carried, t) {
  if (typeof uPlot === 'undefined') return;
  legend(list, t);
  const sorted = [...hops].sort((a, b) => a.ttl - b.ttl);
  const answered = (h) => (h.received === undefined ? typeof h.avg === 'number' : h.received > 0);
  const positive = (v) => (typeof v === 'number' && v > 0 ? v : null);
  const data = [
    sorted.map((h) => h.ttl),
    sorted.map((h) => (answered(h) ? h.avg : null)),
    sorted.map((h) => (answered(h) ? h.worst : null)),
    sorted.map((h) => positive(carried.get(h.ttl))),
    sorted.map((h) => positive((h.lossPercent ?? 0) - (carried.get(h.ttl) ?? 0))),
  ];
  const width = Math.max(240, box.clientWidth || 320);
  // Labels change with the language: a new chart then; otherwise new data only.
  const key = `${t.chartLatency}|${t.chartLoss}`;
  if (chart && key === lastKey) {
    chart.setData(data);
    return;
  }
  chart?.destroy();
  lastKey = key;
  chart = new uPlot(
    {
      width,
      height: Math.round(Math.min(240, Math.max(160, width * 0.45))),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, loss: { range: [0, 100] } },
      axes: [
        {
          incrs: [1, 2, 5, 10],
          values: (_u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : '')),
        },
        { label: 'ms', size: 44 },
        { side: 1, scale: 'loss', label: '%', grid: { show: false }, size: 36 },
      ],
      series: [
        {},
        { label: t.chartLatency, stroke: COLORS.avg, width: 2, points: { show: true } },
        { label: t.chartWorst, stroke: COLORS.worst, width: 1, dash: [4, 4] },
        {
          label: t.chartLoss,
          scale: 'loss',
          stroke: COLORS.loss,
          fill: 'rgba(217,48,37,0.35)',
          paths: uPlot.paths.bars({ size: [0.5, 40] }),
          points: { show: false },
        },
        {
          label: t.chartLimited,
          scale: 'loss',
          stroke: COLORS.limited,
          fill: 'rgba(184,190,201,0.35)',
          paths: uPlot.paths.bars({ size: [0.5, 40] }),
          points: { show: false },
        },
      ],
    },
    data,
    box,
  );
  // A phone turned sideways, a window resized: the chart takes its box's new width.
  observer?.disconnect();
  observer = new ResizeObserver(() => {
    const w = Math.max(240, box.clientWidth);
    if (chart && Math.abs(chart.width - w) > 2)
      chart.setSize({ width: w, height: Math.round(Math.min(240, Math.max(160, w * 0.45))) });
  });
  observer.observe(box);
}
