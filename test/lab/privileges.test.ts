// The privilege boundary on running commands started as root: `vpsline serve`
// on port 80 is looked at through /proc while it runs (every thread: uid,
// capability sets, no_new_privs) and still traces with the raw sockets it
// opened before the switch; `vpsline mtr` likewise. Ping sockets are closed in
// the namespace, so a trace that works proves the raw socket came across.
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkoutFor } from '../../lab/checkout.js';
import { Lab, labSkipReason, type Netns } from '../../lab/netns.js';
import { parseThreadStatus, type ThreadPrivileges, threadIsPrivileged } from '../../src/probe/handover.js';
import { serverBase } from '../support/serve-process.js';

const skip = labSkipReason();
const NOBODY = 65534;

/** The environment of a root shell: no VPSLINE_USER (the test runner sets it for the other tests). */
function rootEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'VPSLINE_USER' && !k.toLowerCase().startsWith('npm_')),
  );
  return { ...env, HOME: '/tmp', ...extra };
}

function threads(pid: number): ThreadPrivileges[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      return [parseThreadStatus(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/** An HTTP request made from inside `ns` (the server listens on the namespace's loopback). */
function fetchIn(ns: Netns, url: string, body?: unknown): { status: number; json: Record<string, unknown> } {
  const script =
    'const [url, body] = JSON.parse(process.argv[1]);' +
    "const init = body == null ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, " +
    'body: JSON.stringify(body) };' +
    'fetch(url, init).then(async (r) => console.log(JSON.stringify({ status: r.status, json: await r.json() })));';
  const out = ns.exec(process.execPath, ['-e', script, JSON.stringify([url, body])]);
  return JSON.parse(out) as { status: number; json: Record<string, unknown> };
}

/** Start a trace through the API and wait for its end: its status and how many hops answered. */
async function traceOnce(ns: Netns, base: string, target: string): Promise<{ status: string; answered: number }> {
  const started = fetchIn(ns, `${base}/api/v1/traces`, { target, count: 2, protocol: 'icmp' });
  assert.ok(started.status < 300, JSON.stringify(started));
  for (let i = 0; i < 60; i++) {
    const { json } = fetchIn(ns, `${base}/api/v1/traces/${started.json.id}`);
    const hubs = (json.report as { hubs: { 'Loss%': number }[] } | undefined)?.hubs ?? [];
    if (json.status !== 'running' && json.status !== 'queued')
      return { status: String(json.status), answered: hubs.filter((h) => h['Loss%'] < 100).length };
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error('the trace did not end');
}

describe('privilege boundary: commands started as root', { skip }, () => {
  const lab = new Lab();
  let ns: Netns;
  let dir: string;
  let bin: string;
  before(() => {
    ns = lab.namespace('priv');
    ns.sysctl('net.ipv4.ping_group_range', '1 0'); // no ping sockets: only raw ones can send ICMP
    bin = join(checkoutFor(NOBODY), 'bin', 'vpsline.js');
    dir = mkdtempSync(join(tmpdir(), 'vpsline-priv-'));
    chmodSync(dir, 0o755);
  });
  after(async () => {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(args: string[]): Promise<{ child: ChildProcess; base: string }> {
    const child = lab.spawn(ns, process.execPath, [bin, 'serve', '--allow', '127.0.0.0/8', '--allow-self', ...args], {
      env: rootEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return { child, base: await serverBase(child) };
  }

  test('serve on port 80 as root: every thread is nobody, no capability, NoNewPrivs, and it traces', async () => {
    const db = join(dir, 'store', 'lg.db'); // its folder does not exist yet
    const { child, base } = await serve(['--listen', '127.0.0.1:80', '--db', db]);
    const seen = threads(child.pid!);
    assert.ok(seen.length > 4, `only ${seen.length} threads`);
    for (const t of seen) {
      assert.deepEqual(t.uids, [NOBODY, NOBODY, NOBODY, NOBODY]);
      assert.deepEqual(t.caps, { CapInh: 0n, CapPrm: 0n, CapEff: 0n, CapBnd: 0n, CapAmb: 0n });
      assert.equal(t.noNewPrivs, true);
    }
    // The store was created for nobody, its folder too.
    for (const f of [join(dir, 'store'), db]) assert.equal(statSync(f).uid, NOBODY, f);
    // It still traces: raw ICMP, opened before the switch (ping sockets are closed here).
    assert.deepEqual(await traceOnce(ns, base, '127.0.0.1'), { status: 'done', answered: 1 });
    child.kill('SIGTERM');
  });

  test('a store root made earlier is handed to nobody, with what it holds', async () => {
    const folder = join(dir, 'handed');
    mkdirSync(folder);
    const db = join(folder, 'lg.db');
    const first = await serve(['--listen', '127.0.0.1:83', '--db', db, '--user', 'root']);
    const started = fetchIn(ns, `${first.base}/api/v1/traces`, { target: '127.0.0.1', count: 1, protocol: 'icmp' });
    const id = String(started.json.id);
    await new Promise((res) => setTimeout(res, 1500));
    const exited = new Promise((res) => first.child.once('exit', res));
    first.child.kill('SIGTERM');
    await exited;
    assert.equal(statSync(db).uid, 0, 'made by root');
    // Root without capabilities cannot write in a folder that is not its own: one line, not an internal error.
    chownSync(folder, NOBODY, NOBODY);
    const refused = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
        process.execPath,
        bin,
        'serve',
        '--listen',
        '127.0.0.1:84',
        '--db',
        join(folder, 'x.db'),
        '--user',
        'root',
      ],
      { encoding: 'utf8', env: rootEnv(), timeout: 30_000 },
    );
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /^vpsline: Cannot open the store .*x\.db as uid 0: .*see --user\)\.\n$/);
    // The folder is nobody's now: the default switch hands the store over and keeps what it holds.
    const second = await serve(['--listen', '127.0.0.1:83', '--db', db]);
    for (const f of [db, `${db}-wal`, `${db}-shm`].filter((f) => existsSync(f)))
      assert.equal(statSync(f).uid, NOBODY, f);
    assert.equal(threads(second.child.pid!)[0]!.uids[0], NOBODY);
    const again = fetchIn(ns, `${second.base}/api/v1/traces/${id}`);
    assert.equal(again.json.status, 'done', JSON.stringify(again.json).slice(0, 200));
    second.child.kill('SIGTERM');
  });

  test('--user root: uid 0 stays, but no thread holds a capability or may gain one, and it traces', async () => {
    const { child, base } = await serve(['--listen', '127.0.0.1:81', '--db', join(dir, 'root.db'), '--user', 'root']);
    for (const t of threads(child.pid!)) {
      assert.deepEqual(t.uids, [0, 0, 0, 0]);
      assert.deepEqual(t.caps, { CapInh: 0n, CapPrm: 0n, CapEff: 0n, CapBnd: 0n, CapAmb: 0n });
      assert.equal(t.noNewPrivs, true);
    }
    assert.deepEqual(await traceOnce(ns, base, '127.0.0.1'), { status: 'done', answered: 1 });
    child.kill('SIGTERM');
  });

  test('mtr as root: the running trace is nobody without capabilities, on the raw socket it opened first', async () => {
    const child = lab.spawn(
      ns,
      process.execPath,
      [bin, 'mtr', '--report', '--icmp-socket', 'raw', '-n', '-c', '40', '-i', '0.1', '127.0.0.1'],
      { env: rootEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((res) => child.once('exit', res));
    // The same pid re-executes itself: wait for the new image to have started its threads.
    let seen: ThreadPrivileges[] = [];
    for (let i = 0; i < 200 && !(seen.length > 4 && seen[0]!.uids[0] === NOBODY); i++) {
      await new Promise((res) => setTimeout(res, 20));
      seen = threads(child.pid!);
    }
    assert.ok(seen.length > 4, `no threads seen: ${err}`);
    for (const t of seen) {
      assert.deepEqual(t.uids, [NOBODY, NOBODY, NOBODY, NOBODY]);
      assert.equal(threadIsPrivileged(t), false);
      assert.equal(t.caps.CapBnd, 0n);
    }
    assert.equal(await exited, 0, err);
    assert.match(out, /^ {2}1\.\|-- 127\.0\.0\.1 +0\.0% +40 /m);
  });

  test('before the switch: refusals in one line, nothing half done; nobody gives way to root', () => {
    const run = (args: string[], cwdBin = bin, env: NodeJS.ProcessEnv = rootEnv()) =>
      spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, cwdBin, ...args], { encoding: 'utf8', env });
    const oneLine = (r: { stderr: string }): string => {
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      return r.stderr;
    };
    const mtr = ['mtr', '--report', '-c', '1', '127.0.0.1'];

    const noUser = run([...mtr, '--user', 'vpsline-no-such-user']);
    assert.equal(noUser.status, 2);
    assert.match(oneLine(noUser), /There is no user named vpsline-no-such-user: create one/);

    // The store in a folder only root may enter: refused before anything is created.
    const closed = mkdtempSync(join(tmpdir(), 'vpsline-closed-'));
    try {
      const r = run(['serve', '--listen', '127.0.0.1:82', '--db', join(closed, 'lg.db'), '--user', 'nobody']);
      assert.equal(r.status, 1);
      assert.match(oneLine(r), new RegExp(`user nobody, who cannot write in ${closed}.*chown nobody ${closed}`));
      assert.equal(existsSync(join(closed, 'lg.db')), false);

      // vpsline itself in a folder nobody cannot read (a checkout made with mktemp -d).
      const hidden = join(closed, 'vpsline');
      spawnSync('cp', ['-al', checkoutFor(NOBODY), hidden]);
      const unreadable = run([...mtr, '--user', 'nobody'], join(hidden, 'bin', 'vpsline.js'));
      assert.equal(unreadable.status, 1);
      assert.match(oneLine(unreadable), /user nobody, who cannot read vpsline's own files .*--user/);
      // Not named, nobody gives way to root without any capability, and says so.
      const fallback = run([...mtr, '-n'], join(hidden, 'bin', 'vpsline.js'));
      assert.equal(fallback.status, 0, fallback.stderr);
      assert.match(
        oneLine(fallback),
        /nobody cannot read vpsline's own files .* goes on as root without any capability/,
      );
      assert.match(fallback.stdout, /^ {2}1\.\|-- 127\.0\.0\.1 /m);
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }

    // A forged handover in a process that is still privileged is caught by the check after the switch.
    const forged = run(
      [...mtr, '--keep-capabilities'],
      bin,
      rootEnv({ VPSLINE_HANDOVER: '{"sockets":[],"failed":[]}' }),
    );
    assert.equal(forged.status, 1);
    assert.match(oneLine(forged), /still hold capabilities or lack no_new_privs after the switch/);
  });
});
