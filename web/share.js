// Sharing: the link (clipboard, with a fallback for browsers inside chat apps
// that refuse it) and the summary as a PNG drawn on a canvas here, for forum
// posts. No external service sees either.

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Chat apps' browsers often lack the clipboard API: a selected text field and execCommand.
    const field = document.createElement('textarea');
    field.value = text;
    field.setAttribute('readonly', '');
    field.style.position = 'fixed';
    field.style.opacity = '0';
    document.body.append(field);
    field.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    field.remove();
    return ok;
  }
}

const WIDTH = 960;
const PAD = 32;
const FONT = 'system-ui, "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif';

/** Lines of text wrapped to the canvas width. */
function wrap(ctx, text, width) {
  const out = [];
  let line = '';
  // CJK text has no spaces: wrap by character there, by word elsewhere.
  const parts = /[\u3000-\u9fff]/.test(text) ? [...text] : text.split(/(?<=\s)/);
  for (const part of parts) {
    if (ctx.measureText(line + part).width > width && line) {
      out.push(line.trimEnd());
      line = part.trimStart();
    } else line += part;
  }
  if (line) out.push(line);
  return out;
}

function hopRows(view, t) {
  return (view?.hops ?? []).map((h) => {
    const host = h.masked ? t.hidden : h.name || h.address || '???';
    const loss = typeof h.lossPercent === 'number' ? `${h.lossPercent.toFixed(1)}%` : '';
    const avg = typeof h.avg === 'number' ? `${h.avg.toFixed(1)} ms` : '';
    return [`${h.ttl}`, `${host}${h.carrier ? ` [${h.carrier}]` : ''}`, loss, avg];
  });
}

/** Draw what the summary says (headline, verdicts, who measured what, both hop lists) and download it. */
export function saveSummaryImage(state, t, fill) {
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  const blocks = [];
  blocks.push({ font: `bold 26px ${FONT}`, text: document.getElementById('headline').textContent, gap: 12 });
  for (const p of document.querySelectorAll('#verdicts p, #comparison li, #provenance li'))
    blocks.push({ font: `16px ${FONT}`, text: p.textContent, gap: 6 });
  const tables = [
    [t.forwardShort, hopRows(state.report, t)],
    [t.reverseShort, hopRows(state.trace, t)],
  ].filter(([, rows]) => rows.length);
  // Measure first, then size the canvas and draw.
  let height = PAD;
  const laid = blocks.map((b) => {
    ctx.font = b.font;
    const lines = wrap(ctx, b.text, WIDTH - 2 * PAD);
    const size = Number.parseInt(b.font.match(/(\d+)px/)[1], 10);
    height += lines.length * (size + 6) + b.gap;
    return { ...b, lines, size };
  });
  for (const [, rows] of tables) height += 34 + rows.length * 22 + 12;
  height += 40;
  canvas.width = WIDTH;
  canvas.height = height;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, WIDTH, height);
  ctx.fillStyle = '#1d2330';
  ctx.textBaseline = 'top';
  let y = PAD;
  for (const b of laid) {
    ctx.font = b.font;
    for (const line of b.lines) {
      ctx.fillText(line, PAD, y);
      y += b.size + 6;
    }
    y += b.gap;
  }
  for (const [title, rows] of tables) {
    ctx.font = `bold 18px ${FONT}`;
    ctx.fillText(title, PAD, y + 8);
    y += 34;
    ctx.font = `15px ui-monospace, monospace`;
    for (const [ttl, host, loss, avg] of rows) {
      ctx.fillText(ttl.padStart(2), PAD, y);
      ctx.font = `15px ${FONT}`;
      ctx.fillText(host.length > 60 ? `${host.slice(0, 59)}…` : host, PAD + 36, y);
      ctx.font = `15px ui-monospace, monospace`;
      ctx.fillText(loss.padStart(7), WIDTH - PAD - 200, y);
      ctx.fillText(avg.padStart(10), WIDTH - PAD - 110, y);
      y += 22;
    }
    y += 12;
  }
  ctx.font = `13px ${FONT}`;
  ctx.fillStyle = '#5b6475';
  ctx.fillText(fill('vpsline · {url}', { url: location.href }), PAD, height - 28);
  canvas.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `vpsline-${state.report?.id ?? state.trace?.id ?? 'summary'}.png`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
}
