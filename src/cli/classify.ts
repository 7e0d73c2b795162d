// `vpsline classify [FILE|-]`: which carrier line a trace someone already ran took.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { VpslineError } from '../errors.js';
import { CarrierTable } from '../lookup/carriers.js';
import { classify, type Classification } from '../route/classify.js';
import { importTrace } from '../route/import.js';
import { lineName } from '../route/lines.js';
import { addNote } from '../route/notes.js';
import { addOriginAs } from '../route/origin-as.js';
import { originAsOptions, originAsSource, type OriginAsFlags } from './origin-as.js';

interface ClassifyFlags extends OriginAsFlags {
  carriers?: string;
  json?: boolean;
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new VpslineError('EVPSLINE_BAD_OPTION', `Cannot read ${file === '-' ? 'standard input' : file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, 2);
  }
}

function render(c: Classification, format: string): string {
  const ranges = (ttls: number[]): string => (ttls.length > 1 ? `hops ${ttls[0]}-${ttls[ttls.length - 1]}` : `hop ${ttls[0]}`);
  const lines = [
    `Line:      ${lineName(c.verdict)} (${c.verdict}), confidence ${c.confidence}`,
    `Landing:   ${c.landing ?? '-'}`,
    `Segments:  ${c.segments.map((s) => `${s.carrier}${s.asn ? ` (AS${s.asn})` : ''} ${ranges(s.ttls)}`).join('; ') || '-'}`,
    'Evidence:',
    ...c.evidence.map((e) => `  hop ${String(e.ttl).padStart(2)}  ${e.address.padEnd(18)} ${e.carrier}${e.by === 'asn' ? ' (by AS number)' : ''}`),
    ...c.notes.map((n) => `Note: ${n}`),
    `(read as ${format})`,
  ];
  return lines.join('\n');
}

export function classifyCommand(program: Command): void {
  const cmd = program
    .command('classify')
    .description('name the carrier line (CN2 GIA/GT, 163, 4837, 9929, CMI, ...) of a trace: mtr --json or -r, vpsline JSON, trippy or NextTrace JSON, traceroute text')
    .argument('[file]', 'the trace, or - for standard input', '-')
    .option('--carriers <file>', 'extra or replacement carrier prefixes (JSON, like data/carriers.json)')
    .option('--json', 'print the verdict as JSON');
  originAsOptions(cmd).action(async (file: string, f: ClassifyFlags) => {
    const table = CarrierTable.load(f.carriers);
    const source = originAsSource(f);
    const trace = importTrace(readInput(file));
    const asNote = source ? await addOriginAs(trace.hops, table, source) : undefined;
    const c = classify(trace.hops, table);
    if (asNote) addNote(c, 'as-lookup-late', asNote);
    if (trace.multiAddress) addNote(c, 'multi-address', { count: trace.multiAddress });
    if (trace.namesOnly) addNote(c, 'names-only', { count: trace.namesOnly });
    if (f.json) process.stdout.write(JSON.stringify({ verdict: c.verdict, landing: c.landing, segments: c.segments, evidence: c.evidence, confidence: c.confidence, notes: c.notes, format: trace.format }, null, 2) + '\n');
    else process.stdout.write(render(c, trace.format) + '\n');
  });
}
