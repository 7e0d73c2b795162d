// `vpsline mtr` as a user runs it: as uid 65534 with no capabilities, in a
// namespace with nothing but loopback (so no packet can leave the machine).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkoutFor, projectRoot as root } from '../../lab/checkout.js';
import { Lab, labSkipReason, type Netns } from '../../lab/netns.js';
import { unprivileged } from '../../lab/run-agent.js';

const skip = labSkipReason();
const NOBODY = 65534;
/** The CLI as `uid` can run it. */
const binFor = (uid = 0): string => join(checkoutFor(uid), 'bin', 'vpsline.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without npm's own settings (npm exports them to scripts it runs, `npm test` included). */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

function run(
  ns: Netns,
  args: string[],
  opts: { uid?: number; cwd?: string; cmd?: string; env?: NodeJS.ProcessEnv } = {},
): Run {
  let cmd = opts.cmd ?? process.execPath;
  let argv = opts.cmd ? args : [binFor(opts.uid), ...args];
  if (opts.uid !== undefined) [cmd, argv] = unprivileged(opts.uid, cmd, argv);
  const r = spawnSync('ip', ['netns', 'exec', ns.name, cmd, ...argv], {
    cwd: opts.cwd ?? checkoutFor(opts.uid ?? 0),
    encoding: 'utf8',
    env: { ...userEnv(), HOME: '/tmp', ...opts.env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const REPORT_HEADER = /^HOST: \S+ +Loss% +Snt +Last +Avg +Best +Wrst +StDev$/m;

describe('vpsline mtr from the command line', { skip }, () => {
  const lab = new Lab();
  let ns: Netns;
  before(() => {
    ns = lab.namespace('cli');
    ns.sysctl('net.ipv4.ping_group_range', '1 0'); // closed, like many hosts
  });
  after(() => lab.close());

  test('uid 65534, no capabilities, ping sockets closed: a report over UDP', () => {
    const r = run(ns, ['mtr', '--report', '-c', '3', '-i', '0.1', '127.0.0.1'], { uid: NOBODY });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Start: /);
    assert.match(r.stdout, REPORT_HEADER);
    assert.match(r.stdout, /^ {2}1\.\|-- (localhost|127\.0\.0\.1) +0\.0% +3 /m);
    assert.equal(r.stderr, '', 'the fallback note is for terminals only');
  });

  test('IPv6 loopback, wide and numeric', () => {
    const r = run(ns, ['mtr', '-rwn', '-c', '2', '-i', '0.1', '::1'], { uid: NOBODY });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}1\.\|-- ::1 +0\.0% +2 /m);
  });

  test('raw sockets refused: one paragraph with the cause and the remedy, exit 1, nothing on stdout', () => {
    const r = run(ns, ['mtr', '--report', '--icmp-socket', 'raw', '127.0.0.1'], { uid: NOBODY });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^vpsline: Cannot open a raw ICMP socket for IPv4 \(EPERM\)/);
    assert.match(lines[0]!, /CAP_NET_RAW/);
    assert.match(lines[0]!, /AmbientCapabilities=CAP_NET_RAW/);
    assert.match(lines[0]!, /Do not setcap the node binary/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('ICMP required but ping sockets closed: names ping_group_range and the sysctl', () => {
    const r = run(ns, ['mtr', '--report', '--icmp', '127.0.0.1'], { uid: NOBODY });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /ping_group_range/);
    assert.match(r.stderr, /"1 0"/);
    assert.match(r.stderr, /sysctl -w net\.ipv4\.ping_group_range="0 2147483647"/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });

  test('bad option values: one line, exit 2, nothing on stdout', () => {
    for (const args of [
      ['-c', '0'],
      ['-c', 'ten'],
      ['-m', '300'],
      ['-i', '-1'],
      ['-f', '9', '-m', '3'],
      ['-4', '-6'],
      ['-o', 'LQ'],
      ['--no-such-option'],
    ]) {
      const r = run(ns, ['mtr', '--report', ...args, '127.0.0.1']);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.ok(r.stderr.trim().split('\n').length <= 2, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  test('an unknown host: one line, exit 1', () => {
    const r = run(ns, ['mtr', '--report', 'no-such-host.invalid']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^vpsline: Failed to resolve host: no-such-host\.invalid/);
  });

  test('a family mismatch and no route: one line each', () => {
    const mismatch = run(ns, ['mtr', '--report', '-6', '127.0.0.1']);
    assert.equal(mismatch.status, 2);
    assert.match(mismatch.stderr, /is an IPv4 address/);
    const noRoute = run(ns, ['mtr', '--report', '-c', '1', '198.18.77.1']);
    assert.equal(noRoute.status, 1);
    assert.equal(noRoute.stdout, '');
    assert.match(noRoute.stderr, /^vpsline: No route to 198\.18\.77\.1/);
  });

  test('uid 65534 with only an ambient CAP_NET_RAW (what the systemd unit grants) uses raw sockets', () => {
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
        'setpriv',
        '--reuid',
        String(NOBODY),
        '--regid',
        String(NOBODY),
        '--clear-groups',
        '--inh-caps=+net_raw',
        '--ambient-caps=+net_raw',
        process.execPath,
        binFor(NOBODY),
        'mtr',
        '--report',
        '--icmp-socket',
        'raw',
        '-c',
        '2',
        '-i',
        '0.1',
        '127.0.0.1',
      ],
      { cwd: checkoutFor(NOBODY), encoding: 'utf8', env: { ...userEnv(), HOME: '/tmp' } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}1\.\|-- (localhost|127\.0\.0\.1) +0\.0% +2 /m);
  });

  test('`npx vpsline mtr --report 127.0.0.1` as uid 65534 in its own checkout', () => {
    // A non-root user clones and installs the package themselves; copy this
    // built checkout to a folder that uid 65534 owns to be that user.
    const dir = mkdtempSync(join(tmpdir(), 'vpsline-npx-'));
    try {
      const copy = join(dir, 'vpsline');
      cpSync(root, copy, {
        recursive: true,
        preserveTimestamps: true,
        filter: (src) => !src.includes('/test-artifacts'),
      });
      execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
      chownSync(dir, NOBODY, NOBODY);
      const r = run(ns, ['vpsline', 'mtr', '--report', '127.0.0.1'], {
        uid: NOBODY,
        cwd: copy,
        cmd: 'npx',
        env: {
          HOME: dir,
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
          npm_config_audit: 'false',
          npm_config_fund: 'false',
        },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, REPORT_HEADER);
      assert.match(r.stdout, /^ {2}1\.\|-- (localhost|127\.0\.0\.1) +0\.0% +10 /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
