// Judge the classifier on the corpus of published traces: each trace is read
// as a user would paste it, classified with the shipped carrier table and
// offline AS index, and compared with the label its author's words give.
// corpus.test.ts asserts on it; `npm run corpus` prints the README's table.
import { shippedAsnIndex } from '../../src/lookup/asn-data.js';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { classify, type Classification } from '../../src/route/classify.js';
import { importTrace } from '../../src/route/import.js';
import { addOriginAs } from '../../src/route/origin-as.js';
import { type CorpusTrace, readCorpus } from './trace-corpus.js';

export const VERDICTS = [
  'cn2-gia',
  'cn2-gt',
  'chinanet-163',
  'ctgnet',
  'cu-4837',
  'cu-9929',
  'cu-10099',
  'cmi',
  'cmin2',
  'cmnet',
  'cernet',
  'other',
  'inconclusive',
] as const;

export interface Judged {
  trace: CorpusTrace;
  /** The verdicts the author's words allow ("a|b" when they name two of ours); empty: unlabelled. */
  allowed: string[];
  classification: Classification;
  format: string;
  agrees: boolean;
}

export async function judgeCorpus(): Promise<Judged[]> {
  const table = CarrierTable.load();
  const database = shippedAsnIndex();
  const out: Judged[] = [];
  for (const trace of readCorpus()) {
    const imported = importTrace(trace.text);
    await addOriginAs(imported.hops, table, { kind: 'file', database });
    const classification = classify(imported.hops, table, { namesOnly: imported.namesOnly });
    const allowed = trace.label === 'none' ? [] : trace.label.split('|');
    out.push({
      trace,
      allowed,
      classification,
      format: imported.format,
      agrees: allowed.includes(classification.verdict),
    });
  }
  return out;
}

/** Agreement over labelled traces, and the confusion table (author's label x verdict) in markdown. */
export function summarise(judged: Judged[]): { agree: number; labelled: number; table: string } {
  const labelled = judged.filter((j) => j.allowed.length);
  const agree = labelled.filter((j) => j.agrees).length;
  const rowsOf = [...new Set(labelled.map((j) => j.trace.label))].sort();
  const cols = VERDICTS.filter((v) => labelled.some((j) => j.classification.verdict === v));
  const lines = [
    `| author's label \\ vpsline | ${cols.join(' | ')} | agree |`,
    `|---|${cols.map(() => '---:').join('|')}|---:|`,
  ];
  for (const label of rowsOf) {
    const mine = labelled.filter((j) => j.trace.label === label);
    const cells = cols.map((v) => {
      const n = mine.filter((j) => j.classification.verdict === v).length;
      return n ? String(n) : '·';
    });
    const name = label.split('|').join(' or ');
    lines.push(`| ${name} | ${cells.join(' | ')} | ${mine.filter((j) => j.agrees).length}/${mine.length} |`);
  }
  return { agree, labelled: labelled.length, table: lines.join('\n') };
}
