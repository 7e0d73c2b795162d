// The live view under a pseudo-terminal (tmux): keys pressed, screen read
// back, window resized, terminal restored on q and on Ctrl-C.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { buildRouterChain, type RouterChain } from '../../lab/routers.js';
import { toolSkipReason } from '../../lab/tools.js';

const skip = labSkipReason() ?? toolSkipReason('tmux', 'tmux');
/** A private tmux server, so no one else's sessions are touched. */
const socket = `vl${randomBytes(4).toString('hex')}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = (s: string): string[] => tmux('capture-pane', '-p', '-t', s).split('\n');
const flags = (s: string): { alternate: boolean; cursor: boolean } => {
  const [a, c] = tmux('display', '-p', '-t', s, '#{alternate_on} #{cursor_flag}').trim().split(' ');
  return { alternate: a === '1', cursor: c === '1' };
};

/** Wait until the screen shows what `ok` looks for (the view redraws every 100 ms). */
async function until(s: string, ok: (lines: string[]) => boolean, what: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const lines = screen(s);
    if (ok(lines)) return lines;
    await sleep(100);
  }
  assert.fail(`screen never showed ${what}:\n${screen(s).join('\n')}`);
}

function sentAt(lines: string[], ttl: number): number {
  const row = lines.find((l) => l.startsWith(`${String(ttl).padStart(3)}. `));
  return row ? Number(row.trim().split(/\s+/)[3]) : NaN;
}

describe('live view in a terminal', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  before(() => {
    chain = buildRouterChain(lab, 2);
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {}
    await lab.close();
  });

  function open(name: string, args: string): void {
    const cmd =
      `ip netns exec ${chain.client.name} ${process.execPath} ${projectRoot}/bin/vpsline.js mtr ${args}; ` +
      'echo EXIT=$?; sleep 60';
    tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', cmd);
  }

  test('hops appear; d cycles to the strip chart; p pauses; r resets; resize redraws; q restores', async () => {
    open('main', `-n -i 0.05 ${chain.server4}`);
    let lines = await until(
      'main',
      (l) => l.some((x) => x.includes(chain.server4) && x.startsWith('  3.')),
      'the three hops',
    );
    assert.ok(lines[0]!.includes('vpsline mtr'));
    assert.match(lines[4]!, /^ Host +Loss% +Snt +Last +Avg +Best +Wrst StDev$/);
    for (const [i, addr] of chain.hops.v4.entries()) {
      assert.ok(
        lines.some((l) => l.startsWith(`  ${i + 1}. ${addr}`)),
        addr,
      );
    }
    assert.deepEqual(flags('main'), { alternate: true, cursor: false });

    tmux('send-keys', '-t', 'main', 'd');
    lines = await until(
      'main',
      (l) => /Host +Loss% +Snt +Last Jttr Javg Jmax Jint/.test(l[4] ?? ''),
      'the jitter columns',
    );
    tmux('send-keys', '-t', 'main', 'd');
    lines = await until(
      'main',
      (l) => (l[4] ?? '').includes('Latency') && /[▁▂▃▄▅▆▇█]{5}/.test(l[5] ?? ''),
      'the strip chart',
    );

    tmux('send-keys', '-t', 'main', 'd'); // back to statistics
    tmux('send-keys', '-t', 'main', 'p');
    lines = await until('main', (l) => (l[2] ?? '').includes('[paused]'), '[paused]');
    await sleep(300);
    const a = sentAt(screen('main'), 1);
    await sleep(600);
    assert.equal(sentAt(screen('main'), 1), a, 'no probes while paused');
    tmux('send-keys', '-t', 'main', 'r');
    lines = await until('main', (l) => sentAt(l, 1) === 0, 'Snt back to 0 after r');
    tmux('send-keys', '-t', 'main', 'p');
    await until('main', (l) => !(l[2] ?? '').includes('[paused]') && sentAt(l, 1) > 0, 'probing again');

    tmux('resize-window', '-t', 'main', '-x', '60', '-y', '15');
    lines = await until(
      'main',
      (l) => l[0]!.trim() === 'vpsline mtr  [v0.1.0]' && l[0]!.indexOf('v') < 20,
      'a redraw for 60 columns',
    );
    assert.ok(lines.every((l) => l.length <= 60));

    tmux('send-keys', '-t', 'main', 'q');
    lines = await until('main', (l) => l.some((x) => x.startsWith('EXIT=')), 'the exit');
    assert.ok(lines.includes('EXIT=0'));
    assert.deepEqual(flags('main'), { alternate: false, cursor: true });
  });

  test('Ctrl-C quits and restores the terminal', async () => {
    open('ctrlc', `-n -i 0.1 ${chain.server6}`);
    await until('ctrlc', (l) => l.some((x) => x.includes(chain.server6)), 'the destination');
    tmux('send-keys', '-t', 'ctrlc', 'C-c');
    const lines = await until('ctrlc', (l) => l.some((x) => x.startsWith('EXIT=')), 'the exit');
    assert.ok(lines.includes('EXIT=0'));
    assert.deepEqual(flags('ctrlc'), { alternate: false, cursor: true });
  });

  test('a report on a terminal shows its progress on stderr, then only the report', async () => {
    open('progress', `-r -n -c 8 -i 0.25 ${chain.server4}`);
    await until('progress', (l) => l.some((x) => /^vpsline: round [2-7] of 8 \.\.\.$/.test(x)), 'round progress');
    const lines = await until('progress', (l) => l.some((x) => x.startsWith('EXIT=')), 'the exit');
    assert.ok(lines.includes('EXIT=0'));
    assert.ok(
      lines.some((l) => l.startsWith('HOST: ')),
      'the report',
    );
    assert.ok(!lines.some((l) => l.includes('round')), 'the progress line is cleared');
  });

  test('with -c the view ends by itself after the cycles', async () => {
    open('cycles', `-n -c 3 -i 0.05 ${chain.server4}`);
    const lines = await until('cycles', (l) => l.some((x) => x.startsWith('EXIT=')), 'the exit');
    assert.ok(lines.includes('EXIT=0'));
    assert.deepEqual(flags('cycles'), { alternate: false, cursor: true });
  });
});
