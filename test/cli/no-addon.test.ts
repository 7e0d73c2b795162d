// A checkout whose native addon was never built (npm install --ignore-scripts,
// a failed compile): commands that probe say so in one line with the fix and
// exit 1; commands that do not probe still work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

describe('without the native addon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-noaddon-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const part of ['bin', 'dist', 'data', 'package.json'])
    cpSync(join(root, part), join(dir, part), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const vpsline = (...args: string[]) =>
    spawnSync(process.execPath, [join(dir, 'bin/vpsline.js'), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('mtr names the missing addon and the fix in one line, exit 1', () => {
    const r = vpsline('mtr', '-r', '-c', '1', '127.0.0.1');
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', /^vpsline: the vpsline native probe addon is not built .*Run `npm install`/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });

  it('classify needs no addon', () => {
    const r = vpsline('classify', '--json', join(root, 'test/route/fixtures/trippy-cn2-gia.json'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).verdict, 'cn2-gia');
  });
});
