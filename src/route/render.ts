// Verdicts as text: one classification (vpsline classify) and the backtrace
// table, in English or Chinese.
import type { Language } from '../i18n.js';
import type { BacktraceResult } from './backtrace.js';
import type { Classification } from './classify.js';
import { carrierName, lineName } from './lines.js';
import { noteText } from './notes.js';

const LABELS = {
  en: {
    line: 'Line:     ',
    confidence: 'confidence',
    landing: 'Landing:  ',
    segments: 'Segments: ',
    evidence: 'Evidence:',
    byAs: ' (by AS number)',
    note: 'Note',
    readAs: 'read as',
  },
  zh: {
    line: '线路：',
    confidence: '可信度',
    landing: '落地：',
    segments: '分段：',
    evidence: '依据：',
    byAs: '（按 AS 号）',
    note: '注意',
    readAs: '识别为',
  },
};
const CONFIDENCE_ZH: Record<string, string> = { high: '高', medium: '中', low: '低' };

/** A classification as text: the line, landing, segments, the evidence hops and the notes. */
export function renderClassification(c: Classification, format: string, lang: Language): string {
  const t = LABELS[lang];
  const zh = lang === 'zh';
  const ranges = (ttls: number[]): string => {
    const span = ttls.length > 1 ? `${ttls[0]}-${ttls.at(-1)}` : `${ttls[0]}`;
    return zh ? `第 ${span} 跳` : `${ttls.length > 1 ? 'hops' : 'hop'} ${span}`;
  };
  const confidence = zh ? (CONFIDENCE_ZH[c.confidence] ?? c.confidence) : c.confidence;
  const segments = c.segments.map((s) => `${s.carrier}${s.asn ? ` (AS${s.asn})` : ''} ${ranges(s.ttls)}`);
  const lines = [
    `${t.line} ${lineName(c.verdict, lang)} (${c.verdict}), ${t.confidence} ${confidence}`,
    `${t.landing} ${c.landing ? `${lineName(c.landing, lang)} (${c.landing})` : '-'}`,
    `${t.segments} ${segments.join('; ') || '-'}`,
    t.evidence,
    ...c.evidence.map(
      (e) =>
        `  ${ranges([e.ttl]).padEnd(6)}  ${(e.address ?? `AS${e.asn ?? '?'}`).padEnd(18)} ${e.carrier}` +
        `${e.asn ? ` AS${e.asn}` : ''}${e.by === 'asn' ? t.byAs : ''}`,
    ),
    ...c.noteCodes.map((n) => `${t.note}: ${noteText(n, lang)}`),
    `(${t.readAs} ${format})`,
  ];
  return lines.join('\n');
}

const HEADINGS = {
  en: ['Target', 'Carrier', 'Line', 'Landing', 'Evidence (hops)', 'RTT', 'Loss'],
  zh: ['目标', '运营商', '回程线路', '落地', '证据（跳）', '延迟', '丢包'],
};

/** Visible width: CJK characters take two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s)
    w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch)
      ? 2
      : 1;
  return w;
}

function pad(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - width(s)));
}

/** The backtrace table: one row per target, columns padded for CJK text too. */
export function renderBacktraceTable(results: BacktraceResult[], lang: Language): string {
  const rows = results.map((r) => {
    const evidence = r.error
      ? r.error
      : r.segments.length
        ? r.segments.map((s) => `${s.carrier} ${s.ttls.join(',')}`).join('; ')
        : r.noteCodes[0]
          ? noteText(r.noteCodes[0], lang)
          : '-';
    const marked = r.destinationAnswered || r.error ? '' : lang === 'zh' ? ' (目标无回应)' : ' (target silent)';
    return [
      `${r.target.name} ${r.target.address}`,
      carrierName(r.target.carrier, lang),
      lineName(r.verdict, lang) + marked,
      r.landing ?? '-',
      evidence,
      r.rttMs === null ? '-' : `${r.rttMs.toFixed(1)} ms`,
      r.lossPercent === null ? '-' : `${r.lossPercent.toFixed(0)}%`,
    ];
  });
  const all = [HEADINGS[lang], ...rows];
  const widths = HEADINGS[lang].map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
