// `vpsline classify` as a library function: import a trace someone already
// ran, fill in AS numbers if asked, classify it and print the verdict.
import { readFileSync } from 'node:fs';
import { errnoCode, VpslineError } from '../errors.js';
import type { Language } from '../i18n.js';
import { CarrierTable } from '../lookup/carriers.js';
import { classify } from '../route/classify.js';
import { addImportNotes, importTrace } from '../route/import.js';
import { addNote } from '../route/notes.js';
import { addOriginAs, type OriginAsSource } from '../route/origin-as.js';
import { renderClassification } from '../route/render.js';
import type { CommandIO } from './io.js';

export interface ClassifyRun {
  /** A file, or '-' for standard input. */
  file: string;
  /** Extra or replacement carrier prefixes. */
  carriers?: string;
  originAs?: OriginAsSource;
  json: boolean;
  lang: Language;
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = errnoCode(err) ?? 'error';
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `Cannot read ${file === '-' ? 'standard input' : file} (${code}).`,
      2,
    );
  }
}

export async function runClassify(run: ClassifyRun, io: CommandIO): Promise<void> {
  const table = CarrierTable.load(run.carriers);
  const trace = importTrace(readInput(run.file));
  const asNote = run.originAs ? await addOriginAs(trace.hops, table, run.originAs) : undefined;
  const c = classify(trace.hops, table);
  if (asNote) addNote(c, 'as-lookup-late', asNote);
  addImportNotes(c, trace);
  if (!run.json) {
    io.stdout.write(`${renderClassification(c, trace.format, run.lang)}\n`);
    return;
  }
  const { verdict, landing, segments, evidence, confidence, notes } = c;
  const out = { verdict, landing, segments, evidence, confidence, notes, format: trace.format };
  io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
