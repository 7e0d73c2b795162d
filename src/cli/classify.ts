// `vpsline classify [FILE|-]`: which carrier line a trace someone already ran took.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { VpslineError } from '../errors.js';
import { CarrierTable } from '../lookup/carriers.js';
import { classify, type Classification } from '../route/classify.js';
import { addImportNotes, importTrace } from '../route/import.js';
import { lineName } from '../route/lines.js';
import { addNote, noteText } from '../route/notes.js';
import { type Language, parseLanguage } from '../i18n.js';
import { addOriginAs } from '../route/origin-as.js';
import { originAsOptions, originAsSource, type OriginAsFlags } from './origin-as.js';

interface ClassifyFlags extends OriginAsFlags {
  carriers?: string;
  json?: boolean;
  lang: Language;
}

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

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `Cannot read ${file === '-' ? 'standard input' : file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      2,
    );
  }
}

function render(c: Classification, format: string, lang: Language): string {
  const t = LABELS[lang];
  const zh = lang === 'zh';
  const ranges = (ttls: number[]): string =>
    zh
      ? ttls.length > 1
        ? `第 ${ttls[0]}-${ttls[ttls.length - 1]} 跳`
        : `第 ${ttls[0]} 跳`
      : ttls.length > 1
        ? `hops ${ttls[0]}-${ttls[ttls.length - 1]}`
        : `hop ${ttls[0]}`;
  const lines = [
    `${t.line} ${lineName(c.verdict, lang)} (${c.verdict}), ${t.confidence} ${zh ? (CONFIDENCE_ZH[c.confidence] ?? c.confidence) : c.confidence}`,
    `${t.landing} ${c.landing ? `${lineName(c.landing, lang)} (${c.landing})` : '-'}`,
    `${t.segments} ${c.segments.map((s) => `${s.carrier}${s.asn ? ` (AS${s.asn})` : ''} ${ranges(s.ttls)}`).join('; ') || '-'}`,
    t.evidence,
    ...c.evidence.map(
      (e) => `  ${ranges([e.ttl]).padEnd(6)}  ${e.address.padEnd(18)} ${e.carrier}${e.by === 'asn' ? t.byAs : ''}`,
    ),
    ...c.noteCodes.map((n) => `${t.note}: ${noteText(n, lang)}`),
    `(${t.readAs} ${format})`,
  ];
  return lines.join('\n');
}

export function classifyCommand(program: Command): void {
  const cmd = program
    .command('classify')
    .description(
      'name the carrier line (CN2 GIA/GT, 163, 4837, 9929, CMI, ...) of a trace: mtr --json or -r, vpsline JSON, trippy or NextTrace JSON, traceroute text',
    )
    .argument('[file]', 'the trace, or - for standard input', '-')
    .option('--carriers <file>', 'extra or replacement carrier prefixes (JSON, like data/carriers.json)')
    .option('--json', 'print the verdict as JSON')
    .option('--lang <lang>', 'en or zh', 'en');
  originAsOptions(cmd).action(async (file: string, f: ClassifyFlags) => {
    f.lang = parseLanguage(f.lang);
    const table = CarrierTable.load(f.carriers);
    const source = originAsSource(f);
    const trace = importTrace(readInput(file));
    const asNote = source ? await addOriginAs(trace.hops, table, source) : undefined;
    const c = classify(trace.hops, table);
    if (asNote) addNote(c, 'as-lookup-late', asNote);
    addImportNotes(c, trace);
    if (f.json)
      process.stdout.write(
        `${JSON.stringify(
          {
            verdict: c.verdict,
            landing: c.landing,
            segments: c.segments,
            evidence: c.evidence,
            confidence: c.confidence,
            notes: c.notes,
            format: trace.format,
          },
          null,
          2,
        )}\n`,
      );
    else process.stdout.write(`${render(c, trace.format, f.lang)}\n`);
  });
}
