// `vpsline virt --dump`: what the check read, saved and read back. Every
// fixture machine is recorded as the detector reads it, written out as a
// dump (scrubbed), and read back: the report must be the same. The scrubbing
// keeps only `container=` of the environment, cuts serials and UUIDs, and
// masks the host name; a dump folder is refused unless new, and a dump of a
// newer format is refused with one line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { detectVirt } from '../../src/virt/detect.js';
import {
  cutIdentifier,
  DUMP_MANIFEST,
  IDENTIFIERS,
  openDump,
  RecordingSource,
  writeDump,
} from '../../src/virt/dump.js';
import { FixtureSource } from '../../src/virt/source.js';
import { environments, materialize } from './fixture.js';

const work = mkdtempSync(join(tmpdir(), 'vpsline-dump-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(work, `d${n++}`);
const plain = { vpsline: 'test', keepHostname: false, tools: {}, hostName: 'buyers-box-7' };

describe('a dump reads back as the machine it was made on', () => {
  for (const name of environments()) {
    test(name, async () => {
      const fx = materialize(name);
      try {
        const rec = new RecordingSource(fx.source);
        const live = await detectVirt({ source: rec, stealSampleMs: 1000 });
        const dir = freshDir();
        writeDump(dir, rec, plain);
        const source = openDump(dir);
        assert.ok(source, 'the folder is read as a dump');
        const replay = await detectVirt({ source, stealSampleMs: 1000 });
        // Evidence quoting a serial or UUID quotes it as the dump keeps it (cut); nothing else may differ.
        const asDumped = JSON.parse(JSON.stringify(live), function (this: Record<string, unknown>, key, value) {
          return key === 'value' && typeof value === 'string' && IDENTIFIERS.has(String(this.source))
            ? cutIdentifier(value)
            : value;
        }) as unknown;
        assert.deepEqual(JSON.parse(JSON.stringify(replay)), asDumped);
        assert.deepEqual(
          [replay.container.type, replay.vm.type, replay.provider.id, replay.systemdTerms],
          [live.container.type, live.vm.type, live.provider.id, live.systemdTerms],
        );
      } finally {
        fx.cleanup();
      }
    });
  }
});

describe('what a dump leaves out', () => {
  const machine = join(work, 'machine');
  const put = (path: string, text: string): void => {
    mkdirSync(dirname(join(machine, path)), { recursive: true });
    writeFileSync(join(machine, path), text);
  };
  put('/proc/1/environ', 'PATH=/usr/bin\0API_TOKEN=s3cret\0container=lxc\0HOME=/root\0');
  put('/sys/class/dmi/id/product_serial', 'VMware-56 4d 12 34\n');
  put('/sys/class/dmi/id/product_uuid', 'ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8\n');
  put('/proc/version', 'Linux version 6.1.0 (builder@buyers-box-7) #1 SMP\n');
  const source = new FixtureSource(machine, { commands: { dmesg: 'systemd[1]: Hostname set to <buyers-box-7>.\n' } });

  test('only container= of the environment, serials cut to three characters, the host name masked', () => {
    const rec = new RecordingSource(source);
    for (const path of [
      '/proc/1/environ',
      '/sys/class/dmi/id/product_serial',
      '/sys/class/dmi/id/product_uuid',
      '/proc/version',
    ])
      rec.read(path);
    rec.command('dmesg');
    const dir = freshDir();
    const manifest = writeDump(dir, rec, plain);
    const file = (path: string): string => readFileSync(join(dir, 'root', path), 'utf8');
    assert.equal(file('/proc/1/environ'), 'container=lxc\0');
    assert.equal(file('/sys/class/dmi/id/product_serial'), 'VMw000-00 00 00 00\n');
    assert.equal(file('/sys/class/dmi/id/product_uuid'), 'ec200000-0000-0000-0000-000000000000\n');
    assert.equal(file('/proc/version'), 'Linux version 6.1.0 (builder@HOSTNAME) #1 SMP\n');
    const probes = JSON.parse(readFileSync(join(dir, 'probes.json'), 'utf8')) as { commands: { dmesg: string } };
    assert.equal(probes.commands.dmesg, 'systemd[1]: Hostname set to <HOSTNAME>.\n');
    assert.equal(manifest.hostname, 'masked');
    const everything = JSON.stringify(probes) + ['/proc/1/environ', '/proc/version'].map(file).join('');
    assert.doesNotMatch(everything, /s3cret|buyers-box-7/);
  });

  test('--dump-hostname keeps the name', () => {
    const rec = new RecordingSource(source);
    rec.read('/proc/version');
    const dir = freshDir();
    writeDump(dir, rec, { ...plain, keepHostname: true });
    assert.match(readFileSync(join(dir, 'root', '/proc/version'), 'utf8'), /builder@buyers-box-7/);
  });

  test('a folder that is not empty is refused, and nothing is written into it', () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    assert.throws(() => writeDump(dir, new RecordingSource(source), plain), /is not empty/);
    assert.throws(() => readFileSync(join(dir, DUMP_MANIFEST)), /ENOENT/);
  });

  test('a dump of a newer format is refused with one line', () => {
    const dir = freshDir();
    writeDump(dir, new RecordingSource(source), plain);
    const manifestPath = join(dir, DUMP_MANIFEST);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: number };
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: 99 }));
    assert.throws(() => openDump(dir), /dump format version 99; this vpsline reads up to 1\. Update vpsline\./);
  });
});
