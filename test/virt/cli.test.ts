// `vpsline virt` from the command line: --root/--probes read a fixture machine
// exactly as the library does, --lang zh speaks Chinese, mistakes get one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { detectVirt } from '../../src/virt/detect.js';
import { materialize } from './fixture.js';
import { scratchDir } from '../support/scratch.js';

const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;
const vpsline = (...args: string[]) => spawnSync(process.execPath, [bin, 'virt', ...args], { encoding: 'utf8' });

describe('vpsline virt', () => {
  const fx = materialize('lxc-in-kvm');
  after(() => fx.cleanup());

  test('--root/--probes --json gives the library answer for that machine', async () => {
    const r = vpsline('--root', fx.root, '--probes', fx.probesFile, '--json', '--steal', '0');
    assert.equal(r.status, 0, r.stderr);
    const cli = JSON.parse(r.stdout) as Record<string, unknown>;
    const lib = JSON.parse(JSON.stringify(await detectVirt({ source: fx.source, stealSampleMs: 0 }))) as Record<
      string,
      unknown
    >;
    assert.deepEqual(cli, lib);
    assert.equal((cli.container as { type: string }).type, 'lxc');
    assert.equal((cli.vm as { type: string }).type, 'kvm');
  });

  test('human output in English and Chinese, both layers named', () => {
    const en = vpsline('--root', fx.root, '--probes', fx.probesFile, '--steal', '0');
    assert.equal(en.status, 0, en.stderr);
    // It opens with what the seller's word means, before the evidence.
    const inShort = /^In short: a LXC container, inside a KVM[^\n]* virtual machine\.\nIt shares the host's kernel/;
    assert.match(en.stdout, inShort);
    assert.match(en.stdout, /^Container: lxc — LXC {2}\(confidence: high\)$/m);
    assert.match(en.stdout, /^Virtual machine: kvm — KVM/m);
    assert.match(en.stdout, /^ {2}Load kernel modules +no +LXC shares the host's kernel/m);
    const zh = vpsline('--root', fx.root, '--probes', fx.probesFile, '--steal', '0', '--lang', 'zh', '--brief');
    assert.equal(zh.status, 0, zh.stderr);
    assert.match(zh.stdout, /^简而言之：LXC 容器，运行在 KVM[^\n]* 虚拟机里。\n它与宿主共用内核/);
    assert.match(zh.stdout, /^容器层: lxc/m);
    assert.match(zh.stdout, /^对你意味着什么:/m);
    assert.match(zh.stdout, /与宿主共用内核/);
    assert.doesNotMatch(zh.stdout, /evidence:|依据:/, '--brief leaves the evidence out');
  });

  test('mistakes: one line, exit 2, no stack trace', () => {
    const dir = scratchDir('vpsline-virt-cli-');
    const badJson = join(dir, 'probes.json');
    writeFileSync(badJson, '{"cpuid": ');
    const cases: [string[], RegExp][] = [
      [['--root', join(dir, 'nope')], /--root .* does not exist/],
      [['--root', fx.root, '--probes', badJson], /Cannot read --probes/],
      [['--root', fx.root, '--probes', join(dir, 'missing.json')], /Cannot read --probes/],
      [['--probes', fx.probesFile], /--probes goes with --root/],
      [['--lang', 'fr'], /--lang must be en or zh/],
      [['--steal', '-5'], /--steal must be 0 to 60000/],
      [['--steal', 'soon'], /steal must be a number/],
      [['--dump', join(dir, 'd'), '--root', fx.root], /--dump saves this machine; it does not go with --root/],
      [['--dump-hostname'], /--dump-hostname goes with --dump/],
      [['--dump', dir], /--dump .* is not empty/],
    ];
    for (const [args, message] of cases) {
      const r = vpsline(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.equal(r.stdout, '');
    }
  });

  test('--dump on this machine, then --root on the dump: the same report as the live run', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vpsline-virt-dump-')), 'dump');
    try {
      const live = vpsline('--dump', dir, '--json', '--steal', '200');
      assert.equal(live.status, 0, live.stderr);
      assert.match(live.stderr, /Saved what was read to .*; read it back with: vpsline virt --root /);
      const replay = vpsline('--root', dir, '--json', '--steal', '200');
      assert.equal(replay.status, 0, replay.stderr);
      const [a, b] = [JSON.parse(live.stdout), JSON.parse(replay.stdout)] as Record<string, unknown>[];
      // The cut serials and UUIDs aside (test/virt/dump.test.ts), the whole report is the same.
      const verdict = (r: Record<string, unknown> | undefined) => [
        r?.container,
        r?.vm,
        (r?.provider as { id?: string } | undefined)?.id,
        r?.systemdTerms,
      ];
      assert.deepEqual(verdict(b), verdict(a));
      assert.deepEqual(b?.capabilities, a?.capabilities);
      const manifest = JSON.parse(readFileSync(join(dir, 'dump.json'), 'utf8')) as { format: string };
      assert.equal(manifest.format, 'vpsline-virt-dump');
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
});
