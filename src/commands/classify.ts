// `vpsline classify` as a library function: import a trace someone already
// ran, fill in AS numbers if asked, classify it and print the verdict.
import { createReadStream, statSync } from 'node:fs';
import { errnoCode, VpslineError } from '../errors.js';
import type { Language } from '../i18n.js';
import { shippedAsnIndex } from '../lookup/asn-data.js';
import { CarrierTable } from '../lookup/carriers.js';
import { classify } from '../route/classify.js';
import { addImportNotes, importTrace, MAX_TRACE_BYTES } from '../route/import.js';
import { addNote } from '../route/notes.js';
import { addOriginAs, type OriginAsSource } from '../route/origin-as.js';
import { renderClassification } from '../route/render.js';
import type { CommandIO } from './io.js';

export interface ClassifyRun {
  /** A file, or '-' for standard input. */
  file: string;
  /** Extra or replacement carrier prefixes. */
  carriers?: string;
  /** Where hops' AS numbers come from (the shipped index when not given). */
  originAs?: OriginAsSource;
  json: boolean;
  lang: Language;
}

/** Traces are a few KB; the importer reads at most this much (a larger input is refused, not read on). */
export const MAX_INPUT_BYTES = MAX_TRACE_BYTES;

function tooLarge(what: string): never {
  throw new VpslineError(
    'EVPSLINE_BAD_OPTION',
    `${what} is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MB: that is not one trace (paste one).`,
    2,
  );
}

/** Standard input, read as a stream (it may be a slow pipe), up to the limit. */
async function readStream(stream: NodeJS.ReadableStream, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_INPUT_BYTES) {
      if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
      tooLarge(what);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readInput(file: string, io: CommandIO): Promise<string> {
  try {
    if (file === '-') return await readStream(io.stdin, 'standard input');
    if (statSync(file).isDirectory()) throw new VpslineError('EVPSLINE_BAD_OPTION', `${file} is a directory.`, 2);
    // Streamed with the same limit: /dev/zero or a FIFO has no size to check first.
    return await readStream(createReadStream(file), file);
  } catch (err) {
    if (err instanceof VpslineError) throw err;
    const what = file === '-' ? 'standard input' : file;
    throw new VpslineError('EVPSLINE_BAD_OPTION', `Cannot read ${what} (${errnoCode(err) ?? 'error'}).`, 2);
  }
}

export async function runClassify(run: ClassifyRun, io: CommandIO): Promise<void> {
  const table = CarrierTable.load(run.carriers);
  const trace = importTrace(await readInput(run.file, io));
  const originAs = run.originAs ?? { kind: 'file', database: shippedAsnIndex() };
  const asNote = await addOriginAs(trace.hops, table, originAs);
  const c = classify(trace.hops, table, { namesOnly: trace.namesOnly });
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
