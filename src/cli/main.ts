// `vpsline` command line: parses arguments and calls the library (src/commands). Nothing else.
// Each command loads what it runs only when chosen, so --version and --help stay quick.
import { Command, CommanderError } from 'commander';
import { isVpslineError } from '../errors.js';
import { VERSION } from '../version.js';
import { backtraceCommand } from './backtrace.js';
import { classifyCommand } from './classify.js';
import { mtrCommand } from './mtr.js';
import { serveCommand } from './serve.js';
import { virtCommand } from './virt.js';

export function buildProgram(): Command {
  const program = new Command('vpsline')
    .description("Judge a server's network line: routes, loss, latency, carrier backbones, virtualization.")
    .version(VERSION)
    // Commander's own mistakes (unknown option, bad value) stay on one line, with the hint.
    .configureOutput({ outputError: (str, write) => write(`${str.trimEnd()} (run with --help for the options)\n`) })
    .exitOverride();
  mtrCommand(program);
  classifyCommand(program);
  backtraceCommand(program);
  virtCommand(program);
  serveCommand(program);
  return program;
}

/** Print one clear paragraph for expected errors; keep stack traces for real bugs. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
      return 0;
    return 2; // commander already printed its one line
  }
  if (isVpslineError(err)) {
    process.stderr.write(`vpsline: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`vpsline: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
}

export async function main(argv = process.argv): Promise<void> {
  let code = 0;
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    code = report(err);
  }
  // Abandoned reverse-DNS lookups must not keep the process alive: leave once output is flushed.
  process.stdout.write('', () => process.exit(code || process.exitCode || 0));
}
