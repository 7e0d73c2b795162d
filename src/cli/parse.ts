// Option value parsers shared by the commands: one clear message per mistake.
import { InvalidArgumentError, Option } from 'commander';

export function numberArg(what: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a number.`);
    return n;
  };
}

export function intArg(what: string): (v: string) => number {
  const num = numberArg(what);
  return (v) => {
    const n = num(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${what} must be a whole number.`);
    return n;
  };
}

/** --user, shared by the commands that open sockets (mtr, backtrace, serve); docs/privileges.md. */
export function userOption(): Option {
  return new Option(
    '--user <name>',
    'when started as root: the user to carry on as once the sockets are open (default nobody; root stays uid 0 ' +
      'without capabilities)',
  ).env('VPSLINE_USER');
}
