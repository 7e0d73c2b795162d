// `vpsline` command line: parses arguments and calls the library (src/commands). Nothing else.
// Each command loads what it runs only when chosen, so --version and --help stay quick.
import { Command, CommanderError } from 'commander';
import { errnoCode, isVpslineError } from '../errors.js';
import { VERSION } from '../version.js';
import { backtraceCommand } from './backtrace.js';
import { classifyCommand } from './classify.js';
import { mtrCommand } from './mtr.js';
import { serveCommand } from './serve.js';
import { virtCommand } from './virt.js';
import { watchCommand } from './watch.js';

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
  watchCommand(program);
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

/** Die of SIGPIPE, as mtr does on a closed pipe (the shell's 141): Node ignores the signal, so restore it first. */
function brokenPipe(): void {
  const restore = (): void => {};
  process.on('SIGPIPE', restore);
  process.off('SIGPIPE', restore); // the last listener gone, libuv puts back the default action
  process.kill(process.pid, 'SIGPIPE');
  setTimeout(() => process.exit(141), 100).unref(); // should the signal not end us
}

/**
 * Output that cannot be written: a reader that went away (`| head`) ends the
 * run quietly; any other write error (a full disk) is one line and exit 1, like mtr.
 */
function watchOutput(): void {
  process.stdout.on('error', (err) => {
    if (errnoCode(err) === 'EPIPE') {
      brokenPipe();
      return;
    }
    const why = /^E[A-Z0-9]+: ([^,]+)/.exec(err.message)?.[1] ?? err.message;
    process.stderr.write(`vpsline: write error: ${why.charAt(0).toUpperCase()}${why.slice(1)}\n`);
    process.exit(1);
  });
  // Nothing sensible is left to say when stderr itself cannot be written.
  process.stderr.on('error', () => process.exit(process.exitCode ?? 1));
}

export async function main(argv = process.argv): Promise<void> {
  watchOutput();
  let code = 0;
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    code = report(err);
  }
  // Lookups still out must not keep the process alive: leave once output is flushed.
  // (A write that failed is watchOutput's to report; its error comes first.)
  process.stdout.write('', (err) => {
    if (!err) process.exit(code || process.exitCode || 0);
  });
}
