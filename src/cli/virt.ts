// `vpsline virt`: what this server really is, and what that lets you do.
import type { Command } from 'commander';
import { VpslineError } from '../errors.js';
import { type Language, parseLanguage } from '../i18n.js';
import { intArg } from './parse.js';

interface VirtFlags {
  root?: string;
  dump?: string;
  dumpHostname?: boolean;
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
    .option('--root <dir>', 'read a saved machine (a --dump folder, or a folder laid out like /) instead of this one')
    .option(
      '--dump <dir>',
      'also save everything read here to a new folder (for --root, or to send in): no environment but ' +
        '"container=", serials cut, the host name masked',
    )
    .option('--dump-hostname', 'with --dump: keep the host name')
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
      if (f.dump && f.root)
        throw new VpslineError('EVPSLINE_BAD_OPTION', '--dump saves this machine; it does not go with --root.', 2);
      if (f.dumpHostname && !f.dump)
        throw new VpslineError('EVPSLINE_BAD_OPTION', '--dump-hostname goes with --dump.', 2);
      if (f.steal < 0 || f.steal > 60_000)
        throw new VpslineError('EVPSLINE_BAD_OPTION', `--steal must be 0 to 60000 ms (got ${f.steal}).`, 2);
      const [{ detectVirt, FixtureSource, HostSource }, { renderVirt }, dump, { VERSION }] = await Promise.all([
        import('../virt/detect.js'),
        import('../virt/render.js'),
        import('../virt/dump.js'),
        import('../version.js'),
      ]);
      const recording = f.dump ? new dump.RecordingSource(new HostSource('/'), dump.hostCpuidRegisters) : undefined;
      const source = f.root
        ? f.probes
          ? FixtureSource.load(f.root, f.probes)
          : (dump.openDump(f.root) ?? FixtureSource.load(f.root))
        : recording;
      const report = await detectVirt({ ...(source ? { source } : {}), stealSampleMs: f.steal });
      if (f.dump && recording) {
        dump.writeDump(f.dump, recording, {
          vpsline: VERSION,
          keepHostname: f.dumpHostname === true,
          tools: dump.otherTools(),
        });
        process.stderr.write(`Saved what was read to ${f.dump}; read it back with: vpsline virt --root ${f.dump}\n`);
      }
      process.stdout.write(`${f.json ? JSON.stringify(report, null, 2) : renderVirt(report, f.lang, !f.brief)}\n`);
    });
}
