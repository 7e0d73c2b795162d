// mtr's options as `vpsline mtr` reads them: what each becomes (parsed in
// process, nothing sent), and the mtr options vpsline lacks answered with why
// (spawned, exit 2) instead of "unknown option".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { MtrRun } from '../../src/commands/mtr.js';
import { buildProgram } from '../../src/cli/main.js';
import { displayOrder, mtrRun } from '../../src/cli/mtr.js';

const root = new URL('../../', import.meta.url).pathname;

/** What `vpsline mtr <args>` would run, without running it. */
function parse(...args: string[]): MtrRun {
  const program = buildProgram();
  const mtr = program.commands.find((c) => c.name() === 'mtr');
  assert.ok(mtr);
  let run: MtrRun | undefined;
  mtr.action((host, flags, command) => {
    run = mtrRun(host, flags, command.getOptionValueSource('reportCycles') !== 'default', displayOrder(mtr, args));
  });
  program.parse(['node', 'vpsline', 'mtr', ...args]);
  assert.ok(run);
  return run;
}

const vpsline = (...args: string[]) =>
  spawnSync(process.execPath, [`${root}bin/vpsline.js`, 'mtr', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('vpsline mtr options', () => {
  it('--carriers is a flag: the host after it stays the host', () => {
    const run = parse('--carriers', '198.18.0.1');
    assert.equal(run.host, '198.18.0.1');
    assert.equal(run.carriers, true);
  });

  it('--carriers-file FILE adds a table and implies --carriers', () => {
    const run = parse('--carriers-file', 'mine.json', '198.18.0.1');
    assert.equal(run.host, '198.18.0.1');
    assert.equal(run.carriers, 'mine.json');
    assert.equal(parse('198.18.0.1').carriers, undefined);
  });

  it('-y 0 is the origin AS (-z); -G caps the last round; -t asks for the live view', () => {
    assert.equal(parse('-y', '0', '198.18.0.1').asLookup, 'shipped');
    assert.equal(parse('-z', '198.18.0.1').asLookup, 'shipped');
    assert.equal(parse('--aslookup-dns', '198.18.0.1').asLookup, 'dns');
    assert.deepEqual(parse('--asn-db', 'lab.csv', '198.18.0.1').asLookup, { file: 'lab.csv' });
    assert.equal(parse('198.18.0.1').asLookup, false);
    assert.equal(parse('-G', '0.5', '198.18.0.1').trace.graceTime, 0.5);
    assert.equal(parse('198.18.0.1').trace.graceTime, undefined);
    // Not on a terminal here: the report, unless -t (and -t yields to -r and the formats, as the flags say).
    assert.equal(parse('198.18.0.1').output, 'report');
    assert.equal(parse('-t', '198.18.0.1').output, 'live');
    assert.equal(parse('-t', '-r', '198.18.0.1').output, 'report');
    assert.equal(parse('-t', '-j', '198.18.0.1').output, 'json');
    assert.equal(parse('-r', '-t', '198.18.0.1').output, 'live'); // the last display option wins, as in mtr
  });

  for (const [args, says] of [
    [['-a', 'somewhere'], /^vpsline: -a "somewhere": give an IPv4 or IPv6 address of this machine/],
    [['-I', 'eth0/1'], /^vpsline: -I "eth0\/1": an interface name is 1 to 15 characters/],
    [['-M', '7'], /^vpsline: -M\/--mark is not supported by vpsline: .*CAP_NET_ADMIN/],
    [['-L', '4000'], /^vpsline: -L\/--localport is not supported by vpsline: .*--flows/],
    [['-p'], /^vpsline: -p\/--split is not supported by vpsline: .*-l \(raw events\)/],
    [['-y', '1'], /^vpsline: -y 1 is not supported by vpsline: only -y 0/],
    [['-G', '0'], /^vpsline: grace time \(-G\) must be between 0 and 60 seconds/],
  ] as const) {
    it(`${args.join(' ')}: one line saying why, exit 2, nothing sent`, () => {
      const r = vpsline(...args, '-n', '-r', '-c', '1', '127.0.0.1');
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', says);
    });
  }
});
