// How `vpsline mtr` ends, against 127.0.0.1 only: a reader that goes away
// (| head) ends it quietly the way it ends mtr (SIGPIPE, the shell's 141);
// a write error is one line and exit 1 (mtr: "write error", 1); a signal in
// the live view gives the terminal back and exits 128 + the signal's number.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('../../', import.meta.url).pathname;
const bin = `${root}bin/vpsline.js`;
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Run `vpsline mtr <args>` with stdout a pipe that the reader closes after its first line. */
function readFirstLine(
  args: string[],
): Promise<{ line: string; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'mtr', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let line = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.once('data', (d: Buffer) => {
      line = d.toString().split('\n')[0] ?? '';
      child.stdout.destroy(); // the reader goes away, as `head -1` does
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ line, code, signal, stderr });
    });
  });
}

describe('vpsline mtr: how it ends', () => {
  it('a closed pipe ends the raw stream quietly, by SIGPIPE as mtr ends', async () => {
    const r = await readFirstLine(['-l', '-n', '-c', '20', '-i', '0.05', '127.0.0.1']);
    assert.match(r.line, /^x 0 \d+$/);
    assert.equal(r.stderr, '');
    assert.equal(r.signal, 'SIGPIPE');
  });

  it('a report into a closed pipe: no stack trace either', async () => {
    // The reader goes away before the report comes: the report's write is the failing one.
    const child = spawn(process.execPath, [bin, 'mtr', '-r', '-n', '-c', '2', '-i', '0.2', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('close', (c, s) => resolve([c, s])),
    );
    assert.equal(stderr, '');
    assert.equal(signal, 'SIGPIPE', `exit code ${code}`);
  });

  it('a write error (/dev/full) is one line and exit 1, like mtr', { skip: !existsSync('/dev/full') }, () => {
    for (const format of ['-r', '-j', '-l']) {
      const r = spawnSync(
        'sh',
        ['-c', `exec "${process.execPath}" "${bin}" mtr ${format} -n -c 2 -i 0.05 127.0.0.1 > /dev/full`],
        { encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(r.status, 1, `${format}: ${r.stderr}`);
      assert.equal(r.stderr, 'vpsline: write error: No space left on device\n', format);
    }
  });

  it('-t draws the live view without a terminal and, with -c, ends by itself (exit 0)', () => {
    const r = spawnSync(process.execPath, [bin, 'mtr', '-t', '-n', '-c', '2', '-i', '0.1', '127.0.0.1'], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith('\x1b[?1049h'), 'entered the alternate screen');
    assert.ok(r.stdout.includes('  1. 127.0.0.1'), 'drew the hop');
    assert.ok(r.stdout.endsWith('\x1b[?25h\x1b[?1049l'), 'left it');
  });

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} in the live view restores the terminal and exits ${code}`, { skip: !hasScript }, async () => {
      // script(1) gives the view a terminal; -e returns the command's exit status.
      const child = spawn(
        'script',
        ['-qfec', `exec "${process.execPath}" "${bin}" mtr -n -i 0.1 127.0.0.1`, '/dev/null'],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let screen = '';
      child.stdout?.on('data', (d: Buffer) => {
        screen += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      try {
        for (let i = 0; i < 300 && !screen.includes('127.0.0.1'); i++) await sleep(50);
        assert.ok(screen.includes('\x1b[?1049h'), 'the view is on the alternate screen');
        assert.ok(screen.includes('127.0.0.1'), 'the view drew the trace (a 0x0 pty gets 80x24)');
        const view = viewPid(child);
        process.kill(view, signal);
        assert.equal(await exited, code);
        assert.ok(screen.endsWith('\x1b[?25h\x1b[?1049l'), `terminal restored: ${JSON.stringify(screen.slice(-40))}`);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }
});

/** The vpsline process under script(1): its only child (exec'd by the shell). */
function viewPid(script: ChildProcess): number {
  const children = readFileSync(`/proc/${script.pid}/task/${script.pid}/children`, 'utf8').trim().split(/\s+/);
  assert.equal(children.length, 1, `script's children: ${children.join(' ')}`);
  return Number(children[0]);
}
