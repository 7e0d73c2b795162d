// `vpsline classify [FILE|-]`: which carrier line a trace someone already ran took
// (src/commands/classify.ts runs it).
import type { Command } from 'commander';
import { type Language, parseLanguage } from '../i18n.js';
import { type OriginAsFlags, originAsOptions, originAsSource } from './origin-as.js';

interface ClassifyFlags extends OriginAsFlags {
  carriers?: string;
  json?: boolean;
  lang: Language;
}

export function classifyCommand(program: Command): void {
  const cmd = program
    .command('classify')
    .description(
      'name the carrier line (CN2 GIA/GT, 163, 4837, 9929, CMI, ...) of a trace: ' +
        'mtr --json or -r, vpsline JSON, trippy or NextTrace JSON, traceroute text',
    )
    .argument('[file]', 'the trace, or - for standard input', '-')
    .option('--carriers <file>', 'extra or replacement carrier prefixes (JSON, like data/carriers.json)')
    .option('--json', 'print the verdict as JSON')
    .option('--lang <lang>', 'en or zh', 'en');
  originAsOptions(cmd).action(async (file: string, f: ClassifyFlags) => {
    const lang = parseLanguage(f.lang);
    const originAs = await originAsSource(f);
    const [{ runClassify }, { processIO }] = await Promise.all([
      import('../commands/classify.js'),
      import('../commands/io.js'),
    ]);
    await runClassify(
      {
        file,
        ...(f.carriers !== undefined ? { carriers: f.carriers } : {}),
        ...(originAs ? { originAs } : {}),
        json: !!f.json,
        lang,
      },
      processIO(),
    );
  });
}
