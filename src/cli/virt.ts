// `vpsline virt`: what this server really is, and what that lets you do.
import type { Command } from 'commander';
import { VpslineError } from '../errors.js';
import { type Language, parseLanguage } from '../i18n.js';
import { intArg } from './parse.js';

interface VirtFlags {
  root?: string;
  probes?: string;
  json?: boolean;
  lang: Language;
  steal: number;
  brief?: boolean;
}

export function virtCommand(program: Command): void {
  program
    .command('virt')
    .description(
      'every virtualization layer (container, VM, provider) with its evidence, and what it means: ' +
        'modules, BBR, TUN, nested VMs, swap, steal, ballooning',
    )
    .option('--root <dir>', 'read a saved machine (a folder laid out like /) instead of this one')
    .option(
      '--probes <file>',
      'with --root: JSON for what files cannot carry (CPUID leaves, command output, denied paths)',
    )
    .option('--json', 'print the report as JSON')
    .option('--lang <lang>', 'en or zh', 'en')
    .option('--steal <ms>', 'watch CPU steal time for this long (0: since boot only)', intArg('steal'), 1000)
    .option('--brief', 'leave out the evidence lists')
    .action(async (f: VirtFlags) => {
      f.lang = parseLanguage(f.lang);
      if (f.probes && !f.root)
        throw new VpslineError(
          'EVPSLINE_BAD_OPTION',
          '--probes goes with --root (this machine is probed directly).',
          2,
        );
      if (f.steal < 0 || f.steal > 60_000)
        throw new VpslineError('EVPSLINE_BAD_OPTION', `--steal must be 0 to 60000 ms (got ${f.steal}).`, 2);
      const [{ detectVirt, FixtureSource }, { renderVirt }] = await Promise.all([
        import('../virt/detect.js'),
        import('../virt/render.js'),
      ]);
      const source = f.root ? FixtureSource.load(f.root, f.probes) : undefined;
      const report = await detectVirt({ ...(source ? { source } : {}), stealSampleMs: f.steal });
      process.stdout.write(`${f.json ? JSON.stringify(report, null, 2) : renderVirt(report, f.lang, !f.brief)}\n`);
    });
}
