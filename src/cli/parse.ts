// Option value parsers shared by the commands: one clear message per mistake.
import { InvalidArgumentError } from 'commander';

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
